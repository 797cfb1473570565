//! Password reset by email, the magic link, existing-password and session resets (issue 3):
//! every flow end to end through the outbox (docs/security.md R1–R6, L3, L4, F2).

use std::sync::Arc;

use latch::domain::pkce::CodeChallenge;
use latch_tests::{email, TestApp, STRONG};
use serde_json::json;
use tokio::task::JoinSet;

const NEW: &str = "a brand new passphrase: plum kettle orbit 77";

/// A spawned app with a user (password `STRONG`) at a fresh address tagged `tag`.
async fn app_with_user(tag: &str) -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let e = email(tag);
    app.create_user(&e, STRONG, None).await;
    (app, e)
}

#[tokio::test]
async fn email_reset_end_to_end_revokes_every_session() {
    // R4: start → read the .eml → reset → log in with the new password; old sessions are gone.
    let app = TestApp::spawn().await;
    let e = email("reset");
    let a = app.create_user(&e, STRONG, Some(60)).await;
    let b = app.login(&e, STRONG, Some(60)).await.body;
    let started = app.reset_start(&e, json!({})).await;
    assert_eq!(started.assert_ok()["user_id"], a["user_id"]);
    assert_eq!(started.body["email_id"], a["email_id"]);

    let mail = app.last_reset_email(&e).await;
    // The outbox keeps the whole message; the SES emulator only the HTML part.
    if !app.backend.is_dynamo() {
        assert!(mail.eml.contains("Content-Type: multipart/alternative"));
        assert!(mail.eml.contains("text/plain") && mail.eml.contains("text/html"));
    }
    assert!(mail.eml.contains("expires in 30 minutes"));
    assert!(mail
        .reset_url
        .starts_with("http://localhost:3000/authenticate?stytch_token_type=reset_password&token="));
    assert!(mail
        .login_url
        .starts_with("http://localhost:3000/authenticate?stytch_token_type=magic_links&token="));
    assert!(mail.reset_token.len() >= 22, "at least 128 bits");

    let done = app
        .email_reset(&mail.reset_token, NEW, json!({"session_duration_minutes": 30}))
        .await;
    let body = done.assert_ok();
    assert_eq!(
        body["user"]["emails"][0]["verified"], true,
        "the reset proved the email"
    );
    let fresh = body.clone();
    app.assert_session_gone(&a).await;
    app.assert_session_gone(&b).await;
    app.assert_session_alive(&fresh).await;
    app.login(&e, NEW, None).await.assert_ok();
    app.login(&e, STRONG, None)
        .await
        .assert_error(401, "unauthorized_credentials");
    // R3: used once.
    app.email_reset(&mail.reset_token, "yet another fine passphrase 88", json!({}))
        .await
        .assert_error(401, "unable_to_auth_password_reset_token");
}

#[tokio::test]
async fn a_reset_applies_the_policy_without_burning_the_token() {
    let (app, e) = app_with_user("policy").await;
    let mail = app.start_reset(&e).await;
    app.email_reset(&mail.reset_token, "password1", json!({}))
        .await
        .assert_error(400, "weak_password");
    let leaked = "leaked phrase known to the stub 31";
    app.hibp.mark_breached(leaked);
    app.email_reset(&mail.reset_token, leaked, json!({}))
        .await
        .assert_error(400, "breached_password");
    app.email_reset(&mail.reset_token, NEW, json!({})).await.assert_ok();
}

#[tokio::test]
async fn email_reset_clears_a_lock_and_a_pending_reset() {
    // L3 and the pending reset_password: a completed email reset restores access.
    let app = TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "2"), ("LATCH_BREACH_CHECK_ON_CREATE", "false")]).await;
    let e = email("unlock");
    let pw = "strong but about to be breached phrase 5";
    app.create_user(&e, pw, None).await;
    app.hibp.mark_breached(pw);
    app.login(&e, pw, None).await.assert_error(401, "reset_password");
    for _ in 0..2 {
        app.login(&e, "wrong", None)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    app.login(&e, NEW, None).await.assert_error(429, "too_many_requests");
    let mail = app.start_reset(&e).await;
    app.email_reset(&mail.reset_token, NEW, json!({})).await.assert_ok();
    let ok = app.login(&e, NEW, None).await;
    assert_eq!(ok.assert_ok()["user"]["is_locked"], false);
    assert_eq!(ok.body["user"]["password"]["requires_reset"], false);
}

