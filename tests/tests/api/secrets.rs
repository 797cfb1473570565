//! Credentials from Secrets Manager, as the Lambda functions read them at cold start (the SAM
//! template creates both secrets). Against the emulator only: on the embedded backend there is
//! no Secrets Manager to ask, and these tests return early.

use latch::credentials::{from_secrets_manager, SecretIds};
use latch_tests::on_dynamo;

async fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&latch::bootstrap::aws_config().await.expect("the AWS settings"))
}

async fn put(client: &aws_sdk_secretsmanager::Client, value: &str) -> String {
    let name = format!("latch-test-{}", uuid_suffix());
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret");
    out.arn.unwrap()
}

fn uuid_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

const PEPPER: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"; // 32 bytes, base64url

#[tokio::test]
async fn reads_the_project_secret_and_the_pepper() {
    if !on_dynamo() {
        return;
    }
    let sm = client().await;
    let ids = SecretIds {
        project: put(&sm, r#"{"project_id": "project-live-abc", "secret": "s3cret-value"}"#).await,
        token_pepper: put(&sm, PEPPER).await,
    };
    let creds = from_secrets_manager(&sm, &ids).await.unwrap();
    assert_eq!(creds.project_id, "project-live-abc");
    assert_eq!(creds.secret, "s3cret-value");
    assert_eq!(creds.pepper_bytes().unwrap().len(), 32);
}

#[tokio::test]
async fn a_malformed_secret_stops_start_up_without_showing_its_value() {
    if !on_dynamo() {
        return;
    }
    let sm = client().await;
    let pepper = put(&sm, PEPPER).await;
    // Not JSON: the message names the secret, never its content.
    let not_json = put(&sm, "hunter2-not-json").await;
    let ids = SecretIds {
        project: not_json.clone(),
        token_pepper: pepper.clone(),
    };
    let err = from_secrets_manager(&sm, &ids).await.unwrap_err().to_string();
    assert!(err.contains(&not_json) && !err.contains("hunter2"), "{err}");
    // A pepper that is too short.
    let ids = SecretIds {
        project: put(&sm, r#"{"project_id": "p", "secret": "s"}"#).await,
        token_pepper: put(&sm, "c2hvcnQ").await,
    };
    let err = from_secrets_manager(&sm, &ids).await.unwrap_err().to_string();
    assert!(err.contains("16 bytes"), "{err}");
    // A secret that does not exist.
    let ids = SecretIds {
        project: "latch-no-such-secret".into(),
        token_pepper: pepper,
    };
    let err = from_secrets_manager(&sm, &ids).await.unwrap_err().to_string();
    assert!(err.contains("latch-no-such-secret"), "{err}");
}
