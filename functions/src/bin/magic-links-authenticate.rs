//! Lambda function for the `magic-links-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::MAGIC_LINKS_AUTHENTICATE).await
}
