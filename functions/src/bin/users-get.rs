//! Lambda function for the `users-get` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::USERS_GET).await
}