#[tokio::test]
async fn the_magic_link_logs_in_once_and_leaves_a_pending_reset_pending() {
    // R6
    let app = TestApp::spawn_with(&[("LATCH_BREACH_CHECK_ON_CREATE", "false")]).await;
    let e = email("magic");
    let pw = "strong phrase that will be breached 6";
    let created = app.create_user(&e, pw, None).await;
    app.hibp.mark_breached(pw);
    app.login(&e, pw, None).await.assert_error(401, "reset_password");
    let mail = app.start_reset(&e).await;
    let a = app
        .magic_link_authenticate(&mail.login_token, json!({"session_duration_minutes": 60}))
        .await;
    let body = a.assert_ok();
    assert_eq!(body["user_id"], created["user_id"]);
    assert_eq!(body["method_id"], created["email_id"]);
    // The email's first proof, with a password set before it: other sessions are revoked
    // (account pre-hijacking, tests/tests/api/hijack.rs).
    assert_eq!(body["reset_sessions"], true);
    let factor = &body["session"]["authentication_factors"][0];
    assert_eq!(
        (factor["type"].as_str(), factor["delivery_method"].as_str()),
        (Some("magic_link"), Some("email"))
    );
    assert_eq!(factor["email_factor"]["email_address"], e);
    app.magic_link_authenticate(&mail.login_token, json!({}))
        .await
        .assert_error(401, "unable_to_auth_magic_link");
    app.login(&e, pw, None).await.assert_error(401, "reset_password");
    // The two tokens are not interchangeable.
    app.magic_link_authenticate(&mail.reset_token, json!({}))
        .await
        .assert_error(401, "unable_to_auth_magic_link");
}

#[tokio::test]
async fn existing_password_reset_needs_the_current_password_and_revokes_all() {
    let app = TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "3")]).await;
    let e = email("existing");
    let a = app.create_user(&e, STRONG, Some(60)).await;
    let b = app.login(&e, STRONG, Some(60)).await.body;
    let ok = app
        .post(
            "/v1/passwords/existing_password/reset",
            json!({"email": e, "existing_password": STRONG, "new_password": NEW, "session_duration_minutes": 10}),
        )
        .await;
    let fresh = ok.assert_ok().clone();
    app.assert_session_gone(&a).await;
    app.assert_session_gone(&b).await;
    app.assert_session_alive(&fresh).await;
    app.login(&e, NEW, None).await.assert_ok();
    app.existing_password_reset(&e, NEW, "password")
        .await
        .assert_error(400, "weak_password");
    // A wrong current password counts toward the lock.
    for _ in 0..3 {
        app.existing_password_reset(&e, "wrong", STRONG)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    app.login(&e, NEW, None).await.assert_error(429, "too_many_requests");
    app.existing_password_reset(&email("nobody"), "x", NEW)
        .await
        .assert_error(404, "email_not_found");
}

#[tokio::test]
async fn session_reset_keeps_the_session_and_revokes_the_others() {
    let app = TestApp::spawn().await;
    let e = email("sessreset");
    let other = app.create_user(&e, STRONG, Some(60)).await;
    let current = app.login(&e, STRONG, Some(60)).await.body;
    let r = app.session_reset(&current, NEW).await;
    assert_eq!(r.assert_ok()["session"]["session_id"], current["session"]["session_id"]);
    app.assert_session_alive(&current).await;
    app.assert_session_gone(&other).await;
    app.login(&e, NEW, None).await.assert_ok();

    // Only a recent password or email proof may reset.
    let stale = app.login(&e, NEW, Some(60)).await.body;
    app.clock.advance(chrono::Duration::minutes(6));
    app.post(
        "/v1/passwords/session/reset",
        json!({"password": STRONG, "session_jwt": stale["session_jwt"]}),
    )
    .await
    .assert_error(400, "session_too_old_to_reset_password");
    app.post("/v1/passwords/session/reset", json!({"password": STRONG}))
        .await
        .assert_error(400, "no_session_arguments");
    let recent = app.login(&e, NEW, Some(60)).await.body;
    app.session_reset(&recent, "password")
        .await
        .assert_error(400, "weak_password");
}

