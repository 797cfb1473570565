//! Lambda function for the `b2b-passwords-existing-password-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::B2B_PASSWORDS_EXISTING_PASSWORD_RESET).await
}
