//! Bad input of every kind: 4xx in the envelope, never a 5xx, and nothing written (I1–I3, S3).

use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

async fn assert_nothing_written(app: &TestApp, email: &str) {
    assert!(
        app.state
            .store
            .user_by_email(None, &email.to_lowercase())
            .await
            .unwrap()
            .is_none(),
        "user {email} was written"
    );
}

#[tokio::test]
async fn malformed_bodies_get_bad_request() {
    let app = TestApp::spawn().await;
    let e = email("malformed");
    let cases: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"not json".to_vec(),
        b"[]".to_vec(),
        format!(r#"{{"email": "{e}"}}"#).into_bytes(),
        format!(r#"{{"email": "{e}", "password": 42}}"#).into_bytes(),
        format!(r#"{{"email": ["{e}"], "password": "{STRONG}"}}"#).into_bytes(),
        format!(r#"{{"email": "{e}", "password": "{STRONG}", "session_duration_minutes": "60"}}"#).into_bytes(),
        format!(r#"{{"email": "{e}", "password": "{STRONG}", "session_duration_minutes": 60.5}}"#).into_bytes(),
        vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
        b"".to_vec(),
    ];
    for body in cases {
        let a = app.post_raw("/v1/passwords", body.clone()).await;
        a.assert_error(400, "bad_request");
        assert!(
            a.body["error_message"].as_str().unwrap().len() > 20,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_nothing_written(&app, &e).await;
}

#[tokio::test]
async fn oversized_body_gets_413() {
    // I1
    let app = TestApp::spawn().await;
    let e = email("big");
    let body = format!(r#"{{"email": "{e}", "password": "{}"}}"#, "a".repeat(1024 * 1024 + 10));
    app.post_raw("/v1/passwords", body.into_bytes())
        .await
        .assert_error(413, "request_too_large");
    assert_nothing_written(&app, &e).await;
}

#[tokio::test]
async fn passwords_over_the_cap_are_refused_before_hashing() {
    // S3 and I1: a long password never reaches zxcvbn or argon2.
    let app = TestApp::spawn().await;
    let e = email("cap");
    let before = app.verifications();
    for pw in [
        "a".repeat(257),
        "漢".repeat(257),
        "🔑".repeat(257),
        "b".repeat(1000 * 1000),
    ] {
        app.post("/v1/passwords", json!({"email": e, "password": pw}))
            .await
            .assert_error(400, "password_too_long");
        app.login(&e, &pw, None).await.assert_error(400, "password_too_long");
    }
    assert_eq!(app.verifications(), before, "no hashing for refused passwords");
    assert_nothing_written(&app, &e).await;
    // At the cap, in several scripts, a strong password is accepted.
    let at_cap: String = "correct horse 漢字 🔑 battery staple "
        .chars()
        .cycle()
        .take(256)
        .collect();
    app.create_user(&e, &at_cap, None).await;
    app.login(&e, &at_cap, None).await.assert_ok();
}

#[tokio::test]
async fn invalid_emails_are_refused() {
    // I3
    let app = TestApp::spawn().await;
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long_total = format!("a@{}.example.com", "b".repeat(250));
    for bad in [
        "",
        "plain",
        "two@@example.com",
        "a@b@example.com",
        "sp ace@example.com",
        "ctl\u{1}@example.com",
        &long_local,
        &long_total,
    ] {
        app.post("/v1/passwords", json!({"email": bad, "password": STRONG}))
            .await
            .assert_error(400, "invalid_email");
        app.login(bad, STRONG, None).await.assert_error(400, "invalid_email");
    }
}

#[tokio::test]
async fn session_duration_out_of_range_is_refused_and_nothing_written() {
    let app = TestApp::spawn().await;
    let e = email("duration");
    for minutes in [0, 4, 527_041, -5] {
        app.post(
            "/v1/passwords",
            json!({"email": e, "password": STRONG, "session_duration_minutes": minutes}),
        )
        .await
        .assert_error(400, "invalid_session_duration_minutes");
    }
    assert_nothing_written(&app, &e).await;
    app.create_user(&e, STRONG, Some(5)).await;
    app.login(&e, STRONG, Some(527_040)).await.assert_ok();
    app.login(&e, STRONG, Some(527_041))
        .await
        .assert_error(400, "invalid_session_duration_minutes");
}

#[tokio::test]
async fn oversized_custom_claims_are_refused() {
    let app = TestApp::spawn().await;
    let e = email("claims");
    let big = json!({"blob": "x".repeat(5000)});
    app.post(
        "/v1/passwords",
        json!({"email": e, "password": STRONG, "session_duration_minutes": 10, "session_custom_claims": big}),
    )
    .await
    .assert_error(400, "custom_claims_too_large");
    assert_nothing_written(&app, &e).await;
}

#[tokio::test]
async fn every_endpoint_answers_garbage_with_4xx() {
    // I2, a small fixed sample; the schema fuzzer covers the rest in a later issue.
    let app = TestApp::spawn().await;
    for route in latch::ROUTES {
        let path = route.path.replace("{project_id}", "x").replace("{user_id}", "x");
        for body in [
            b"{".to_vec(),
            b"{\"a\":".to_vec(),
            vec![0xff; 16],
            b"null".to_vec(),
            b"1e999999".to_vec(),
        ] {
            let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let resp = app
                .http
                .request(method, format!("{}{path}", app.base))
                .basic_auth(latch_tests::PROJECT_ID, Some(latch_tests::SECRET))
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            assert!((400..500).contains(&status), "{route:?} answered {status}");
            let v: serde_json::Value = resp.json().await.unwrap();
            assert!(
                v["error_type"].is_string() && v["request_id"].is_string(),
                "{route:?}: {v}"
            );
        }
    }
}

/// A path segment that does not decode to UTF-8 is a bad request in the envelope on every route
/// with a path parameter (axum's own extractor would answer in plain text).
#[tokio::test]
async fn undecodable_path_segments_get_bad_request_in_the_envelope() {
    let app = TestApp::spawn().await;
    let with_params: Vec<_> = latch::ROUTES.iter().filter(|r| r.path.contains('{')).collect();
    assert!(with_params.len() >= 6);
    for route in with_params {
        let path: String = route
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "%FF%FE" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let body = (method == reqwest::Method::POST).then(|| json!({}));
        let a = app
            .send(
                method,
                &path,
                body.as_ref(),
                Some((latch_tests::PROJECT_ID, latch_tests::SECRET)),
            )
            .await;
        a.assert_error(400, "bad_request");
        assert!(
            a.body["error_message"].as_str().unwrap().contains("UTF-8"),
            "{}: {}",
            route.name,
            a.body
        );
    }
}
