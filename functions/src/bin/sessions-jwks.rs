//! Lambda function for the `sessions-jwks` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SESSIONS_JWKS).await
}
