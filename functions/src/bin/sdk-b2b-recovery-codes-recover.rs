//! Lambda function for the `sdk-b2b-recovery-codes-recover` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_B2B_RECOVERY_CODES_RECOVER).await
}
