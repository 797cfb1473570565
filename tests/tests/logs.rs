//! SECURITY.md H2 and X2: after full flows, the logs (captured at debug level, every crate)
//! hold no password, no SHA-1 of one, no session token or JWT, and no project secret.
//! Its own test binary, because it installs the process-wide log subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use latch_tests::{email, TestApp, SECRET};
use serde_json::json;
use sha1::Digest;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let app = TestApp::spawn().await;
    let e = email("logs");
    let (first, second) = (
        "first secret passphrase for the logs 1",
        "second secret passphrase for the logs 2",
    );
    let created = app.create_user(&e, first, Some(60)).await;
    app.login(&e, "a wrong password attempt", None).await;
    let login = app.login(&e, first, Some(60)).await.body;
    app.post(
        "/v1/sessions/authenticate",
        json!({"session_token": login["session_token"]}),
    )
    .await
    .assert_ok();
    app.post("/v1/passwords/email/reset/start", json!({"email": e}))
        .await
        .assert_ok();
    let mail = app.last_reset_email(&e).await;
    app.post(
        "/v1/passwords/email/reset",
        json!({"token": mail.reset_token, "password": second, "session_duration_minutes": 5}),
    )
    .await
    .assert_ok();
    app.send(
        reqwest::Method::GET,
        "/v1/users/x",
        None,
        Some(("p", "a-wrong-project-secret")),
    )
    .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("mail written to the outbox"), "the capture works: {logs}");
    let mut secrets: Vec<String> = vec![SECRET.into(), "a-wrong-project-secret".into()];
    for pw in [first, second, "a wrong password attempt"] {
        secrets.push(pw.into());
        let sha1 = hex::encode_upper(sha1::Sha1::digest(pw.as_bytes()));
        secrets.push(sha1.clone());
        secrets.push(sha1.to_lowercase());
        secrets.push(sha1[5..].to_string());
    }
    for body in [&created, &login] {
        secrets.push(body["session_token"].as_str().unwrap().into());
        secrets.push(body["session_jwt"].as_str().unwrap().into());
    }
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
}
