//! Session JWTs: verifiable with the published JWKS (J1); forged ones refused (J2).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latch_tests::{email, verify_jwt, TestApp, PROJECT_ID, STRONG};
use serde_json::{json, Value};

async fn session(app: &TestApp) -> Value {
    app.create_user(&email("jwt"), STRONG, Some(60)).await
}

fn parts(jwt: &str) -> (Value, Value) {
    let mut it = jwt.split('.');
    let h = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    let p = URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap();
    (serde_json::from_slice(&h).unwrap(), serde_json::from_slice(&p).unwrap())
}

#[tokio::test]
async fn minted_jwt_verifies_against_the_jwks_response() {
    // J1
    let app = TestApp::spawn().await;
    let created = session(&app).await;
    let jwt = created["session_jwt"].as_str().unwrap();
    let jwks = app.get_public(&format!("/v1/sessions/jwks/{PROJECT_ID}")).await.body;
    let (header, _) = parts(jwt);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid in JWKS");
    let claims = verify_jwt(jwt, key);
    assert_eq!(claims["sub"], created["user_id"]);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert_eq!(claims["aud"], json!([PROJECT_ID]));
    let s = &claims["https://stytch.com/session"];
    assert_eq!(s["id"], created["session"]["session_id"]);
    for key in [
        "started_at",
        "last_accessed_at",
        "expires_at",
        "attributes",
        "authentication_factors",
        "roles",
    ] {
        assert!(!s[key].is_null(), "session claim lacks {key}");
    }
    assert_eq!(s["roles"], json!(["stytch_user"]));
}

fn resign(payload: &Value, header: Header, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&header, payload, key).unwrap()
}

fn unsigned(header: Value, payload: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    // J2: alg none, HS256 keyed with the public key, unknown kid, tampered payload, a foreign RSA
    // key, and wrong iss/aud signed with the real key; each must fail sessions/authenticate.
    let app = TestApp::spawn().await;
    let created = session(&app).await;
    let jwt = created["session_jwt"].as_str().unwrap().to_string();
    let (header, payload) = parts(&jwt);
    let kid = header["kid"].as_str().unwrap().to_string();
    let jwks = app.get(&format!("/v1/sessions/jwks/{PROJECT_ID}")).await.body;
    let n = jwks["keys"][0]["n"].as_str().unwrap().to_string();

    let foreign = {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand_core_rng(), 2048).unwrap();
        EncodingKey::from_rsa_pem(k.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap()
    };
    let rs256 = |kid: &str| {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(kid.to_string());
        h
    };
    let mut tampered = payload.clone();
    tampered["sub"] = json!("user-test-00000000-0000-4000-8000-000000000001");
    let mut wrong_iss = payload.clone();
    wrong_iss["iss"] = json!("stytch.com/project-test-evil");
    let mut wrong_aud = payload.clone();
    wrong_aud["aud"] = json!(["project-test-evil"]);
    let mut without_aud = payload.clone();
    without_aud.as_object_mut().unwrap().remove("aud");
    let real = EncodingKey::from_rsa_pem(app.signing_key_pem(&kid).await.as_bytes()).unwrap();
    // The control: the same claims re-signed with the real key are accepted.
    app.post(
        "/v1/sessions/authenticate",
        json!({"session_jwt": resign(&payload, rs256(&kid), &real)}),
    )
    .await
    .assert_ok();
    let sig = jwt.rsplit('.').next().unwrap();
    let tampered_same_sig = {
        let head = jwt.split('.').next().unwrap();
        format!("{head}.{}.{sig}", URL_SAFE_NO_PAD.encode(tampered.to_string()))
    };
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());

    let forged = [
        (
            "alg none",
            unsigned(json!({"alg": "none", "typ": "JWT", "kid": kid}), &payload),
        ),
        (
            "HS256 with the public key",
            resign(&payload, hs, &EncodingKey::from_secret(n.as_bytes())),
        ),
        ("unknown kid", resign(&payload, rs256("jwk-test-unknown"), &foreign)),
        ("foreign key, real kid", resign(&payload, rs256(&kid), &foreign)),
        ("tampered payload", tampered_same_sig),
        // Signed with Latch's own key (read from the store, unsealed), so that only the
        // claim check can refuse them; the control below shows that key's signature passes.
        ("wrong iss", resign(&wrong_iss, rs256(&kid), &real)),
        ("wrong aud", resign(&wrong_aud, rs256(&kid), &real)),
        ("no aud", resign(&without_aud, rs256(&kid), &real)),
    ];
    for (what, token) in forged {
        let a = app
            .post("/v1/sessions/authenticate", json!({"session_jwt": token}))
            .await;
        assert!(a.status == 404 || a.status == 400, "{what}: {}", a.body);
        assert!(
            matches!(a.error_type(), "session_not_found" | "unable_to_parse_session_jwt"),
            "{what}: {}",
            a.body
        );
    }
    app.post("/v1/sessions/authenticate", json!({"session_jwt": "not.a.jwt"}))
        .await
        .assert_error(400, "unable_to_parse_session_jwt");
    // The genuine one still works.
    app.post("/v1/sessions/authenticate", json!({"session_jwt": jwt}))
        .await
        .assert_ok();
}

fn rand_core_rng() -> impl rsa::rand_core::CryptoRngCore {
    rsa::rand_core::OsRng
}

#[tokio::test]
async fn revoked_or_expired_sessions_refuse_their_jwt() {
    // J2: a revoked session; a session past its expiry.
    let app = TestApp::spawn().await;
    let a = session(&app).await;
    let jwt = a["session_jwt"].as_str().unwrap();
    app.post("/v1/sessions/revoke", json!({"session_id": a["session"]["session_id"]}))
        .await
        .assert_ok();
    app.post("/v1/sessions/authenticate", json!({"session_jwt": jwt}))
        .await
        .assert_error(404, "session_not_found");

    let b = app.create_user(&email("short"), STRONG, Some(5)).await;
    app.clock.advance(chrono::Duration::minutes(5));
    app.post("/v1/sessions/authenticate", json!({"session_jwt": b["session_jwt"]}))
        .await
        .assert_error(404, "session_not_found");
    app.assert_session_gone(&b).await;
}

#[tokio::test]
async fn a_jwt_past_its_exp_refreshes_while_the_session_lives() {
    // Stytch's documented refresh: the 5-minute JWT expires, the 60-minute session does not.
    let app = TestApp::spawn().await;
    let a = session(&app).await;
    app.clock.advance(chrono::Duration::minutes(10));
    let r = app
        .post("/v1/sessions/authenticate", json!({"session_jwt": a["session_jwt"]}))
        .await;
    let body = r.assert_ok();
    let fresh = body["session_jwt"].as_str().unwrap();
    assert_ne!(fresh, a["session_jwt"].as_str().unwrap());
    let (_, claims) = parts(fresh);
    assert_eq!(claims["iat"].as_i64().unwrap(), app_now(&app).timestamp());
    assert_eq!(body["session_token"], "", "a JWT-named session cannot return its token");
}

fn app_now(app: &TestApp) -> chrono::DateTime<chrono::Utc> {
    use latch::clock::Clock;
    app.clock.now()
}
