//! Lambda function for the `passwords-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::PASSWORDS_AUTHENTICATE).await
}
