//! Lambda function for the `passwords-email-reset-start` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("passwords-email-reset-start").await
}
