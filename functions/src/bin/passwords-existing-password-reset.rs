//! Lambda function for the `passwords-existing-password-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("passwords-existing-password-reset").await
}
