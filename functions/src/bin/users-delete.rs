//! Lambda function for the `users-delete` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("users-delete").await
}
