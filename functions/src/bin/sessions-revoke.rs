//! Lambda function for the `sessions-revoke` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("sessions-revoke").await
}
