//! Lambda function for the `sdk-b2b-magic-links-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_B2B_MAGIC_LINKS_AUTHENTICATE).await
}
