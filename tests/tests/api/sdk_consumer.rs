//! The frontend SDK's consumer calls (`/sdk/v1/passwords…`, `magic_links/authenticate`,
//! `sessions/…`, `users/me`, `users/search`), the B2B magic links and session exchange, on both
//! stores: the headless
//! flows of docs/frontend-sdk.md through the door, each the same rule as its backend twin.

use latch_tests::b2b::{create_member, create_org, id, nonempty};
use latch_tests::sdk::{sdk_app, Page, ORIGIN};
use latch_tests::{email, TestApp, STRONG};
use reqwest::Method;
use serde_json::{json, Value};

const NEW: &str = "a brand new passphrase: plum kettle orbit 77";
const OTHER: &str = "yet another passphrase: cedar lantern moss 19";

/// What the SDK needs to keep a user logged in: a session that expires, both tokens non-empty
/// (an empty one switches it to cookie-less mode), and the user.
#[track_caller]
fn assert_logged_in(d: &Value, user_id: &str) {
    assert_eq!(d["session"]["user_id"], user_id, "{d}");
    assert!(nonempty(&d["session"]["expires_at"]), "{d}");
    assert!(nonempty(&d["session_token"]) && nonempty(&d["session_jwt"]), "{d}");
    assert_eq!(d["user"]["user_id"], user_id, "{d}");
}

async fn user_type(page: &Page<'_>, address: &str) -> Value {
    page.post("/sdk/v1/users/search", json!({ "email": address }))
        .await
        .data()["userType"]
        .clone()
}

async fn login_fails_then_works(app: &TestApp, address: &str, old: &str, new: &str) {
    app.login(address, old, None)
        .await
        .assert_error(401, "unauthorized_credentials");
    app.login(address, new, None).await.assert_ok();
}

