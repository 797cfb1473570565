//! Lambda function for the `sdk-bootstrap` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_BOOTSTRAP).await
}
