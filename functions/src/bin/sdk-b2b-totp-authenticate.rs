//! Lambda function for the `sdk-b2b-totp-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_B2B_TOTP_AUTHENTICATE).await
}
