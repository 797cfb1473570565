//! Lambda function for the `sdk-passwords-existing-password-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_PASSWORDS_EXISTING_PASSWORD_RESET).await
}
