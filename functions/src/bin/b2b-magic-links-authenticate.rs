//! Lambda function for the `b2b-magic-links-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::B2B_MAGIC_LINKS_AUTHENTICATE).await
}
