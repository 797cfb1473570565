//! `/v1/users/{user_id}`: get and delete.

use latch_tests::{email, TestApp, STRONG};

#[tokio::test]
async fn get_returns_the_user_object() {
    let app = TestApp::spawn().await;
    let e = email("get");
    let a = app.create_user(&e, STRONG, None).await;
    let id = a["user_id"].as_str().unwrap();
    let u = app.get(&format!("/v1/users/{id}")).await;
    let body = u.assert_ok();
    assert_eq!(body["user_id"], id);
    assert_eq!(body["emails"][0]["email"], e);
    assert_eq!(body["status"], "active");
    assert_eq!(body["is_locked"], false);
    assert!(body["lock_created_at"].is_null());
    // Python SDK: path params also arrive in the query string; they are ignored.
    app.get(&format!("/v1/users/{id}?user_id={id}")).await.assert_ok();
}

#[tokio::test]
async fn delete_removes_the_user_and_their_sessions() {
    let app = TestApp::spawn().await;
    let e = email("del");
    let a = app.create_user(&e, STRONG, Some(10)).await;
    let id = a["user_id"].as_str().unwrap();
    let d = app.delete(&format!("/v1/users/{id}")).await;
    assert_eq!(d.assert_ok()["user_id"], id);
    app.get(&format!("/v1/users/{id}"))
        .await
        .assert_error(404, "user_not_found");
    app.delete(&format!("/v1/users/{id}"))
        .await
        .assert_error(404, "user_not_found");
    app.assert_session_gone(&a).await;
    app.login(&e, STRONG, None).await.assert_error(404, "email_not_found");
    // The email is free again.
    app.create_user(&e, STRONG, None).await;
}

#[tokio::test]
async fn malformed_and_unknown_ids() {
    let app = TestApp::spawn().await;
    app.get("/v1/users/not-an-id")
        .await
        .assert_error(400, "invalid_user_id");
    app.get("/v1/users/user-test-a%2Bb%40c")
        .await
        .assert_error(400, "invalid_user_id");
    app.get("/v1/users/user-test-00000000-0000-4000-8000-000000000000")
        .await
        .assert_error(404, "user_not_found");
    app.delete("/v1/users/user-test-00000000-0000-4000-8000-000000000000")
        .await
        .assert_error(404, "user_not_found");
}
