//! Lambda function for the `sdk-b2b-sessions-exchange` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_B2B_SESSIONS_EXCHANGE).await
}
