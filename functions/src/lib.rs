//! What every Lambda binary does: build the state once at cold start, mount its one route from
//! the shared table, and hand the router to `lambda_http`.

use latch::bootstrap;

/// Run the function for route `name` until the runtime stops it.
pub async fn run(name: &str) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let route = latch::handlers::routes::by_name(name).ok_or_else(|| format!("no route named {name}"))?;
    let data_dir = bootstrap::data_dir_from_env();
    let (state, _, _) = bootstrap::from_env(&data_dir).await?;
    lambda_http::run(latch::router_for(state, route)).await
}
