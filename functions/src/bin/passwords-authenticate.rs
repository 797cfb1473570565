//! Lambda function for the `passwords-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("passwords-authenticate").await
}
