//! Project authentication (X1) and the routing envelope.

use latch::api::route::Access;
use latch_tests::{email, TestApp, PROJECT_ID, SECRET, STRONG};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_private_endpoint_needs_the_project_credentials() {
    let app = TestApp::spawn().await;
    let body = json!({"email": email("x1"), "password": STRONG});
    for route in latch::ROUTES.iter().filter(|r| r.access == Access::Project) {
        let path = route
            .path
            .replace("{user_id}", "user-test-00000000-0000-4000-8000-000000000000");
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        for auth in [
            None,
            Some((PROJECT_ID, "wrong-secret")),
            Some(("project-test-other", SECRET)),
            Some((PROJECT_ID, "")),
        ] {
            let a = app.send(method.clone(), &path, Some(&body), auth).await;
            a.assert_error(401, "unauthorized_credentials");
        }
    }
    assert!(app
        .state
        .store
        .user_by_email(None, body["email"].as_str().unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn jwks_is_public_and_also_answers_with_credentials() {
    let app = TestApp::spawn().await;
    let path = format!("/v1/sessions/jwks/{PROJECT_ID}");
    for auth in [None, Some((PROJECT_ID, SECRET))] {
        let a = app.send(Method::GET, &path, None, auth).await;
        let keys = a.assert_ok()["keys"].as_array().unwrap().clone();
        assert_eq!(keys.len(), 1);
        for field in ["kty", "use", "key_ops", "alg", "kid", "x5c", "x5tS256", "n", "e"] {
            assert!(!keys[0][field].is_null(), "{field}");
        }
        assert_eq!(keys[0]["alg"], "RS256");
    }
    app.send(Method::GET, "/v1/sessions/jwks/project-test-other", None, None)
        .await
        .assert_error(404, "project_not_found");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_envelope() {
    let app = TestApp::spawn().await;
    app.get("/v1/nothing/here").await.assert_error(404, "route_not_found");
    app.get("/").await.assert_error(404, "route_not_found");
    app.send(Method::PUT, "/v1/passwords", None, Some((PROJECT_ID, SECRET)))
        .await
        .assert_error(405, "method_not_allowed");
    app.send(Method::GET, "/v1/passwords", None, Some((PROJECT_ID, SECRET)))
        .await
        .assert_error(405, "method_not_allowed");
}

#[tokio::test]
async fn request_ids_are_unique_and_echoed_in_a_header() {
    let app = TestApp::spawn().await;
    let r1 = app.http.get(format!("{}/v1/nope", app.base)).send().await.unwrap();
    let header = r1.headers()["x-request-id"].to_str().unwrap().to_string();
    let b1: serde_json::Value = r1.json().await.unwrap();
    assert_eq!(b1["request_id"], header);
    let b2 = app.get("/v1/nope").await.body;
    assert_ne!(b1["request_id"], b2["request_id"]);
}
