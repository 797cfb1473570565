//! Lambda function for the `passwords-strength-check` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("passwords-strength-check").await
}
