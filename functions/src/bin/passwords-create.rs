//! Lambda function for the `passwords-create` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::PASSWORDS_CREATE).await
}
