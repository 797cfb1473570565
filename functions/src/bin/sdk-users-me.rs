//! Lambda function for the `sdk-users-me` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_USERS_ME).await
}
