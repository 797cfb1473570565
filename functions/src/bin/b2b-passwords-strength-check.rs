//! Lambda function for the `b2b-passwords-strength-check` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::B2B_PASSWORDS_STRENGTH_CHECK).await
}
