//! Lambda function for the `sdk-b2b-magic-links-email-login-or-signup` route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    latch_functions::run(&latch::handlers::routes::SDK_B2B_MAGIC_LINKS_EMAIL_LOGIN_OR_SIGNUP).await
}
