//! The HaveIBeenPwned range check (B1–B3), against the local stub.

use std::time::{Duration, Instant};

use latch::clock::Clock;
use latch_tests::{email, HibpMode, TestApp, STRONG};
use serde_json::json;

#[tokio::test]
async fn only_a_five_hex_prefix_leaves_with_padding_requested() {
    // B1
    let app = TestApp::spawn().await;
    app.create_user(&email("b1"), STRONG, None).await;
    let requests = app.hibp.requests();
    assert!(!requests.is_empty());
    for r in requests {
        let prefix = r.path.strip_prefix("/range/").unwrap();
        assert_eq!(prefix.len(), 5, "{}", r.path);
        assert!(prefix.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(r.add_padding.as_deref(), Some("true"));
    }
}

#[tokio::test]
async fn breached_password_is_refused_on_create() {
    // B2
    let app = TestApp::spawn().await;
    let leaked = "horse battery staple correct but leaked 1";
    app.hibp.mark_breached(leaked);
    let e = email("b2");
    app.post("/v1/passwords", json!({"email": e, "password": leaked}))
        .await
        .assert_error(400, "breached_password");
    assert!(app.state.store.user_by_email(None, &e).await.unwrap().is_none());
    // The strength check reports it when an email is given.
    let sc = app
        .post("/v1/passwords/strength_check", json!({"password": leaked, "email": e}))
        .await;
    assert_eq!(sc.assert_ok()["breached_password"], true);
    assert_eq!(sc.body["valid_password"], false);
}

#[tokio::test]
async fn correct_but_breached_password_at_login_must_be_reset() {
    // B2: reset_password and no session; the flag then persists even if the service is down.
    // Signup runs with the create-time check off, so the breach is first learned at login.
    let app = TestApp::spawn_with(&[("LATCH_BREACH_CHECK_ON_CREATE", "false")]).await;
    let pw = "strong phrase breached before login 11";
    let e = email("b2-login");
    app.create_user(&e, pw, None).await;
    app.hibp.mark_breached(pw);
    let a = app.login(&e, pw, Some(60)).await;
    a.assert_error(401, "reset_password");
    let user = app.state.store.user_by_email(None, &e).await.unwrap().unwrap();
    assert!(user.password.as_ref().unwrap().requires_reset);
    assert!(
        app.state
            .store
            .sessions_for_user(&user.user_id, app.clock.now())
            .await
            .unwrap()
            .is_empty(),
        "no session issued"
    );
    app.hibp.set_mode(HibpMode::Unavailable);
    app.login(&e, pw, None).await.assert_error(401, "reset_password");
    // A wrong password is still just wrong.
    app.login(&e, "wrong", None)
        .await
        .assert_error(401, "unauthorized_credentials");
}

#[tokio::test]
async fn an_outage_fails_open_within_bounded_time() {
    // B3: slow, 503 and garbage answers add bounded latency and never block signup or login.
    for mode in [
        HibpMode::Slow(Duration::from_secs(5)),
        HibpMode::Unavailable,
        HibpMode::Garbage,
    ] {
        let app = TestApp::spawn_with(&[("LATCH_HIBP_TIMEOUT_MS", "800")]).await;
        app.hibp.set_mode(mode);
        let e = email("b3");
        let started = Instant::now();
        app.create_user(&e, STRONG, None).await;
        app.login(&e, STRONG, None).await.assert_ok();
        // Two bounded lookups at most (create, login), each capped at 800 ms, plus hashing.
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{mode:?} took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn fail_closed_refuses_new_passwords_but_not_logins() {
    let app = TestApp::spawn_with(&[("LATCH_HIBP_FAIL_CLOSED", "true")]).await;
    let e = email("closed");
    app.create_user(&e, STRONG, None).await;
    app.hibp.set_mode(HibpMode::Unavailable);
    app.post(
        "/v1/passwords",
        json!({"email": email("closed2"), "password": "yet another strong phrase 12 ok"}),
    )
    .await
    .assert_error(503, "service_unavailable");
    app.login(&e, STRONG, None).await.assert_ok();
}

#[tokio::test]
async fn breach_checks_can_be_switched_off() {
    let app = TestApp::spawn_with(&[
        ("LATCH_BREACH_CHECK_ON_CREATE", "false"),
        ("LATCH_BREACH_CHECK_ON_AUTH", "false"),
    ])
    .await;
    let leaked = "leaked but checks are off 13 strong";
    app.hibp.mark_breached(leaked);
    let e = email("off");
    app.create_user(&e, leaked, None).await;
    app.login(&e, leaked, None).await.assert_ok();
    assert!(
        app.hibp.requests().is_empty(),
        "no request leaves when the check is off"
    );
    let sc = app
        .post("/v1/passwords/strength_check", json!({"password": leaked, "email": e}))
        .await;
    assert_eq!(sc.assert_ok()["breach_detection_on_create"], false);
}

#[tokio::test]
async fn range_answers_are_cached_per_prefix() {
    let app = TestApp::spawn().await;
    let e = email("cache");
    app.create_user(&e, STRONG, None).await;
    let after_signup = app.hibp.requests().len();
    app.login(&e, STRONG, None).await.assert_ok();
    app.login(&e, STRONG, None).await.assert_ok();
    assert_eq!(app.hibp.requests().len(), after_signup, "the signup's answer is reused");
}

#[tokio::test]
async fn without_a_cache_a_breach_published_after_signup_is_caught_at_login() {
    let app = TestApp::spawn_with(&[("LATCH_HIBP_CACHE_SECONDS", "0")]).await;
    let e = email("late-breach");
    app.create_user(&e, STRONG, None).await;
    app.login(&e, STRONG, None).await.assert_ok();
    app.hibp.mark_breached(STRONG);
    app.login(&e, STRONG, Some(60))
        .await
        .assert_error(401, "reset_password");
}

/// SECURITY B4: a lookup skipped by the open breaker counts as a failed one: fail-closed still
/// refuses a new password, and login still goes through.
#[tokio::test]
async fn b4_a_skipped_lookup_keeps_the_failure_mode() {
    let app = TestApp::spawn_with(&[
        ("LATCH_HIBP_TIMEOUT_MS", "200"),
        ("LATCH_HIBP_FAIL_CLOSED", "true"),
        ("LATCH_HIBP_BREAKER_THRESHOLD", "1"),
    ])
    .await;
    let e = email("b4-closed");
    app.create_user(&e, STRONG, None).await;
    app.hibp.set_mode(HibpMode::Unavailable);
    let attempt = || {
        app.post(
            "/v1/passwords",
            json!({"email": email("b4-closed2"), "password": "yet another strong phrase 12 ok"}),
        )
    };
    attempt().await.assert_error(503, "service_unavailable");
    let asked = app.hibp.requests().len();
    // The breaker is open now: the next one is not asked, and refused all the same.
    attempt().await.assert_error(503, "service_unavailable");
    assert_eq!(app.hibp.requests().len(), asked, "skipped while open");
    app.login(&e, STRONG, None).await.assert_ok();
}
