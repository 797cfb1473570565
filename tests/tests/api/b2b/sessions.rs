//! Member sessions (B16–B19): authenticate, list, revoke, the JWT and the B2B JWKS.

use jsonwebtoken::Algorithm;
use latch_tests::b2b::*;
use latch_tests::{verify_jwt, TestApp, PROJECT_ID, STRONG};
use serde_json::{json, Value};

async fn listed(app: &TestApp, org_id: &str, member_id: &str) -> Vec<String> {
    let a = app
        .get(&format!(
            "/v1/b2b/sessions?organization_id={org_id}&member_id={member_id}"
        ))
        .await;
    let mut ids: Vec<String> = a.assert_ok()["member_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["member_id"], member_id, "{s}");
            assert_eq!(s["organization_id"], org_id, "{s}");
            s["member_session_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

fn session_id(body: &Value) -> String {
    body["member_session"]["member_session_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn list_shows_active_sessions_and_revoke_takes_exactly_one_argument() {
    let app = TestApp::spawn().await;
    let (org_id, e, member_id, s0) = org_with_member(&app, "revoke-org", "revoke", STRONG).await;
    let s1 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let s2 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let s3 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let mut all: Vec<String> = [&s0, &s1, &s2, &s3].iter().map(|s| session_id(s)).collect();
    all.sort();
    assert_eq!(listed(&app, &org_id, &member_id).await, all);
    // By slug too.
    let by_slug = app
        .get(&format!(
            "/v1/b2b/sessions?organization_id=revoke-org&member_id={member_id}"
        ))
        .await;
    assert_eq!(by_slug.assert_ok()["member_sessions"].as_array().unwrap().len(), 4);

    app.post("/v1/b2b/sessions/revoke", json!({}))
        .await
        .assert_error(400, "no_session_revoke_arguments");
    app.post(
        "/v1/b2b/sessions/revoke",
        json!({"member_session_id": session_id(&s1), "session_token": s2["session_token"]}),
    )
    .await
    .assert_error(400, "too_many_session_revoke_arguments");
    assert_eq!(listed(&app, &org_id, &member_id).await.len(), 4, "nothing revoked");

    app.post("/v1/b2b/sessions/revoke", json!({"member_session_id": session_id(&s1)}))
        .await
        .assert_ok();
    assert_session_gone(&app, &s1["session_token"]).await;
    assert_eq!(listed(&app, &org_id, &member_id).await.len(), 3);

    app.post("/v1/b2b/sessions/revoke", json!({"session_token": s2["session_token"]}))
        .await
        .assert_ok();
    assert_session_gone(&app, &s2["session_token"]).await;
    assert_eq!(listed(&app, &org_id, &member_id).await.len(), 2);

    app.post("/v1/b2b/sessions/revoke", json!({"member_id": member_id}))
        .await
        .assert_ok();
    for s in [&s0, &s3] {
        assert_session_gone(&app, &s["session_token"]).await;
    }
    assert!(listed(&app, &org_id, &member_id).await.is_empty());
}

#[tokio::test]
async fn authenticate_answers_the_member_session_and_a_fresh_jwt() {
    let app = TestApp::spawn().await;
    let (org_id, e, ..) = org_with_member(&app, "auth-org", "b2b-auth", STRONG).await;
    let s = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let member_id = s["member_id"].as_str().unwrap().to_string();

    for args in [
        json!({"session_token": s["session_token"]}),
        json!({"session_jwt": s["session_jwt"]}),
    ] {
        let a = app.post("/v1/b2b/sessions/authenticate", args).await;
        let body = a.assert_ok();
        assert_eq!(body["member_session"]["member_session_id"], session_id(&s).as_str());
        assert_eq!(body["member_session"]["member_id"], member_id.as_str());
        assert_eq!(body["member_session"]["organization_id"], org_id.as_str());
        assert_eq!(body["member_session"]["organization_slug"], "auth-org");
        assert_eq!(body["member"]["member_id"], member_id.as_str());
        assert_eq!(body["organization"]["organization_id"], org_id.as_str());
        assert!(nonempty(&body["session_jwt"]), "{body}");
    }
    app.post("/v1/b2b/sessions/authenticate", json!({}))
        .await
        .assert_error(400, "no_session_arguments");
    app.post(
        "/v1/b2b/sessions/authenticate",
        json!({"session_token": s["session_token"], "session_jwt": s["session_jwt"]}),
    )
    .await
    .assert_error(400, "too_many_session_arguments");
    app.post("/v1/b2b/sessions/authenticate", json!({"session_token": "nope"}))
        .await
        .assert_error(404, "session_not_found");

    // Sixty minutes unless told otherwise.
    assert_eq!(session_length(&s["member_session"]), chrono::Duration::minutes(60));
    let short = app
        .post(
            "/v1/b2b/passwords/authenticate",
            json!({"organization_id": org_id, "email_address": e, "password": STRONG, "session_duration_minutes": 30}),
        )
        .await;
    let short = short.assert_ok().clone();
    assert_eq!(session_length(&short["member_session"]), chrono::Duration::minutes(30));
    app.clock.advance(chrono::Duration::minutes(31));
    assert_session_gone(&app, &short["session_token"]).await;
    authenticate_session(&app, &s["session_token"]).await.assert_ok();
    app.clock.advance(chrono::Duration::minutes(30));
    assert_session_gone(&app, &s["session_token"]).await;
}

#[tokio::test]
async fn the_member_jwt_names_the_org_and_verifies_against_the_b2b_jwks() {
    let app = TestApp::spawn().await;
    let (org_id, e, ..) = org_with_member(&app, "jwt-org", "b2b-jwt", STRONG).await;
    let s = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let member_id = s["member_id"].as_str().unwrap().to_string();
    let jwt = s["session_jwt"].as_str().unwrap();

    let payload = jwt_payload(jwt);
    assert_eq!(payload["sub"], member_id.as_str());
    assert_eq!(
        payload["https://stytch.com/organization"],
        json!({"organization_id": org_id, "slug": "jwt-org"})
    );
    assert_eq!(payload["iss"], format!("stytch.com/{PROJECT_ID}"));
    assert_eq!(payload["aud"], json!([PROJECT_ID]));
    assert_eq!(payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(), 300);
    let claim = &payload["https://stytch.com/session"];
    assert_eq!(claim["id"], session_id(&s).as_str());
    assert_eq!(claim["authentication_factors"][0]["type"], "password");

    // The JWKS is public.
    let jwks = app.get_public(&format!("/v1/b2b/sessions/jwks/{PROJECT_ID}")).await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let keys = jwks.body["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid");
    let key = keys.iter().find(|k| k["kid"] == kid.as_str()).expect("kid in the JWKS");
    let claims = verify_jwt(jwt, key);
    assert_eq!(claims["sub"], member_id.as_str());
}
