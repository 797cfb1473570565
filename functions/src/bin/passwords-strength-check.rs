//! Lambda function for the `passwords-strength-check` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::PASSWORDS_STRENGTH_CHECK).await
}
