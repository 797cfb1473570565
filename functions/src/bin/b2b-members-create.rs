//! Lambda function for the `b2b-members-create` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run("b2b-members-create").await
}
