//! Lambda function for the `sdk-passwords-email-reset-start` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_PASSWORDS_EMAIL_RESET_START).await
}