#[tokio::test]
async fn headless_consumer_passwords_through_the_sdk_door() {
    let app = sdk_app().await;
    let e = email("sdk-consumer");
    let mut page = Page::new(&app);

    // Every page load: no session yet, answered with an error the SDK does not retry.
    page.post("/sdk/v1/sessions/authenticate", json!({}))
        .await
        .assert_error(401, "user_unauthenticated");
    page.get("/sdk/v1/users/me")
        .await
        .assert_error(401, "user_unauthenticated");

    // The pre-built login asks first whether the address is new.
    assert_eq!(user_type(&page, &e).await, "new");
    let weak = page
        .post(
            "/sdk/v1/passwords/strength_check",
            json!({"password": "abc", "email": e}),
        )
        .await
        .data();
    assert_eq!(weak["valid_password"], false, "{weak}");
    assert_eq!(weak["strength_policy"], "zxcvbn");
    let created = page
        .post(
            "/sdk/v1/passwords",
            json!({"email": e, "password": STRONG, "session_duration_minutes": 60}),
        )
        .await;
    created.assert_cors_for(ORIGIN);
    let created = created.data();
    let user_id = created["user_id"].as_str().unwrap().to_string();
    assert_logged_in(&created, &user_id);
    assert_eq!(user_type(&page, &e).await, "password");

    let login = |password: &'static str| json!({"email": e, "password": password, "session_duration_minutes": 60});
    let wrong = page.post("/sdk/v1/passwords/authenticate", login(OTHER)).await;
    wrong.assert_error(401, "unauthorized_credentials");
    wrong.assert_cors_for(ORIGIN);
    let a = page.post("/sdk/v1/passwords/authenticate", login(STRONG)).await.data();
    assert_logged_in(&a, &user_id);
    page.keep_session(&a);

    // The session is the header's, never the body's; users/me is the user itself.
    let s = page.post("/sdk/v1/sessions/authenticate", json!({})).await.data();
    assert_logged_in(&s, &user_id);
    assert_eq!(s["session"]["session_id"], a["session"]["session_id"]);
    let me = page.get("/sdk/v1/users/me").await.data();
    assert_eq!(me["user_id"], user_id, "{me}");
    assert_eq!(me["emails"][0]["email"], e, "{me}");
    assert!(me.get("user").is_none(), "the user's fields are data's own: {me}");

    // resetBySession.
    let r = page
        .post(
            "/sdk/v1/passwords/session/reset",
            json!({"password": NEW, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&r, &user_id);
    page.keep_session(&r);
    login_fails_then_works(&app, &e, STRONG, NEW).await;

    // resetByExistingPassword.
    let x = page
        .post(
            "/sdk/v1/passwords/existing_password/reset",
            json!({"email": e, "existing_password": NEW, "new_password": OTHER, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&x, &user_id);
    login_fails_then_works(&app, &e, NEW, OTHER).await;

    // resetByEmailStart, then resetByEmail with the mailed token.
    let start = page
        .post("/sdk/v1/passwords/email/reset/start", json!({ "email": e }))
        .await
        .data();
    assert!(
        start.get("user_id").is_none(),
        "the page learns only that a mail went out: {start}"
    );
    let mail = app.last_reset_email(&e).await;
    let reset = page
        .post(
            "/sdk/v1/passwords/email/reset",
            json!({"token": mail.reset_token, "password": STRONG, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&reset, &user_id);
    login_fails_then_works(&app, &e, OTHER, STRONG).await;

    // The next reset mail's "log in without password" link, through magicLinks.authenticate.
    page.post("/sdk/v1/passwords/email/reset/start", json!({ "email": e }))
        .await
        .data();
    let mail = app.last_reset_email(&e).await;
    page.session = None;
    let link = page
        .post(
            "/sdk/v1/magic_links/authenticate",
            json!({"token": mail.login_token, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_logged_in(&link, &user_id);

    // Log out: the SDK sends no body. The session is gone for the backend too.
    page.keep_session(&link);
    page.send(Method::POST, "/sdk/v1/sessions/revoke", None).await.data();
    page.post("/sdk/v1/sessions/authenticate", json!({}))
        .await
        .assert_error(404, "session_not_found");
    app.assert_session_gone(&link).await;
}

#[tokio::test]
async fn a_page_writes_no_custom_claims_and_a_session_opens_only_its_own_kind_of_door() {
    let app = sdk_app().await;
    let e = email("sdk-kinds");
    let mut page = Page::new(&app);
    // Fields only the backend may set are not part of the SDK's sign-up: the answer shows none.
    let created = page
        .post(
            "/sdk/v1/passwords",
            json!({"email": e, "password": STRONG, "session_duration_minutes": 60,
                   "session_custom_claims": {"role": "admin"}, "trusted_metadata": {"plan": "gold"}}),
        )
        .await
        .data();
    assert_eq!(created["session"]["custom_claims"], json!({}), "{created}");
    assert_eq!(created["user"]["trusted_metadata"], json!({}), "{created}");
    page.keep_session(&created);
    // A consumer session is no member session.
    page.get("/sdk/v1/b2b/organizations/members/me")
        .await
        .assert_error(404, "session_not_found");
    page.post("/sdk/v1/b2b/sessions/authenticate", json!({}))
        .await
        .assert_error(404, "session_not_found");
}

#[tokio::test]
async fn b2b_email_magic_links_through_the_sdk_door() {
    let app = sdk_app().await;
    let org = create_org(
        &app,
        "sdk-eml",
        json!({"email_jit_provisioning": "RESTRICTED", "email_allowed_domains": ["example.com"]}),
    )
    .await;
    let org_id = id(&org);
    let e = email("sdk-eml");
    assert!(e.ends_with("@example.com"), "{e}");
    let mut page = Page::new(&app);
    let sent = page
        .post(
            "/sdk/v1/b2b/magic_links/email/login_or_signup",
            json!({"organization_id": org_id, "email_address": e}),
        )
        .await
        .data();
    assert!(
        sent.get("member").is_none(),
        "the page learns only that a mail went out: {sent}"
    );
    // The organization's JIT rule holds at this door too.
    page.post(
        "/sdk/v1/b2b/magic_links/email/login_or_signup",
        json!({"organization_id": org_id, "email_address": "mallory@elsewhere.test"}),
    )
    .await
    .assert_error(403, "invalid_email_for_jit_provisioning");
    let (_, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
    let d = page
        .post(
            "/sdk/v1/b2b/magic_links/authenticate",
            json!({"magic_links_token": token, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_eq!(d["organization"]["organization_id"], org_id, "{d}");
    assert!(nonempty(&d["session_token"]), "{d}");
    page.keep_session(&d);
    let me = page.get("/sdk/v1/b2b/organizations/members/me").await.data();
    assert_eq!(me["member"]["email_address"], e);
    assert_eq!(me["member"]["email_address_verified"], true);

    // session.exchange: the proven email moves the page to the member's other organization.
    let other = id(&create_org(&app, "sdk-eml-other", json!({})).await);
    let there = create_member(&app, &other, &e, json!({})).await;
    let moved = page
        .post(
            "/sdk/v1/b2b/sessions/exchange",
            json!({"organization_id": other, "session_duration_minutes": 60}),
        )
        .await
        .data();
    assert_eq!(moved["member_session"]["organization_id"], other, "{moved}");
    assert_eq!(moved["member_id"], there["member_id"], "{moved}");
    page.keep_session(&moved);
    let org_now = page.get("/sdk/v1/b2b/organizations/me").await.data();
    assert_eq!(org_now["organization"]["organization_id"], other);
}