#[tokio::test]
async fn reset_tokens_expire_on_the_clock() {
    // R2: expiry is checked in code, whatever the store still holds.
    let (app, e) = app_with_user("expiry").await;
    let mail = app.start_reset(&e).await;
    app.clock.advance(chrono::Duration::minutes(30));
    app.email_reset(&mail.reset_token, NEW, json!({}))
        .await
        .assert_error(401, "unable_to_auth_password_reset_token");
    app.magic_link_authenticate(&mail.login_token, json!({}))
        .await
        .assert_error(401, "unable_to_auth_magic_link");

    app.reset_start(&e, json!({"reset_password_expiration_minutes": 10}))
        .await
        .assert_ok();
    let mail = app.last_reset_email(&e).await;
    assert!(mail.eml.contains("expires in 10 minutes"));
    app.clock.advance(chrono::Duration::minutes(9));
    app.email_reset(&mail.reset_token, NEW, json!({})).await.assert_ok();
    for bad in [4, 10_081] {
        app.reset_start(&e, json!({"reset_password_expiration_minutes": bad}))
            .await
            .assert_error(400, "invalid_expiration");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_redemptions_succeed_once() {
    // R3, for both tokens of one email.
    let (app, e) = app_with_user("race-reset").await;
    let app = Arc::new(app);
    let mail = app.start_reset(&e).await;
    // The magic link first: the completed reset kills its sibling link (R7).
    for (path, token) in [
        ("/v1/magic_links/authenticate", &mail.login_token),
        ("/v1/passwords/email/reset", &mail.reset_token),
    ] {
        let mut set = JoinSet::new();
        for i in 0..20 {
            let (app, token) = (app.clone(), token.clone());
            set.spawn(async move {
                app.post(path, json!({"token": token, "password": format!("{NEW} variant {i}")}))
                    .await
                    .status
            });
        }
        let mut ok = 0;
        while let Some(status) = set.join_next().await {
            let status = status.unwrap();
            assert!(status == 200 || status == 401, "{path}: {status}");
            ok += usize::from(status == 200);
        }
        assert_eq!(ok, 1, "{path}");
    }
}

#[tokio::test]
async fn pkce_binds_the_reset_to_the_starting_client() {
    // R5
    let (app, e) = app_with_user("pkce").await;
    let verifier = "a-very-secret-code-verifier-that-is-long-enough-0123456789";
    let challenge = CodeChallenge::of_verifier(verifier);
    app.reset_start(&e, json!({"code_challenge": challenge}))
        .await
        .assert_ok();
    let mail = app.last_reset_email(&e).await;
    app.email_reset(&mail.reset_token, NEW, json!({}))
        .await
        .assert_error(400, "pkce_expected_code_verifier");
    app.email_reset(&mail.reset_token, NEW, json!({"code_verifier": "wrong-verifier"}))
        .await
        .assert_error(401, "pkce_mismatch");
    app.email_reset(&mail.reset_token, NEW, json!({"code_verifier": verifier}))
        .await
        .assert_ok();

    let mail = app.start_reset(&e).await;
    app.email_reset(&mail.reset_token, STRONG, json!({"code_verifier": verifier}))
        .await
        .assert_error(400, "pkce_did_not_expect_code_verifier");
    app.reset_start(&e, json!({"code_challenge": "too-short"}))
        .await
        .assert_error(400, "invalid_pkce_code_challenge");
}

#[tokio::test]
async fn options_can_require_the_same_ip_and_user_agent() {
    let (app, e) = app_with_user("attrs").await;
    let attributes = json!({"ip_address": "203.0.113.7", "user_agent": "Browser/1"});
    app.reset_start(&e, json!({"attributes": attributes})).await.assert_ok();
    let mail = app.last_reset_email(&e).await;
    let options = json!({"ip_match_required": true, "user_agent_match_required": true});
    app.email_reset(
        &mail.reset_token,
        NEW,
        json!({"options": options, "attributes": {"ip_address": "198.51.100.1", "user_agent": "Browser/1"}}),
    )
    .await
    .assert_error(401, "attribute_mismatch");
    app.email_reset(
        &mail.reset_token,
        NEW,
        json!({"options": options, "attributes": attributes}),
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn redirect_urls_come_from_the_allow_list() {
    // R5: never the Host header; an unlisted URL sends nothing.
    let app = TestApp::spawn_with(&[
        ("LATCH_RESET_PASSWORD_REDIRECT_URL", "https://app.example.com/reset"),
        ("LATCH_LOGIN_REDIRECT_URL", "https://app.example.com/login"),
        (
            "LATCH_REDIRECT_URLS",
            "https://app.example.com/reset,https://app.example.com/login,https://app.example.com/alt",
        ),
    ])
    .await;
    let e = email("redirect");
    app.create_user(&e, STRONG, None).await;
    let resp = app
        .http
        .post(format!("{}/v1/passwords/email/reset/start", app.base))
        .basic_auth(latch_tests::PROJECT_ID, Some(latch_tests::SECRET))
        .header("host", "evil.example.net")
        .json(&json!({"email": e}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mail = app.last_reset_email(&e).await;
    assert!(mail
        .reset_url
        .starts_with("https://app.example.com/reset?stytch_token_type=reset_password&token="));
    assert!(mail
        .login_url
        .starts_with("https://app.example.com/login?stytch_token_type=magic_links&token="));
    let sent = app.mail_to(&e).await.len();
    app.reset_start(
        &e,
        json!({"reset_password_redirect_url": "https://evil.example.net/reset"}),
    )
    .await
    .assert_error(400, "invalid_password_reset_redirect_url");
    app.reset_start(&e, json!({"login_redirect_url": "https://evil.example.net/login"}))
        .await
        .assert_error(400, "invalid_login_redirect_url");
    assert_eq!(app.mail_to(&e).await.len(), sent, "nothing sent for a refused URL");
    app.reset_start(
        &e,
        json!({"reset_password_redirect_url": "https://app.example.com/alt"}),
    )
    .await
    .assert_ok();
    assert!(app
        .last_reset_email(&e)
        .await
        .reset_url
        .starts_with("https://app.example.com/alt?"));
}

#[tokio::test]
async fn reset_start_is_rate_limited_per_address() {
    // L4
    let app = TestApp::spawn_with(&[("LATCH_RESET_START_LIMIT", "3")]).await;
    let (e, other) = (email("flood"), email("flood-other"));
    app.create_user(&e, STRONG, None).await;
    app.create_user(&other, STRONG, None).await;
    for _ in 0..3 {
        app.reset_start(&e, json!({})).await.assert_ok();
    }
    app.reset_start(&e, json!({}))
        .await
        .assert_error(429, "too_many_requests");
    assert_eq!(app.mail_to(&e).await.len(), 3);
    app.reset_start(&other, json!({})).await.assert_ok();
    app.clock.advance(chrono::Duration::hours(1));
    app.reset_start(&e, json!({})).await.assert_ok();
}

#[tokio::test]
async fn unknown_address_is_email_not_found() {
    let app = TestApp::spawn().await;
    let nobody = email("nobody");
    app.reset_start(&nobody, json!({}))
        .await
        .assert_error(404, "email_not_found");
    app.reset_start("bad", json!({}))
        .await
        .assert_error(400, "invalid_email");
    assert!(app.mail_to(&nobody).await.is_empty());
}

#[tokio::test]
async fn emailed_tokens_rest_only_as_digests() {
    // R1
    let (app, e) = app_with_user("digests").await;
    let mail = app.start_reset(&e).await;
    assert_eq!(app.token_count().await, 2);
    let bytes = app.store_dump().await;
    for t in [&mail.reset_token, &mail.login_token] {
        assert!(
            !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
            "raw token in the store"
        );
    }
}

/// A mailer that takes its time, like a real mail service.
struct SlowMailer(std::time::Duration);

#[async_trait::async_trait]
impl latch::mail::Mailer for SlowMailer {
    async fn send(&self, _: &latch::mail::Message) -> Result<String, latch::mail::MailError> {
        tokio::time::sleep(self.0).await;
        Ok("sent".into())
    }
}

#[tokio::test]
async fn an_unknown_address_is_answered_no_faster_than_a_known_one() {
    // Reset-start must not tell, by its latency, whether an address has an account: the unknown
    // path waits as long as sending usually takes. (A lower bound: a slow machine only adds.)
    let send = std::time::Duration::from_millis(400);
    let app = TestApp::spawn_custom(&[], Some(Arc::new(SlowMailer(send)))).await;
    let known = email("latency-known");
    app.create_user(&known, STRONG, None).await;
    app.reset_start(&known, json!({})).await.assert_ok();
    let started = std::time::Instant::now();
    app.reset_start(&email("latency-unknown"), json!({}))
        .await
        .assert_error(404, "email_not_found");
    assert!(
        started.elapsed() >= send,
        "unknown address answered in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unknown_locale_is_refused() {
    let (app, e) = app_with_user("locale").await;
    app.reset_start(&e, json!({"locale": "de"}))
        .await
        .assert_error(400, "invalid_locale");
    app.reset_start(&e, json!({"locale": "pt-br"})).await.assert_ok();
}

#[tokio::test]
async fn r7_a_completed_email_reset_kills_the_older_mails_links_and_its_own_magic_link() {
    let (app, e) = app_with_user("r7email").await;
    let t1 = app.start_reset(&e).await;
    let t2 = app.start_reset(&e).await;
    assert_ne!(t1.reset_token, t2.reset_token);
    app.email_reset(&t2.reset_token, NEW, json!({})).await.assert_ok();
    app.assert_reset_mail_dead(&t1).await;
    // The sibling of the link just used dies with it.
    app.magic_link_authenticate(&t2.login_token, json!({}))
        .await
        .assert_error(401, "unable_to_auth_magic_link");
    app.login(&e, NEW, None).await.assert_ok();
    // A mail sent after the change works.
    let t3 = app.start_reset(&e).await;
    app.magic_link_authenticate(&t3.login_token, json!({}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn r7_an_existing_password_reset_kills_outstanding_links() {
    let (app, e) = app_with_user("r7existing").await;
    let mail = app.start_reset(&e).await;
    app.existing_password_reset(&e, STRONG, NEW).await.assert_ok();
    app.assert_reset_mail_dead(&mail).await;
    app.login(&e, NEW, None).await.assert_ok();
}

#[tokio::test]
async fn r7_a_session_reset_kills_outstanding_links() {
    let app = TestApp::spawn().await;
    let e = email("r7session");
    let current = app.create_user(&e, STRONG, Some(60)).await;
    let mail = app.start_reset(&e).await;
    app.session_reset(&current, NEW).await.assert_ok();
    app.assert_reset_mail_dead(&mail).await;
    app.assert_session_alive(&current).await;
    app.login(&e, NEW, None).await.assert_ok();
}

#[tokio::test]
async fn r7_removing_a_password_and_migrate_setting_one_kill_outstanding_links() {
    let app = TestApp::spawn().await;
    let e = email("r7migrate");
    let user_id = app.create_user(&e, STRONG, None).await["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let before_removal = app.start_reset(&e).await;
    // No endpoint removes a password yet; the store's rule covers whoever will.
    app.state
        .store
        .update_user(&user_id, Arc::new(|u| u.password = None))
        .await
        .unwrap()
        .unwrap();
    app.assert_reset_mail_dead(&before_removal).await;
    let before_import = app.start_reset(&e).await;
    app.post(
        "/v1/passwords/migrate",
        json!({"email": e, "hash_type": "md_5", "hash": "cad2cfba582eb1f3c87bf326e0d9314a"}),
    )
    .await
    .assert_ok();
    app.assert_reset_mail_dead(&before_import).await;
    app.login(&e, "Plain-md5-Password-2016", None).await.assert_ok();
}

#[tokio::test]
async fn reset_start_answers_known_and_unknown_at_one_deadline_from_the_first_request() {
    // Enumeration by timing (issue 17): a fresh process's very first reset start, for an unknown
    // address, already waits for the deadline a known one waits for. Only lower bounds are
    // asserted (a timer never fires early; a busy machine can only add time); the comparison of
    // medians is the benchmark's row (bench/src/reset_timing.rs).
    let min = std::time::Duration::from_millis(300);
    let app = TestApp::spawn_with(&[("LATCH_RESET_START_MIN_MS", "300")]).await;
    let e = email("deadline");
    app.create_user(&e, STRONG, None).await;
    let began = std::time::Instant::now();
    app.reset_start(&email("deadline-nobody"), json!({}))
        .await
        .assert_error(404, "email_not_found");
    assert!(began.elapsed() >= min, "the first unknown address answered early");
    let began = std::time::Instant::now();
    app.reset_start(&e, json!({})).await.assert_ok();
    assert!(began.elapsed() >= min, "a known address answered before the deadline");
}
