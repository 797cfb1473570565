//! Lambda function for the `b2b-magic-links-email-login-or-signup` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("b2b-magic-links-email-login-or-signup").await
}
