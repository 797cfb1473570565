//! `POST /v1/b2b/sessions/exchange`: a member session for one in another organization of the same
//! email, under that organization's rules (docs/b2b.md): a proven email carries over, a password
//! does not; MFA there means an IST; no member there, no exchange.

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::{json, Value};

/// A session opened by an email magic link in `org` for `e` (a member there).
async fn magic_link_session(app: &TestApp, org: &str, e: &str) -> Value {
    login_or_signup(app, org, e).await.assert_ok();
    let (_, token) = app.b2b_link(e, "multi_tenant_magic_links").await;
    app.post(
        "/v1/b2b/magic_links/authenticate",
        json!({"magic_links_token": token, "session_duration_minutes": 60}),
    )
    .await
    .assert_ok()
    .clone()
}

async fn exchange(app: &TestApp, session: &Value, org: &str) -> latch_tests::Answer {
    app.post(
        "/v1/b2b/sessions/exchange",
        json!({"organization_id": org, "session_token": session["session_token"],
               "session_duration_minutes": 30}),
    )
    .await
}

#[tokio::test]
async fn a_proven_email_moves_to_another_organization_of_the_same_member() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        id(&create_org(&app, "exchange-a", json!({})).await),
        id(&create_org(&app, "exchange-b", json!({})).await),
    );
    let e = email("exchange");
    create_member(&app, &a, &e, json!({})).await;
    let in_b = create_member(&app, &b, &e, json!({})).await;
    let from_a = magic_link_session(&app, &a, &e).await;

    let moved = exchange(&app, &from_a, &b).await;
    let moved = moved.assert_ok();
    assert_member_session(moved, in_b["member_id"].as_str().unwrap(), &b);
    assert_eq!(factor_types(&moved["member_session"]), ["magic_link"], "{moved}");
    assert_eq!(moved["organization"]["organization_id"], b);
    authenticate_session(&app, &moved["session_token"]).await.assert_ok();
    // The session sent stays, in its own organization.
    let kept = authenticate_session(&app, &from_a["session_token"]).await;
    assert_eq!(kept.assert_ok()["organization"]["organization_id"], a);

    // An organization where the email is no member: nothing to move to.
    let c = id(&create_org(&app, "exchange-c", json!({})).await);
    exchange(&app, &from_a, &c).await.assert_error(404, "member_not_found");
    app.post("/v1/b2b/sessions/exchange", json!({"organization_id": b}))
        .await
        .assert_error(400, "no_session_arguments");
}

#[tokio::test]
async fn a_password_does_not_move_and_the_target_rules_decide() {
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "exchange-pw-a", json!({})).await);
    let only_password = id(&create_org(
        &app,
        "exchange-pw-b",
        json!({"auth_methods": "RESTRICTED", "allowed_auth_methods": ["password"]}),
    )
    .await);
    let mfa = id(&create_org(&app, "exchange-pw-c", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await);
    let e = email("exchange-pw");
    member_with_password(&app, &a, &e, STRONG, json!({})).await;
    create_member(&app, &only_password, &e, json!({})).await;
    let in_mfa = create_member(&app, &mfa, &e, json!({})).await;

    // A password session: the password is organization A's, so B asks for a primary factor.
    let by_password = login(&app, &a, &e, STRONG).await.assert_ok().clone();
    let asked = exchange(&app, &by_password, &only_password).await;
    let asked = asked.assert_ok();
    assert_eq!(asked["member_authenticated"], false, "{asked}");
    assert!(asked["member_session"].is_null(), "{asked}");
    assert_eq!(asked["session_token"], "", "{asked}");
    assert_eq!(asked["intermediate_session_token"], "", "{asked}");
    assert_eq!(
        asked["primary_required"],
        json!({"allowed_auth_methods": ["password"]}),
        "{asked}"
    );

    // A proven email into an organization that does not allow email links: the same.
    let by_link = magic_link_session(&app, &a, &e).await;
    let refused = exchange(&app, &by_link, &only_password).await;
    assert_eq!(
        refused.assert_ok()["primary_required"]["allowed_auth_methods"],
        json!(["password"])
    );

    // Into an organization that requires MFA: an IST holding the email factor, no session.
    let step = exchange(&app, &by_link, &mfa).await;
    assert_mfa_step(step.assert_ok(), in_mfa["member_id"].as_str().unwrap(), "");
}

#[tokio::test]
async fn an_exchange_names_its_session_once() {
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "exchange-args-a", json!({})).await);
    let b = id(&create_org(&app, "exchange-args-b", json!({})).await);
    let e = email("exchange-args");
    create_member(&app, &a, &e, json!({})).await;
    create_member(&app, &b, &e, json!({})).await;
    let s = magic_link_session(&app, &a, &e).await;
    app.post(
        "/v1/b2b/sessions/exchange",
        json!({"organization_id": b, "session_token": s["session_token"], "session_jwt": s["session_jwt"]}),
    )
    .await
    .assert_error(400, "too_many_session_arguments");
    app.post(
        "/v1/b2b/sessions/exchange",
        json!({"organization_id": b, "session_jwt": "not a jwt"}),
    )
    .await
    .assert_error(400, "unable_to_parse_session_jwt");
}
