//! Lambda function for the `b2b-members-get` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::B2B_MEMBERS_GET).await
}
