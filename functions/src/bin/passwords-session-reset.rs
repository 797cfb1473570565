//! Lambda function for the `passwords-session-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::PASSWORDS_SESSION_RESET).await
}
