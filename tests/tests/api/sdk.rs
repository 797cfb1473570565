//! The frontend SDK's door, `/sdk/v1` (docs/frontend-sdk.md), on both stores: CORS for the
//! authorized origins only, the public token opening only this door, the `{"data": …}`
//! envelope, and the B2B password flows of seed 003 through it, each the same rule as its
//! backend twin.

use latch::api::route::Access;
use latch_tests::b2b::*;
use latch_tests::sdk::{preflight, sdk_app, Page, ORIGIN};
use latch_tests::{email, TestApp, PROJECT_ID, SECRET, STRONG};
use reqwest::Method;
use serde_json::{json, Value};

const NEW: &str = "a brand new passphrase: plum kettle orbit 77";
const OTHER: &str = "yet another passphrase: cedar lantern moss 19";

fn sdk_routes() -> impl Iterator<Item = &'static latch::Route> {
    latch::ROUTES
        .iter()
        .filter(|r| matches!(r.access, Access::Browser | Access::Beacon))
}

fn concrete(path: &str, public_token: &str) -> String {
    path.replace("{public_token}", public_token)
}

#[tokio::test]
async fn every_sdk_route_answers_a_preflight_from_an_authorized_origin_only() {
    let app = sdk_app().await;
    let pt = app.state.settings.sdk.public_token.clone();
    for route in sdk_routes() {
        let path = concrete(route.path, &pt);
        let (status, h) = preflight(&app, ORIGIN, route.method.as_str(), &path).await;
        let header = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        assert!((200..300).contains(&status), "{}: preflight {status}", route.name);
        assert_eq!(header("access-control-allow-origin"), ORIGIN, "{}", route.name);
        assert_eq!(header("access-control-allow-credentials"), "true", "{}", route.name);
        for method in ["get", "post", "put", "delete"] {
            assert!(
                header("access-control-allow-methods").contains(method),
                "{}: {h:?}",
                route.name
            );
        }
        for name in ["authorization", "content-type", "x-sdk-client", "x-sdk-parent-host"] {
            assert!(
                header("access-control-allow-headers").contains(name),
                "{}: {h:?}",
                route.name
            );
        }
        // Another origin (even the same host on another port) gets no permission to read.
        for other in ["http://localhost:8081", "https://localhost:8080", "http://evil.example"] {
            let (_, h) = preflight(&app, other, route.method.as_str(), &path).await;
            assert!(
                h.get("access-control-allow-origin").is_none(),
                "{}: {other}: {h:?}",
                route.name
            );
        }
    }
}

#[tokio::test]
async fn a_page_from_another_origin_is_refused_with_cors_headers_it_cannot_use() {
    let app = sdk_app().await;
    let pt = app.state.settings.sdk.public_token.clone();
    let body = json!({"email_address": email("origin"), "password": STRONG, "organization_id": "x",
                      "session_duration_minutes": 30, "organization_slug": "x"});
    for origin in [Some("http://evil.example"), Some("http://localhost:8081"), None] {
        let mut page = Page::new(&app);
        page.origin = origin.map(str::to_string);
        for route in sdk_routes() {
            let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let a = page.send(method, &concrete(route.path, &pt), Some(&body)).await;
            a.assert_error(403, "bad_domain_for_stytch_sdk");
            assert!(a.headers.get("access-control-allow-origin").is_none(), "{origin:?}");
        }
    }
}

#[tokio::test]
async fn only_the_public_token_opens_the_sdk_and_it_opens_nothing_else() {
    let app = sdk_app().await;
    let pt = app.state.settings.sdk.public_token.clone();
    assert!(pt.starts_with("public-token-test-"), "{pt}");
    // The project's credentials, or another token, do not open /sdk/v1 …
    for (user, pass) in [
        (PROJECT_ID, SECRET),
        ("public-token-test-other", "public-token-test-other"),
    ] {
        let mut page = Page::new(&app);
        page.public_token = user.into();
        page.session = Some(pass.into());
        let a = page.get(&format!("/sdk/v1/projects/bootstrap/{pt}")).await;
        a.assert_error(401, "public_token_not_found");
        a.assert_cors_for(ORIGIN);
    }
    // … and the public token opens no /v1 route, as user or as password.
    let body = json!({"email": email("pt"), "password": STRONG});
    for route in latch::ROUTES.iter().filter(|r| r.access == Access::Project) {
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        for auth in [(pt.as_str(), pt.as_str()), (PROJECT_ID, pt.as_str())] {
            let a = app.send(method.clone(), route.path, Some(&body), Some(auth)).await;
            a.assert_error(401, "unauthorized_credentials");
        }
    }
    // The bootstrap's path names the token too.
    Page::new(&app)
        .get("/sdk/v1/projects/bootstrap/public-token-test-other")
        .await
        .assert_error(401, "public_token_not_found");
}

