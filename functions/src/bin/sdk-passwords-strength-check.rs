//! Lambda function for the `sdk-passwords-strength-check` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_PASSWORDS_STRENGTH_CHECK).await
}
