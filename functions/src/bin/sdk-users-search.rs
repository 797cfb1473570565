//! Lambda function for the `sdk-users-search` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_USERS_SEARCH).await
}
