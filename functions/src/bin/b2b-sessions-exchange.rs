//! Lambda function for the `b2b-sessions-exchange` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::B2B_SESSIONS_EXCHANGE).await
}
