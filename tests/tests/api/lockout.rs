//! Stytch's user locks (L1), with the manual clock.

use latch_tests::{email, TestApp, STRONG};

#[tokio::test]
async fn threshold_failures_lock_even_the_right_password_until_expiry() {
    let app = TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "3"), ("LATCH_LOCK_TTL_SECONDS", "600")]).await;
    let e = email("lock");
    let user_id = app.create_user(&e, STRONG, None).await["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        app.login(&e, "wrong password", None)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    let before = app.verifications();
    let locked = app.login(&e, STRONG, Some(60)).await;
    locked.assert_error(429, "too_many_requests");
    assert!(locked.body["error_message"].as_str().unwrap().contains("locked"));
    assert_eq!(
        app.verifications(),
        before,
        "a locked user's password is not even verified"
    );

    let user = app.get(&format!("/v1/users/{user_id}")).await;
    let u = user.assert_ok();
    assert_eq!(u["is_locked"], true);
    let created = chrono::DateTime::parse_from_rfc3339(u["lock_created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(u["lock_expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::seconds(600));

    // L3: a lock always expires.
    app.clock.advance(chrono::Duration::seconds(599));
    app.login(&e, STRONG, None).await.assert_error(429, "too_many_requests");
    app.clock.advance(chrono::Duration::seconds(1));
    app.login(&e, STRONG, None).await.assert_ok();
    let u = app.get(&format!("/v1/users/{user_id}")).await.body;
    assert_eq!(u["is_locked"], false);
    assert!(u["lock_expires_at"].is_null());
}

#[tokio::test]
async fn a_success_before_the_lock_resets_the_count() {
    let app = TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "3")]).await;
    let e = email("reset-count");
    app.create_user(&e, STRONG, None).await;
    for _ in 0..2 {
        app.login(&e, "wrong", None)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    app.login(&e, STRONG, None).await.assert_ok();
    for _ in 0..2 {
        app.login(&e, "wrong", None)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    app.login(&e, STRONG, None).await.assert_ok();
}

#[tokio::test]
async fn the_default_is_ten_failures() {
    let app = TestApp::spawn().await;
    let e = email("ten");
    app.create_user(&e, STRONG, None).await;
    for _ in 0..9 {
        app.login(&e, "wrong", None)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    app.login(&e, STRONG, None).await.assert_ok();
    for _ in 0..10 {
        app.login(&e, "wrong", None)
            .await
            .assert_error(401, "unauthorized_credentials");
    }
    app.login(&e, STRONG, None).await.assert_error(429, "too_many_requests");
}