#[tokio::test]
async fn bootstrap_is_offline_safe_and_events_are_accepted_without_credentials() {
    let app = sdk_app().await;
    let pt = app.state.settings.sdk.public_token.clone();
    let a = Page::new(&app).get(&format!("/sdk/v1/projects/bootstrap/{pt}")).await;
    a.assert_cors_for(ORIGIN);
    let d = a.data();
    assert_eq!(d["captcha_settings"], json!({"enabled": false}));
    assert_eq!(d["dfp_protected_auth_enabled"], false);
    assert_eq!(d["email_domains"], json!([]));
    for key in ["password_config", "slug_pattern"] {
        assert!(d.get(key).is_some_and(Value::is_null), "{key} present and null: {d}");
    }
    assert_eq!(d["pkce_required_for_password_resets"], false);
    // The RBAC policy names the member roles and grants nothing: Latch enforces no permission,
    // so the SDK's local check must not claim one.
    let roles = d["rbac_policy"]["roles"].as_array().expect("rbac_policy.roles");
    assert!(roles.iter().any(|r| r["role_id"] == "stytch_member"), "{d}");
    assert!(roles.iter().all(|r| r["permissions"] == json!([])), "{d}");

    // The SDK's telemetry carries no Authorization; from the page's origin it is taken (and
    // dropped), from any other refused.
    let events = |origin: &'static str| {
        app.http
            .post(format!("{}/sdk/v1/events", app.base))
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(r#"[{"telemetry":{},"event":{"event_name":"render_b2b_login_screen"}}]"#)
            .send()
    };
    let ok = events(ORIGIN).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["data"]["status_code"], 200, "{body}");
    assert_eq!(events("http://evil.example").await.unwrap().status(), 403);
}

#[tokio::test]
async fn luds_projects_tell_the_ui_their_rule() {
    let app = TestApp::spawn_with(&[
        ("LATCH_SDK_ORIGINS", ORIGIN),
        ("LATCH_STRENGTH_POLICY", "luds"),
        ("LATCH_LUDS_MIN_LENGTH", "12"),
        ("LATCH_LUDS_MIN_COMPLEXITY", "3"),
    ])
    .await;
    let pt = app.state.settings.sdk.public_token.clone();
    let d = Page::new(&app)
        .get(&format!("/sdk/v1/projects/bootstrap/{pt}"))
        .await
        .data();
    assert_eq!(
        d["password_config"],
        json!({"luds_complexity": 3, "luds_minimum_count": 12})
    );
}

/// An organization with a member who has a password.
/// The body of a B2B password login through the SDK, for a 60-minute session.
fn login_body(org_id: &str, e: &str, password: &str) -> Value {
    json!({"organization_id": org_id, "email_address": e, "password": password,
           "session_duration_minutes": 60})
}

