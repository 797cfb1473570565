//! Lambda function for the `magic-links-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("magic-links-authenticate").await
}
