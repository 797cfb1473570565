//! What every Lambda binary does: build the state once at cold start, mount its one route, and
//! hand the router to `lambda_http`. Each binary names its route's constant
//! (`latch::handlers::routes::PASSWORDS_AUTHENTICATE`, …) rather than looking it up by name, so
//! the linker keeps that route's handler and drops the other routes'.

use latch::bootstrap;

/// Run the function for `route` until the runtime stops it.
pub async fn run(route: &'static latch::handlers::routes::Route) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let data_dir = bootstrap::data_dir_from_env();
    let (state, _, _) = bootstrap::from_env(&data_dir).await?;
    lambda_http::run(latch::router_for(state, route)).await
}
