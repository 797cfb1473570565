//! Lambda function for the `passwords-email-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::PASSWORDS_EMAIL_RESET).await
}
