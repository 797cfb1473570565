//! Races: uniqueness and counters are atomic in the store (C1, L2).

use latch_tests::{email, TestApp, STRONG};
use serde_json::json;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_signups_with_one_email_make_one_user() {
    // C1
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let e = email("race");
    let mut set = JoinSet::new();
    for i in 0..20 {
        let (app, e) = (app.clone(), e.clone());
        // Vary the case: all twenty are the same account.
        let e = if i % 2 == 0 { e } else { e.to_uppercase() };
        set.spawn(async move { app.post("/v1/passwords", json!({"email": e, "password": STRONG})).await });
    }
    let (mut ok, mut dup) = (0, 0);
    while let Some(a) = set.join_next().await {
        let a = a.unwrap();
        match a.status {
            200 => ok += 1,
            _ => {
                a.assert_error(400, "duplicate_email");
                dup += 1;
            }
        }
    }
    assert_eq!((ok, dup), (1, 19));
    let user = app.state.store.user_by_email(None, &e).await.unwrap().unwrap();
    app.login(&e, STRONG, None).await.assert_ok();
    assert!(user.password.is_some());
}

async fn parallel_wrong_logins(app: &std::sync::Arc<TestApp>, e: &str, n: usize) {
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (app, e) = (app.clone(), e.to_string());
        set.spawn(async move { app.login(&e, "wrong password", None).await });
    }
    while let Some(a) = set.join_next().await {
        let a = a.unwrap();
        assert!(a.status == 401 || a.status == 429, "{}", a.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_failures_are_counted_exactly() {
    // L2: with threshold 50, 49 racing failures leave the user unlocked with exactly 49 counted,
    // and the 50th locks: no increment is lost.
    let app = std::sync::Arc::new(TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "50")]).await);
    let e = email("count");
    app.create_user(&e, STRONG, None).await;
    parallel_wrong_logins(&app, &e, 49).await;
    let user = app.state.store.user_by_email(None, &e).await.unwrap().unwrap();
    assert_eq!(user.lock.failed_attempts, 49);
    assert!(user.lock.lock_expires_at.is_none());
    app.login(&e, "wrong password", None)
        .await
        .assert_error(401, "unauthorized_credentials");
    app.login(&e, STRONG, None).await.assert_error(429, "too_many_requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_failures_never_verify_more_than_the_threshold() {
    // L2: 50 parallel wrong passwords with threshold 10 → exactly 10 verifications, then locked.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let e = email("bound");
    app.create_user(&e, STRONG, None).await;
    let before = app.verifications();
    parallel_wrong_logins(&app, &e, 50).await;
    assert_eq!(app.verifications() - before, 10);
    app.login(&e, STRONG, None).await.assert_error(429, "too_many_requests");
}
