//! Lambda function for the `sdk-sessions-revoke` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_SESSIONS_REVOKE).await
}
