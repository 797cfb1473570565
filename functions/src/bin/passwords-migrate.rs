//! Lambda function for the `passwords-migrate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("passwords-migrate").await
}
