//! Lambda function for the `sdk-events` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_EVENTS).await
}
