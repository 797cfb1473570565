//! Lambda function for the `passwords-session-reset` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("passwords-session-reset").await
}
