//! Lambda function for the `sessions-jwks` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("sessions-jwks").await
}