async fn org_with_member(app: &TestApp, slug: &str, extra: Value) -> (String, String, String) {
    let org = create_org(app, slug, extra).await;
    let org_id = id(&org);
    let e = email(slug);
    let member = member_with_password(app, &org_id, &e, STRONG, json!({})).await;
    (org_id, e, member["member_id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn the_prebuilt_ui_looks_up_the_organization_and_the_member_and_gets_null_for_none() {
    let app = sdk_app().await;
    let (org_id, e, _) = org_with_member(&app, "sdk-lookup", json!({})).await;
    let page = Page::new(&app);
    let org = page
        .post(
            "/sdk/v1/b2b/organizations/search",
            json!({"organization_slug": "sdk-lookup"}),
        )
        .await
        .data();
    assert_eq!(org["organization"]["organization_id"], org_id);
    assert_eq!(org["organization"]["organization_logo_url"], "");
    assert_eq!(org["organization"]["sso_active_connections"], json!([]));
    assert!(
        org["organization"].get("trusted_metadata").is_none(),
        "no metadata for anyone: {org}"
    );
    for slug in ["no-such-org", "Not A Slug!"] {
        let none = page
            .post("/sdk/v1/b2b/organizations/search", json!({"organization_slug": slug}))
            .await;
        assert_eq!(none.data()["organization"], Value::Null, "{slug}");
    }
    let found = page
        .post(
            "/sdk/v1/b2b/organizations/members/search",
            json!({"email_address": e, "organization_id": org_id}),
        )
        .await
        .data();
    assert_eq!(found["member"]["status"], "active");
    assert!(nonempty(&found["member"]["member_password_id"]), "{found}");
    let none = page
        .post(
            "/sdk/v1/b2b/organizations/members/search",
            json!({"email_address": email("stranger"), "organization_id": org_id}),
        )
        .await
        .data();
    assert_eq!(none["member"], Value::Null);
}

#[tokio::test]
async fn seed_003_headless_b2b_passwords_through_the_sdk_door() {
    let app = sdk_app().await;
    let (org_id, e, member_id) = org_with_member(&app, "sdk-seed-003", json!({})).await;
    let mut page = Page::new(&app);

    // Every page load: no session yet, answered with an error the SDK does not retry.
    page.post("/sdk/v1/b2b/sessions/authenticate", json!({}))
        .await
        .assert_error(401, "user_unauthenticated");
    page.get("/sdk/v1/b2b/organizations/members/me")
        .await
        .assert_error(401, "user_unauthenticated");

    let login = |password: &'static str| login_body(&org_id, &e, password);
    let wrong = page.post("/sdk/v1/b2b/passwords/authenticate", login(OTHER)).await;
    wrong.assert_error(401, "unauthorized_credentials");
    wrong.assert_cors_for(ORIGIN);

    let a = page.post("/sdk/v1/b2b/passwords/authenticate", login(STRONG)).await;
    a.assert_cors_for(ORIGIN);
    let d = a.data();
    assert_logged_in(&d, &member_id, &org_id);
    page.keep_session(&d);

    // The session is the header's, never the body's.
    let s = page.post("/sdk/v1/b2b/sessions/authenticate", json!({})).await.data();
    assert_logged_in(&s, &member_id, &org_id);
    assert_eq!(
        page.get("/sdk/v1/b2b/organizations/members/me").await.data()["member"]["member_id"],
        member_id
    );
    assert_eq!(
        page.get("/sdk/v1/b2b/organizations/me").await.data()["organization"]["organization_id"],
        org_id
    );

    let strength = page
        .post("/sdk/v1/b2b/passwords/strength_check", json!({"password": "abc"}))
        .await
        .data();
    assert_eq!(strength["valid_password"], false);
    assert_eq!(strength["strength_policy"], "zxcvbn");

    // resetBySession: no organization in the body, the session's own.
    let r = page
        .post("/sdk/v1/b2b/passwords/session/reset", json!({"password": NEW}))
        .await
        .data();
    assert_logged_in(&r, &member_id, &org_id);
    page.keep_session(&r);
    login_fails_then_works(&app, &org_id, &e, STRONG, NEW).await;

    // resetByExistingPassword.
    let x = page
        .post(
            "/sdk/v1/b2b/passwords/existing_password/reset",
            json!({"organization_id": org_id, "email_address": e, "existing_password": NEW,
                   "new_password": OTHER, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&x, &member_id, &org_id);
    login_fails_then_works(&app, &org_id, &e, NEW, OTHER).await;

    // resetByEmailStart, then resetByEmail with the mailed link, which the pre-built UI's reset
    // page recognises by its two types.
    let start = page
        .post(
            "/sdk/v1/b2b/passwords/email/reset/start",
            json!({"organization_id": org_id, "email_address": e}),
        )
        .await
        .data();
    assert!(
        start.get("member").is_none(),
        "the page learns only that a mail went out: {start}"
    );
    let (link, token) = app.b2b_link(&e, "multi_tenant_passwords").await;
    let url = reqwest::Url::parse(&link).unwrap();
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "stytch_redirect_type" && v == "reset_password"),
        "{link}"
    );
    let reset = page
        .post(
            "/sdk/v1/b2b/passwords/email/reset",
            json!({"password_reset_token": token, "password": STRONG, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&reset, &member_id, &org_id);
    login_fails_then_works(&app, &org_id, &e, OTHER, STRONG).await;

    // Log out: the SDK sends no body. The session is gone for the backend too.
    page.keep_session(&reset);
    let out = page.send(Method::POST, "/sdk/v1/b2b/sessions/revoke", None).await;
    out.data();
    page.post("/sdk/v1/b2b/sessions/authenticate", json!({}))
        .await
        .assert_error(404, "session_not_found");
    assert_session_gone(&app, &reset["session_token"]).await;
}

/// What the SDK needs to keep a member logged in (docs/frontend-sdk.md): a member session, both
/// tokens non-empty (an empty one switches it to cookie-less mode), the member and organization.
#[track_caller]
fn assert_logged_in(d: &Value, member_id: &str, org_id: &str) {
    assert_eq!(d["member_session"]["member_id"], member_id, "{d}");
    assert_eq!(d["member_session"]["organization_id"], org_id, "{d}");
    assert!(nonempty(&d["session_token"]) && nonempty(&d["session_jwt"]), "{d}");
    assert_eq!(d["member"]["member_id"], member_id, "{d}");
    assert_eq!(d["organization"]["organization_id"], org_id, "{d}");
}

async fn login_fails_then_works(app: &TestApp, org_id: &str, email: &str, old: &str, new: &str) {
    login(app, org_id, email, old)
        .await
        .assert_error(401, "unauthorized_credentials");
    login(app, org_id, email, new).await.assert_ok();
}

#[tokio::test]
async fn an_organization_that_requires_mfa_is_completed_with_totp_through_the_sdk() {
    let app = sdk_app().await;
    let (org_id, e, member_id) = org_with_member(&app, "sdk-mfa", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await;
    let mut page = Page::new(&app);
    let first = page
        .post("/sdk/v1/b2b/passwords/authenticate", login_body(&org_id, &e, STRONG))
        .await
        .data();
    assert_mfa_step(&first, &member_id, "");
    let ist = first["intermediate_session_token"].clone();
    let created = page
        .post(
            "/sdk/v1/b2b/totp",
            json!({"organization_id": org_id, "member_id": member_id, "intermediate_session_token": ist}),
        )
        .await
        .data();
    assert!(
        created["qr_code"].as_str().unwrap().starts_with("data:image/"),
        "{created}"
    );
    assert_eq!(created["recovery_codes"].as_array().unwrap().len(), 10);
    let secret = created["secret"].as_str().unwrap().to_string();
    // The pre-built UI never sends set_mfa_enrollment: the first good code enrolls.
    let wrong = page
        .post(
            "/sdk/v1/b2b/totp/authenticate",
            json!({"organization_id": org_id, "member_id": member_id, "code": wrong_totp(&app, &secret),
                   "intermediate_session_token": ist, "session_duration_minutes": 60}),
        )
        .await;
    assert_eq!(wrong.answer.status, 401, "{}", wrong.answer.body);
    let done = page
        .post(
            "/sdk/v1/b2b/totp/authenticate",
            json!({"organization_id": org_id, "member_id": member_id, "code": totp_now(&app, &secret),
                   "intermediate_session_token": ist, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&done, &member_id, &org_id);
    assert_eq!(factor_types(&done["member_session"]).len(), 2, "{done}");
    page.keep_session(&done);
    let me = page.get("/sdk/v1/b2b/organizations/members/me").await.data();
    assert!(nonempty(&me["member"]["totp_registration_id"]), "{me}");

    // recoveryCodes.get and .rotate: the session's own member's codes.
    let shown = page.get("/sdk/v1/b2b/recovery_codes").await.data();
    assert_eq!(shown["recovery_codes"], created["recovery_codes"], "{shown}");
    let rotated = page
        .send(Method::POST, "/sdk/v1/b2b/recovery_codes/rotate", Some(&json!({})))
        .await
        .data();
    let fresh = rotated["recovery_codes"].clone();
    assert_eq!(fresh.as_array().unwrap().len(), 10);
    assert_ne!(fresh, created["recovery_codes"]);

    // recoveryCodes.recover: the next login's MFA step with a code instead of the app.
    let mut next = Page::new(&app);
    let again = next
        .post("/sdk/v1/b2b/passwords/authenticate", login_body(&org_id, &e, STRONG))
        .await
        .data();
    let recover = |code: &Value| {
        json!({"organization_id": org_id, "member_id": member_id, "recovery_code": code,
               "intermediate_session_token": again["intermediate_session_token"],
               "session_duration_minutes": 60})
    };
    next.post(
        "/sdk/v1/b2b/recovery_codes/recover",
        recover(&created["recovery_codes"][0]),
    )
    .await
    .assert_error(401, "unable_to_authenticate_recovery_code");
    let recovered = next
        .post("/sdk/v1/b2b/recovery_codes/recover", recover(&fresh[0]))
        .await
        .data();
    assert_logged_in(&recovered, &member_id, &org_id);
    assert_eq!(recovered["recovery_codes_remaining"], 9);
    next.keep_session(&recovered);
    next.get("/sdk/v1/b2b/organizations/members/me").await.data();
}
