//! Lambda function for the `passwords-existing-password-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::PASSWORDS_EXISTING_PASSWORD_RESET).await
}
