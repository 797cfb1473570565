//! The session hot path (issue 20): `sessions/authenticate` on an unchanged session is a read, not
//! a write, and gives back the JWT it was last given; every security property of J1/J2 holds —
//! a revoked session is refused at the next call, expiry is exact, any change mints a new JWT.

use latch::clock::Clock;
use latch::sessions::recent_jwts::REUSE_SECONDS;
use latch::sessions::TOUCH_INTERVAL_SECONDS;
use latch_tests::b2b::{authenticate_session, create_org, id, login, member_with_password};
use latch_tests::{email, TestApp, STRONG};
use serde_json::{json, Value};

// A reused JWT keeps over half of its 5 minutes.
const _: () = assert!(REUSE_SECONDS <= 300 / 2);

fn seconds(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

async fn authenticate(app: &TestApp, body: Value) -> Value {
    app.post("/v1/sessions/authenticate", body).await.assert_ok().clone()
}

fn writes(app: &TestApp) -> u64 {
    app.faults.as_ref().expect("a faulty store").writes()
}

#[tokio::test]
async fn an_unchanged_session_is_read_not_written_and_keeps_its_jwt() {
    let app = TestApp::spawn_faulty().await;
    let created = app.create_user(&email("hot"), STRONG, Some(60)).await;
    let token = json!({"session_token": created["session_token"]});
    let first = authenticate(&app, token.clone()).await;
    let before = writes(&app);
    app.clock.advance(seconds(TOUCH_INTERVAL_SECONDS - 1));
    let by_token = authenticate(&app, token.clone()).await;
    let by_jwt = authenticate(&app, json!({"session_jwt": first["session_jwt"]})).await;
    assert_eq!(
        writes(&app),
        before,
        "an unchanged session within the interval is not written"
    );
    for again in [&by_token, &by_jwt] {
        assert_eq!(
            again["session_jwt"], first["session_jwt"],
            "the JWT is handed out again"
        );
        assert_eq!(
            again["session"]["last_accessed_at"], first["session"]["last_accessed_at"],
            "the answer shows the session as stored"
        );
    }
    // The interval passed: the touch is written, and the JWT says so.
    app.clock.advance(seconds(1));
    let touched = authenticate(&app, token).await;
    assert_eq!(writes(&app), before + 1);
    assert_ne!(touched["session_jwt"], first["session_jwt"]);
    assert_ne!(
        touched["session"]["last_accessed_at"],
        first["session"]["last_accessed_at"]
    );
    let listed = app
        .get(&format!(
            "/v1/sessions?user_id={}",
            created["user_id"].as_str().unwrap()
        ))
        .await;
    let listed = listed.assert_ok();
    assert_eq!(
        listed["sessions"][0]["last_accessed_at"], touched["session"]["last_accessed_at"],
        "the touch is stored"
    );
}

#[tokio::test]
async fn a_change_to_the_session_is_written_at_once_with_a_new_jwt() {
    let app = TestApp::spawn_faulty().await;
    let created = app.create_user(&email("change"), STRONG, Some(60)).await;
    let first = authenticate(&app, json!({"session_token": created["session_token"]})).await;
    let before = writes(&app);
    let claims = authenticate(
        &app,
        json!({"session_token": created["session_token"], "session_custom_claims": {"plan": "pro"}}),
    )
    .await;
    assert_eq!(writes(&app), before + 1);
    assert_ne!(claims["session_jwt"], first["session_jwt"]);
    assert_eq!(claims["session"]["custom_claims"]["plan"], "pro");
    let extended = authenticate(
        &app,
        json!({"session_token": created["session_token"], "session_duration_minutes": 600}),
    )
    .await;
    assert_eq!(writes(&app), before + 2);
    assert_ne!(extended["session"]["expires_at"], claims["session"]["expires_at"]);
    assert_ne!(extended["session_jwt"], claims["session_jwt"]);
    // Claims that change nothing are no change.
    let same = authenticate(
        &app,
        json!({"session_token": created["session_token"], "session_custom_claims": {"plan": "pro"}}),
    )
    .await;
    assert_eq!(writes(&app), before + 2);
    assert_eq!(same["session_jwt"], extended["session_jwt"]);
}

#[tokio::test]
async fn a_reused_jwt_never_outlives_revocation_or_expiry() {
    // J2 on the hot path: the session is read on every call, whatever the JWT reuse.
    let app = TestApp::spawn().await;
    let revoked = app.create_user(&email("revoked"), STRONG, Some(60)).await;
    let warm = authenticate(&app, json!({"session_token": revoked["session_token"]})).await;
    app.post(
        "/v1/sessions/revoke",
        json!({"session_token": revoked["session_token"]}),
    )
    .await
    .assert_ok();
    for body in [
        json!({"session_token": revoked["session_token"]}),
        json!({"session_jwt": warm["session_jwt"]}),
    ] {
        app.post("/v1/sessions/authenticate", body)
            .await
            .assert_error(404, "session_not_found");
    }

    let short = app.create_user(&email("short"), STRONG, Some(5)).await;
    let token = json!({"session_token": short["session_token"]});
    app.clock.advance(chrono::Duration::minutes(5) - seconds(1));
    authenticate(&app, token.clone()).await;
    app.clock.advance(seconds(1));
    app.post("/v1/sessions/authenticate", token)
        .await
        .assert_error(404, "session_not_found");
}

// The touch comes before a JWT is old enough to be refused reuse (recent_jwts.rs tests that age
// limit on its own): over the black box, every JWT handed out is younger than the interval.
const _: () = assert!(TOUCH_INTERVAL_SECONDS < REUSE_SECONDS);

#[tokio::test]
async fn every_touch_hands_out_a_new_jwt() {
    let app = TestApp::spawn().await;
    let created = app.create_user(&email("age"), STRONG, Some(60)).await;
    let token = json!({"session_token": created["session_token"]});
    let first = authenticate(&app, token.clone()).await;
    let iat = |body: &Value| {
        let jwt = body["session_jwt"].as_str().unwrap();
        let payload = jwt.split('.').nth(1).unwrap();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["iat"]
            .as_i64()
            .unwrap()
    };
    let mut last = first;
    for _ in 0..(2 * REUSE_SECONDS / TOUCH_INTERVAL_SECONDS + 1) {
        app.clock.advance(seconds(TOUCH_INTERVAL_SECONDS / 2));
        let again = authenticate(&app, token.clone()).await;
        let age = app.clock.now().timestamp() - iat(&again);
        assert!((0..REUSE_SECONDS).contains(&age), "a JWT {age} s old was handed out");
        assert!(age < TOUCH_INTERVAL_SECONDS, "a JWT {age} s old outlived the touch");
        let touched = again["session"]["last_accessed_at"] != last["session"]["last_accessed_at"];
        assert_eq!(
            touched,
            again["session_jwt"] != last["session_jwt"],
            "a new JWT exactly at each touch"
        );
        last = again;
    }
    assert!(iat(&last) > app.clock.now().timestamp() - REUSE_SECONDS);
}

#[tokio::test]
async fn a_member_session_names_a_new_slug_at_once() {
    let app = TestApp::spawn_faulty().await;
    let org = create_org(&app, "hot-org", json!({})).await;
    let org_id = id(&org);
    member_with_password(&app, &org_id, "hot@example.com", STRONG, json!({})).await;
    let logged_in = login(&app, &org_id, "hot@example.com", STRONG)
        .await
        .assert_ok()
        .clone();
    let token = &logged_in["session_token"];
    let first = authenticate_session(&app, token).await.assert_ok().clone();
    let before = writes(&app);
    let again = authenticate_session(&app, token).await.assert_ok().clone();
    assert_eq!(writes(&app), before, "an unchanged member session is not written");
    assert_eq!(again["session_jwt"], first["session_jwt"]);
    app.put(
        &format!("/v1/b2b/organizations/{org_id}"),
        json!({"organization_slug": "hot-org-renamed"}),
    )
    .await
    .assert_ok();
    let renamed = authenticate_session(&app, token).await.assert_ok().clone();
    assert_ne!(renamed["session_jwt"], first["session_jwt"]);
    assert_eq!(renamed["member_session"]["organization_slug"], "hot-org-renamed");
}
