//! Lambda function for the `sdk-b2b-passwords-email-reset-start` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_B2B_PASSWORDS_EMAIL_RESET_START).await
}
