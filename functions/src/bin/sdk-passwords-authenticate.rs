//! Lambda function for the `sdk-passwords-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_PASSWORDS_AUTHENTICATE).await
}
