//! Lambda function for the `sdk-passwords-session-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_PASSWORDS_SESSION_RESET).await
}
