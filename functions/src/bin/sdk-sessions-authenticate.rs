//! Lambda function for the `sdk-sessions-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_SESSIONS_AUTHENTICATE).await
}
