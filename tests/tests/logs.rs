//! docs/security.md H2 and X2: after full flows, the logs (captured at debug level, every crate)
//! hold no password, no SHA-1 of one, no session token or JWT, and no project secret; and with
//! the outbox off (SES, or any other mailer) no emailed token either. The local outbox logs its
//! messages' links on purpose (shared/src/mail/outbox.rs: on one machine the file holds them in
//! clear anyway), so on SQLite the emailed tokens are checked on a second app whose mailer is
//! not the outbox; on DynamoDB (`LATCH_TEST_BACKEND=dynamodb`) the mailer is SES throughout.
//! Its own test binary, because it installs the process-wide log subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use latch::mail::{MailError, Mailer, Message};
use latch_tests::{email, on_dynamo, ResetEmail, TestApp, SECRET};
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

/// A mailer that is not the outbox: it keeps the messages, as a provider would deliver them.
#[derive(Default)]
struct Delivered(Mutex<Vec<Message>>);

#[async_trait::async_trait]
impl Mailer for Delivered {
    async fn send(&self, message: &Message) -> Result<String, MailError> {
        self.0.lock().unwrap().push(message.clone());
        Ok("delivered".into())
    }
}

/// The newest reset email to `to`, from the app's own mail (outbox or SES) or from `delivered`.
async fn last_mail(app: &TestApp, delivered: Option<&Delivered>, to: &str) -> ResetEmail {
    match delivered {
        None => app.last_reset_email(to).await,
        Some(d) => {
            let text =
                d.0.lock()
                    .unwrap()
                    .iter()
                    .rev()
                    .find(|m| m.to == to)
                    .unwrap()
                    .text
                    .clone();
            ResetEmail::parse(text)
        }
    }
}

/// Every emailed-token flow of the consumer API: a reset started and its "log in without
/// password" link redeemed, then another reset completed. Returns the emailed tokens and the
/// session tokens and JWTs the flows answered.
async fn emailed_token_flows(app: &TestApp, delivered: Option<&Delivered>, password: &str) -> Vec<String> {
    let e = email("mailed");
    let mut secrets = vec![];
    app.create_user(&e, "a first passphrase for the mailed flows 3", None)
        .await;
    app.reset_start(&e, json!({})).await.assert_ok();
    let first = last_mail(app, delivered, &e).await;
    let login = app
        .magic_link_authenticate(&first.login_token, json!({"session_duration_minutes": 5}))
        .await;
    let login = login.assert_ok().clone();
    app.reset_start(&e, json!({})).await.assert_ok();
    let second = last_mail(app, delivered, &e).await;
    assert_ne!(first.reset_token, second.reset_token);
    let reset = app
        .email_reset(&second.reset_token, password, json!({"session_duration_minutes": 5}))
        .await;
    let reset = reset.assert_ok().clone();
    for mail in [&first, &second] {
        secrets.extend([mail.reset_token.clone(), mail.login_token.clone()]);
    }
    for body in [&login, &reset] {
        secrets.push(body["session_token"].as_str().unwrap().into());
        secrets.push(body["session_jwt"].as_str().unwrap().into());
    }
    secrets
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

    // On SQLite the app's mailer is the outbox, on DynamoDB SES.
    let app = TestApp::spawn().await;
    let outbox_on = !on_dynamo();
    let e = email("logs");
    let (first, second, third) = (
        "first secret passphrase for the logs 1",
        "second secret passphrase for the logs 2",
        "third secret passphrase for the logs 3",
    );
    let created = app.create_user(&e, first, Some(60)).await;
    app.login(&e, "a wrong password attempt", None).await;
    let login = app.login(&e, first, Some(60)).await.body;
    app.assert_session_alive(&login).await;
    let mail = app.start_reset(&e).await;
    app.email_reset(&mail.reset_token, second, json!({"session_duration_minutes": 5}))
        .await
        .assert_ok();
    app.send(
        reqwest::Method::GET,
        "/v1/users/x",
        None,
        Some(("p", "a-wrong-project-secret")),
    )
    .await;

    // The emailed tokens of an app whose mailer is not the outbox must not be logged either.
    let mut mailed = vec![];
    if outbox_on {
        let delivered = Arc::new(Delivered::default());
        let quiet = TestApp::spawn_custom(&[], Some(delivered.clone())).await;
        mailed.extend(emailed_token_flows(&quiet, Some(&delivered), third).await);
    } else {
        mailed.extend([mail.reset_token.clone(), mail.login_token.clone()]);
        mailed.extend(emailed_token_flows(&app, None, third).await);
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works: it holds events from inside the app's request spans.
    assert!(
        logs.contains("path=/v1/passwords/email/reset/start"),
        "the capture works: {logs}"
    );
    if outbox_on {
        assert!(logs.contains("mail written to the outbox"), "the capture works: {logs}");
    }
    let mut secrets: Vec<String> = vec![SECRET.into(), "a-wrong-project-secret".into()];
    for pw in [first, second, third, "a wrong password attempt"] {
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
    assert!(mailed.len() >= 8, "{mailed:?}");
    secrets.extend(mailed);
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
    }
}
