//! `/v1/passwords`: create, authenticate, strength check.

use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

#[tokio::test]
async fn create_without_session_duration_makes_no_session() {
    let app = TestApp::spawn().await;
    let e = email("nosession");
    let body = app.create_user(&e, STRONG, None).await;
    assert!(body["user_id"].as_str().unwrap().starts_with("user-test-"));
    assert!(body["email_id"].as_str().unwrap().starts_with("email-test-"));
    assert_eq!(body["session_token"], "");
    assert_eq!(body["session_jwt"], "");
    assert!(body["session"].is_null());
    let user = &body["user"];
    assert_eq!(user["emails"][0]["email"], e);
    assert_eq!(user["is_locked"], false);
    assert_eq!(user["roles"], json!(["stytch_user"]));
    assert!(user["password"]["password_id"]
        .as_str()
        .unwrap()
        .starts_with("password-test-"));
    for arr in [
        "phone_numbers",
        "webauthn_registrations",
        "providers",
        "totps",
        "crypto_wallets",
        "biometric_registrations",
    ] {
        assert_eq!(user[arr], json!([]), "{arr}");
    }
}

#[tokio::test]
async fn create_with_session_duration_starts_a_session() {
    let app = TestApp::spawn().await;
    let body = app.create_user(&email("session"), STRONG, Some(60)).await;
    assert_eq!(body["session_token"].as_str().unwrap().len(), 43);
    assert_eq!(body["session_jwt"].as_str().unwrap().split('.').count(), 3);
    let session = &body["session"];
    assert_eq!(session["user_id"], body["user_id"]);
    assert_eq!(session["authentication_factors"][0]["type"], "password");
    assert_eq!(session["authentication_factors"][0]["delivery_method"], "knowledge");
    let started = chrono::DateTime::parse_from_rfc3339(session["started_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(session["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - started, chrono::Duration::minutes(60));
}

#[tokio::test]
async fn stored_password_is_argon2id_with_distinct_salts() {
    // H1 and H2: the store holds PHC strings, never the password.
    let app = TestApp::spawn().await;
    let (a, b) = (email("h1a"), email("h1b"));
    app.create_user(&a, STRONG, None).await;
    app.create_user(&b, STRONG, None).await;
    let ua = app.state.store.user_by_email(None, &a).await.unwrap().unwrap();
    let ub = app.state.store.user_by_email(None, &b).await.unwrap().unwrap();
    let (ha, hb) = (ua.password.unwrap().hash, ub.password.unwrap().hash);
    assert!(ha.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ha}");
    assert_ne!(ha, hb);
    let dump = app.store_dump().await;
    let needle = STRONG.as_bytes();
    assert!(
        !dump.windows(needle.len()).any(|w| w == needle),
        "cleartext password in the store file"
    );
}

#[tokio::test]
async fn duplicate_email_is_refused_case_insensitively() {
    // I3: User@Example.com and user@example.com are one account.
    let app = TestApp::spawn().await;
    let e = email("dup");
    app.create_user(&e, STRONG, None).await;
    let shouting = e.to_uppercase();
    app.post("/v1/passwords", json!({"email": shouting, "password": STRONG}))
        .await
        .assert_error(400, "duplicate_email");
    app.login(&shouting, STRONG, None).await.assert_ok();
}

#[tokio::test]
async fn weak_password_is_refused_with_feedback() {
    let app = TestApp::spawn().await;
    let e = email("weak");
    let a = app
        .post("/v1/passwords", json!({"email": e, "password": "password1"}))
        .await;
    a.assert_error(400, "weak_password");
    assert!(a.body["error_message"].as_str().unwrap().contains("common"));
    assert!(
        app.state.store.user_by_email(None, &e).await.unwrap().is_none(),
        "nothing written"
    );
}

#[tokio::test]
async fn the_email_counts_against_the_password() {
    // S5
    let app = TestApp::spawn().await;
    let strong_elsewhere = app
        .post("/v1/passwords/strength_check", json!({"password": "alicesmith2024"}))
        .await;
    let with_email = app
        .post(
            "/v1/passwords/strength_check",
            json!({"password": "alicesmith2024", "email": "alice.smith@example.com"}),
        )
        .await;
    assert!(with_email.assert_ok()["score"].as_u64() < strong_elsewhere.assert_ok()["score"].as_u64());
    app.post(
        "/v1/passwords",
        json!({"email": "alice.smith@example.com", "password": "alicesmith2024"}),
    )
    .await
    .assert_error(400, "weak_password");
}

#[tokio::test]
async fn authenticate_succeeds_and_fails_as_documented() {
    let app = TestApp::spawn().await;
    let e = email("login");
    let created = app.create_user(&e, STRONG, None).await;
    let ok = app.login(&e, STRONG, None).await;
    assert_eq!(ok.assert_ok()["user_id"], created["user_id"]);
    assert_eq!(ok.body["session_token"], "");
    assert!(ok.body["session"].is_null());
    let with_session = app.login(&e, STRONG, Some(30)).await;
    assert!(!with_session.assert_ok()["session_token"].as_str().unwrap().is_empty());
    app.login(&e, "not the password at all", None)
        .await
        .assert_error(401, "unauthorized_credentials");
    app.login(&email("nobody"), STRONG, None)
        .await
        .assert_error(404, "email_not_found");
}

#[tokio::test]
async fn unknown_email_costs_one_verification_like_a_wrong_password() {
    // E1: the dummy verify makes both paths do the same hashing work.
    let app = TestApp::spawn().await;
    let e = email("e1");
    app.create_user(&e, STRONG, None).await;
    let before = app.verifications();
    app.login(&e, "wrong wrong wrong", None)
        .await
        .assert_error(401, "unauthorized_credentials");
    let wrong = app.verifications() - before;
    let before = app.verifications();
    app.login(&email("ghost"), "wrong wrong wrong", None)
        .await
        .assert_error(404, "email_not_found");
    let unknown = app.verifications() - before;
    assert_eq!((wrong, unknown), (1, 1));
}

#[tokio::test]
async fn authenticate_attaches_to_an_existing_session() {
    let app = TestApp::spawn().await;
    let e = email("attach");
    let created = app.create_user(&e, STRONG, Some(60)).await;
    let token = created["session_token"].as_str().unwrap();
    let again = app
        .post(
            "/v1/passwords/authenticate",
            json!({"email": e, "password": STRONG, "session_token": token}),
        )
        .await;
    let body = again.assert_ok();
    assert_eq!(body["session"]["session_id"], created["session"]["session_id"]);
    assert_eq!(body["session_token"], token);
    // Another user's session cannot be borrowed.
    let other = email("attach-other");
    app.create_user(&other, STRONG, None).await;
    app.post(
        "/v1/passwords/authenticate",
        json!({"email": other, "password": STRONG, "session_token": token}),
    )
    .await
    .assert_error(404, "session_not_found");
}

#[tokio::test]
async fn strength_check_reports_score_policy_and_feedback() {
    // S1
    let app = TestApp::spawn().await;
    let weak = app
        .post("/v1/passwords/strength_check", json!({"password": "qwerty123"}))
        .await;
    let w = weak.assert_ok();
    assert_eq!(w["valid_password"], false);
    assert!(w["score"].as_u64().unwrap() < 3);
    assert_eq!(w["strength_policy"], "zxcvbn");
    assert_eq!(w["breach_detection_on_create"], true);
    assert!(w["feedback"]["warning"].is_string());
    assert!(!w["feedback"]["suggestions"].as_array().unwrap().is_empty());
    let strong = app
        .post("/v1/passwords/strength_check", json!({"password": STRONG}))
        .await;
    let s = strong.assert_ok();
    assert_eq!(s["valid_password"], true);
    assert!(s["score"].as_u64().unwrap() >= 3);
    assert_eq!(s["feedback"]["warning"], "");
    assert_eq!(s["feedback"]["suggestions"], json!([]));
}

#[tokio::test]
async fn luds_policy_reports_every_missing_class() {
    // S2
    let app = TestApp::spawn_with(&[
        ("LATCH_STRENGTH_POLICY", "luds"),
        ("LATCH_LUDS_MIN_LENGTH", "12"),
        ("LATCH_LUDS_MIN_COMPLEXITY", "4"),
    ])
    .await;
    let a = app
        .post("/v1/passwords/strength_check", json!({"password": "abc"}))
        .await;
    let body = a.assert_ok();
    assert_eq!(body["strength_policy"], "luds");
    assert_eq!(body["valid_password"], false);
    assert_eq!(
        body["feedback"]["luds_requirements"],
        json!({"has_lower_case": true, "has_upper_case": false, "has_digit": false, "has_symbol": false,
               "missing_complexity": 3, "missing_characters": 9})
    );
    app.post("/v1/passwords", json!({"email": email("luds"), "password": "abc"}))
        .await
        .assert_error(400, "weak_password");
    app.create_user(&email("luds-ok"), "Abcdefgh1!xyz", None).await;
}

#[tokio::test]
async fn validation_errors_come_in_a_fixed_order() {
    // E2: {new, existing} × {weak, breached, ok}; input errors before policy before duplicates.
    let app = TestApp::spawn().await;
    let existing = email("e2");
    app.create_user(&existing, STRONG, None).await;
    let breached = "a perfectly strong but leaked passphrase 7";
    app.hibp.mark_breached(breached);
    for (who, pw, want) in [
        (email("e2-new"), "password", "weak_password"),
        (existing.clone(), "password", "weak_password"),
        (email("e2-new"), breached, "breached_password"),
        (existing.clone(), breached, "breached_password"),
        (
            existing.clone(),
            "another strong one: plum kettle orbit 9",
            "duplicate_email",
        ),
        ("not-an-email".to_string(), "password", "invalid_email"),
    ] {
        app.post("/v1/passwords", json!({"email": who, "password": pw}))
            .await
            .assert_error(400, want);
    }
    app.create_user(&email("e2-new"), "another strong one: plum kettle orbit 9", None)
        .await;
}
