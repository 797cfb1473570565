//! Lambda function for the `b2b-sessions-authenticate` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("b2b-sessions-authenticate").await
}
