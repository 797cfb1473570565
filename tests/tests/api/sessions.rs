//! `/v1/sessions`: authenticate, list, revoke.

use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

#[tokio::test]
async fn authenticate_by_token_extends_and_merges_claims() {
    let app = TestApp::spawn().await;
    let a = app.create_user(&email("sess"), STRONG, Some(10)).await;
    let token = a["session_token"].as_str().unwrap();
    let r = app
        .post(
            "/v1/sessions/authenticate",
            json!({"session_token": token, "session_duration_minutes": 120, "session_custom_claims": {"plan": "pro", "iss": "evil"}}),
        )
        .await;
    let body = r.assert_ok();
    assert_eq!(body["session_token"], token);
    assert_eq!(body["user"]["user_id"], a["user_id"]);
    assert_eq!(
        body["session"]["custom_claims"],
        json!({"plan": "pro"}),
        "reserved claims are ignored"
    );
    let last = chrono::DateTime::parse_from_rfc3339(body["session"]["last_accessed_at"].as_str().unwrap()).unwrap();
    let exp = chrono::DateTime::parse_from_rfc3339(body["session"]["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(exp - last, chrono::Duration::minutes(120));
    // The claim reaches the JWT at top level; null deletes it.
    let jwt = body["session_jwt"].as_str().unwrap();
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            jwt.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["plan"], "pro");
    assert_eq!(payload["iss"], format!("stytch.com/{}", latch_tests::PROJECT_ID));
    let r = app
        .post(
            "/v1/sessions/authenticate",
            json!({"session_token": token, "session_custom_claims": {"plan": null}}),
        )
        .await;
    assert_eq!(r.assert_ok()["session"]["custom_claims"], json!({}));
}

#[tokio::test]
async fn exactly_one_session_argument() {
    let app = TestApp::spawn().await;
    let a = app.create_user(&email("args"), STRONG, Some(10)).await;
    app.post("/v1/sessions/authenticate", json!({}))
        .await
        .assert_error(400, "no_session_arguments");
    app.post(
        "/v1/sessions/authenticate",
        json!({"session_token": a["session_token"], "session_jwt": a["session_jwt"]}),
    )
    .await
    .assert_error(400, "too_many_session_arguments");
    app.post("/v1/sessions/authenticate", json!({"session_token": "nope"}))
        .await
        .assert_error(404, "session_not_found");
    app.post("/v1/sessions/revoke", json!({}))
        .await
        .assert_error(400, "no_session_revoke_arguments");
    app.post("/v1/sessions/revoke", json!({"session_id": "x", "session_token": "y"}))
        .await
        .assert_error(400, "too_many_session_revoke_arguments");
}

#[tokio::test]
async fn list_shows_active_sessions_and_revoke_ends_them() {
    let app = TestApp::spawn().await;
    let e = email("list");
    let a = app.create_user(&e, STRONG, Some(10)).await;
    let user_id = a["user_id"].as_str().unwrap();
    let b = app.login(&e, STRONG, Some(10)).await.body;
    let c = app.login(&e, STRONG, Some(10)).await.body;
    let listed = app.get(&format!("/v1/sessions?user_id={user_id}")).await;
    assert_eq!(listed.assert_ok()["sessions"].as_array().unwrap().len(), 3);

    app.post("/v1/sessions/revoke", json!({"session_token": a["session_token"]}))
        .await
        .assert_ok();
    app.post("/v1/sessions/revoke", json!({"session_jwt": b["session_jwt"]}))
        .await
        .assert_ok();
    app.post("/v1/sessions/revoke", json!({"session_id": c["session"]["session_id"]}))
        .await
        .assert_ok();
    for s in [&a, &b, &c] {
        app.assert_session_gone(s).await;
    }
    app.post("/v1/sessions/revoke", json!({"session_id": c["session"]["session_id"]}))
        .await
        .assert_error(404, "session_not_found");
    assert_eq!(
        app.get(&format!("/v1/sessions?user_id={user_id}")).await.assert_ok()["sessions"],
        json!([])
    );

    // Expired sessions are not listed even before any cleanup.
    app.login(&e, STRONG, Some(5)).await.assert_ok();
    app.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(
        app.get(&format!("/v1/sessions?user_id={user_id}")).await.assert_ok()["sessions"],
        json!([])
    );
}

#[tokio::test]
async fn list_needs_a_known_user() {
    let app = TestApp::spawn().await;
    app.get("/v1/sessions").await.assert_error(400, "bad_request");
    app.get("/v1/sessions?user_id=garbage")
        .await
        .assert_error(400, "invalid_user_id");
    app.get("/v1/sessions?user_id=user-test-00000000-0000-4000-8000-000000000000")
        .await
        .assert_error(404, "user_not_found");
}

#[tokio::test]
async fn session_tokens_rest_only_as_digests() {
    // R1 / H2 for sessions.
    let app = TestApp::spawn().await;
    let a = app.create_user(&email("digest"), STRONG, Some(10)).await;
    let token = a["session_token"].as_str().unwrap();
    let bytes = app.store_dump().await;
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "raw session token in the store"
    );
}
