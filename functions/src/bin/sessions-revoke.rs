//! Lambda function for the `sessions-revoke` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SESSIONS_REVOKE).await
}
