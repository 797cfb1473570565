//! Lambda function for the `sdk-magic-links-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_MAGIC_LINKS_AUTHENTICATE).await
}
