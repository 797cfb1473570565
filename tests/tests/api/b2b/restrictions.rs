//! Restrictions Latch is asked to apply are applied or refused, never ignored (docs/security.md X4):
//! `authorization_check` on session authenticate (consumer and B2B), an organization's
//! `auth_methods` / `mfa_methods` RESTRICTED, and public mail domains in `email_allowed_domains`.
//! Also the B2B sends' rate limit (L4) and the B2B login's equal hashing work (E1).

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::{json, Value};

const RESTRICTED: &str = "operation_restricted_by_organization_auth_methods";
const MFA_RESTRICTED: &str = "operation_restricted_by_organization_mfa_methods";

/// At the session authenticate `path` (consumer or B2B): each of the `refused` checks is a 400,
/// and the session still authenticates without a check and with a null one.
async fn assert_checks_refused(app: &TestApp, path: &str, token: &Value, refused: Vec<Value>) {
    for check in refused {
        app.post(path, json!({"session_token": token, "authorization_check": check}))
            .await
            .assert_error(400, "bad_request");
    }
    app.post(path, json!({"session_token": token})).await.assert_ok();
    app.post(path, json!({"session_token": token, "authorization_check": null}))
        .await
        .assert_ok();
}

async fn get_org(app: &TestApp, org_id: &str) -> Value {
    app.get(&format!("/v1/b2b/organizations/{org_id}")).await.assert_ok()["organization"].clone()
}

async fn update_org(app: &TestApp, org_id: &str, body: Value) -> latch_tests::Answer {
    app.put(&format!("/v1/b2b/organizations/{org_id}"), body).await
}

#[tokio::test]
async fn x4_authorization_check_is_refused_on_consumer_session_authenticate() {
    let app = TestApp::spawn().await;
    let created = app.create_user(&email("x4-rbac"), STRONG, Some(60)).await;
    let token = created["session_token"].clone();
    let check = json!({"resource_id": "documents", "action": "delete"});
    // An empty check is still a check asked for; without one (or with null), as before.
    assert_checks_refused(&app, "/v1/sessions/authenticate", &token, vec![check, json!({})]).await;
}

#[tokio::test]
async fn x4_authorization_check_is_refused_on_b2b_session_authenticate() {
    let app = TestApp::spawn().await;
    let org = id(&create_org(&app, "x4-rbac", json!({})).await);
    let other = id(&create_org(&app, "x4-rbac-other", json!({})).await);
    let e = email("x4-rbac-member");
    let done = member_with_password(&app, &org, &e, STRONG, json!({})).await;
    let token = done["session_token"].clone();
    // A check naming another organization would pass today if the field were ignored.
    let refused = vec![
        json!({"organization_id": other, "resource_id": "documents", "action": "delete"}),
        json!({"organization_id": org, "resource_id": "documents", "action": "read"}),
    ];
    assert_checks_refused(&app, "/v1/b2b/sessions/authenticate", &token, refused).await;
}

#[tokio::test]
async fn x4_restricted_auth_methods_refuse_password_login_and_resets() {
    let app = TestApp::spawn().await;
    let org = id(&create_org(&app, "x4-auth", json!({})).await);
    let e = email("x4-auth");
    // The password and a session are set while everything is allowed; a reset link is kept.
    let done = member_with_password(&app, &org, &e, STRONG, json!({})).await;
    let session = done["session_token"].clone();
    reset_start(&app, &org, &e).await.assert_ok();
    let (_, pending_reset) = app.b2b_link(&e, "multi_tenant_passwords").await;
    let mails = app.raw_mail_to(&e).await.len();

    let restricted = update_org(
        &app,
        &org,
        json!({"auth_methods": "RESTRICTED", "allowed_auth_methods": ["magic_link"]}),
    )
    .await;
    let restricted = restricted.assert_ok();
    assert_eq!(restricted["organization"]["auth_methods"], "RESTRICTED");
    assert_eq!(
        restricted["organization"]["allowed_auth_methods"],
        json!(["magic_link"])
    );

    // Password login: the right password, a wrong one and an unknown email get the same answer.
    login(&app, &org, &e, STRONG).await.assert_error(403, RESTRICTED);
    login(&app, &org, &e, "wrong wrong wrong")
        .await
        .assert_error(403, RESTRICTED);
    login(&app, &org, &email("x4-nobody"), STRONG)
        .await
        .assert_error(403, RESTRICTED);
    // Every way of setting a password.
    reset_start(&app, &org, &e).await.assert_error(403, RESTRICTED);
    assert_eq!(app.raw_mail_to(&e).await.len(), mails, "no reset mail is sent");
    email_reset(&app, &pending_reset, "another Strong passphrase 71")
        .await
        .assert_error(403, RESTRICTED);
    existing_password_reset(&app, &org, &e, STRONG, "another Strong passphrase 72")
        .await
        .assert_error(403, RESTRICTED);
    session_reset(&app, &org, &session, "another Strong passphrase 73")
        .await
        .assert_error(403, RESTRICTED);
    // The allowed method works.
    login_or_signup(&app, &org, &e).await.assert_ok();
    let (_, magic) = app.b2b_link(&e, "multi_tenant_magic_links").await;

    // Now only passwords: the magic link sent and any new one are refused, passwords work.
    update_org(&app, &org, json!({"allowed_auth_methods": ["password"]}))
        .await
        .assert_ok();
    magic_link_authenticate(&app, &magic)
        .await
        .assert_error(403, RESTRICTED);
    let before = app.raw_mail_to(&e).await.len();
    login_or_signup(&app, &org, &e).await.assert_error(403, RESTRICTED);
    assert_eq!(app.raw_mail_to(&e).await.len(), before, "no login mail is sent");
    login(&app, &org, &e, STRONG).await.assert_ok();

    // ALL_ALLOWED again: both methods, whatever the list still says; the refused attempts used
    // neither link up.
    update_org(&app, &org, json!({"auth_methods": "ALL_ALLOWED"}))
        .await
        .assert_ok();
    magic_link_authenticate(&app, &magic).await.assert_ok();
    email_reset(&app, &pending_reset, "another Strong passphrase 74")
        .await
        .assert_ok();
    login(&app, &org, &e, "another Strong passphrase 74").await.assert_ok();
}

#[tokio::test]
async fn x4_restricted_mfa_methods_refuse_totp() {
    let app = TestApp::spawn().await;
    let org = id(&create_org(
        &app,
        "x4-mfa",
        json!({"mfa_policy": "REQUIRED_FOR_ALL", "mfa_methods": "RESTRICTED", "allowed_mfa_methods": ["sms_otp"]}),
    )
    .await);
    let e = email("x4-mfa");
    member_with_password(&app, &org, &e, STRONG, json!({})).await;
    let first = login(&app, &org, &e, STRONG).await;
    let first = first.assert_ok().clone();
    let member_id = first["member_id"].as_str().unwrap().to_string();
    app.post(
        "/v1/b2b/totp",
        json!({"organization_id": org, "member_id": member_id,
               "intermediate_session_token": first["intermediate_session_token"]}),
    )
    .await
    .assert_error(403, MFA_RESTRICTED);

    // TOTP allowed: enrollment and a TOTP login work.
    update_org(&app, &org, json!({"allowed_mfa_methods": ["sms_otp", "totp"]}))
        .await
        .assert_ok();
    let totp = enroll_totp(&app, &org, &e, STRONG).await;
    assert_eq!(
        factor_types(&totp.session["member_session"]),
        ["password", "totp"],
        "{}",
        totp.session
    );

    // Restricted to SMS again: the verified registration no longer completes a login.
    update_org(&app, &org, json!({"allowed_mfa_methods": ["sms_otp"]}))
        .await
        .assert_ok();
    app.clock.advance(chrono::Duration::seconds(60));
    let again = login(&app, &org, &e, STRONG).await;
    let again = again.assert_ok().clone();
    totp_authenticate(
        &app,
        &org,
        &member_id,
        &totp_now(&app, &totp.secret),
        json!({"intermediate_session_token": again["intermediate_session_token"]}),
    )
    .await
    .assert_error(403, MFA_RESTRICTED);
    update_org(&app, &org, json!({"mfa_methods": "ALL_ALLOWED"}))
        .await
        .assert_ok();
    totp_authenticate(
        &app,
        &org,
        &member_id,
        &totp_now(&app, &totp.secret),
        json!({"intermediate_session_token": again["intermediate_session_token"]}),
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn x4_method_settings_are_validated_and_unknown_names_not_stored() {
    let app = TestApp::spawn().await;
    let org = id(&create_org(&app, "x4-settings", json!({})).await);
    for (field, value) in [
        ("allowed_auth_methods", json!(["password", "carrier_pigeon"])),
        ("allowed_auth_methods", json!(["PASSWORD"])),
        ("allowed_auth_methods", json!("password")),
        ("allowed_mfa_methods", json!(["email"])),
    ] {
        let mut body = json!({"organization_name": "Methods", "organization_slug": "x4-methods"});
        body[field] = value.clone();
        app.post("/v1/b2b/organizations", body)
            .await
            .assert_error(400, "bad_request");
        let mut update = json!({});
        update[field] = value;
        update_org(&app, &org, update).await.assert_error(400, "bad_request");
    }
    let stored = get_org(&app, &org).await;
    assert_eq!(stored["allowed_auth_methods"], json!([]), "{stored}");
    assert_eq!(stored["allowed_mfa_methods"], json!([]), "{stored}");
    app.get("/v1/b2b/organizations/x4-methods")
        .await
        .assert_error(404, "organization_not_found");

    // RESTRICTED needs something allowed, on create and on update (with the stored list).
    app.post(
        "/v1/b2b/organizations",
        json!({"organization_name": "Methods", "organization_slug": "x4-methods", "auth_methods": "RESTRICTED"}),
    )
    .await
    .assert_error(400, "allowed_auth_methods_required_for_restricted");
    update_org(
        &app,
        &org,
        json!({"auth_methods": "RESTRICTED", "allowed_auth_methods": []}),
    )
    .await
    .assert_error(400, "allowed_auth_methods_required_for_restricted");
    update_org(&app, &org, json!({"mfa_methods": "RESTRICTED"}))
        .await
        .assert_error(400, "allowed_mfa_methods_required_for_restricted");
    assert_eq!(get_org(&app, &org).await["auth_methods"], "ALL_ALLOWED");

    // Every known name is accepted, stored once each.
    let all = json!([
        "sso",
        "magic_link",
        "email_otp",
        "password",
        "google_oauth",
        "microsoft_oauth",
        "slack_oauth",
        "github_oauth",
        "hubspot_oauth",
        "password"
    ]);
    let updated = update_org(
        &app,
        &org,
        json!({"auth_methods": "RESTRICTED", "allowed_auth_methods": all,
               "mfa_methods": "RESTRICTED", "allowed_mfa_methods": ["totp", "sms_otp"]}),
    )
    .await;
    let updated = updated.assert_ok()["organization"].clone();
    assert_eq!(
        updated["allowed_auth_methods"].as_array().unwrap().len(),
        9,
        "{updated}"
    );
    assert_eq!(updated["allowed_mfa_methods"], json!(["totp", "sms_otp"]));
    // Emptying the list under RESTRICTED is refused too.
    update_org(&app, &org, json!({"allowed_mfa_methods": []}))
        .await
        .assert_error(400, "allowed_mfa_methods_required_for_restricted");
    assert_eq!(get_org(&app, &org).await, updated);
}

#[tokio::test]
async fn x4_public_mail_domains_are_refused_in_email_allowed_domains() {
    let app = TestApp::spawn().await;
    for domain in [
        "gmail.com",
        "Outlook.COM",
        "yahoo.com",
        "icloud.com",
        "proton.me",
        "qq.com",
    ] {
        app.post(
            "/v1/b2b/organizations",
            json!({"organization_name": "Open", "organization_slug": "x4-open",
                   "email_jit_provisioning": "RESTRICTED", "email_allowed_domains": ["acme.example", domain]}),
        )
        .await
        .assert_error(400, "organization_settings_domain_too_common");
    }
    app.get("/v1/b2b/organizations/x4-open")
        .await
        .assert_error(404, "organization_not_found");

    let org = id(&create_org(
        &app,
        "x4-domains",
        json!({"email_jit_provisioning": "RESTRICTED", "email_allowed_domains": ["acme.example"]}),
    )
    .await);
    update_org(
        &app,
        &org,
        json!({"email_allowed_domains": ["acme.example", "hotmail.com"]}),
    )
    .await
    .assert_error(400, "organization_settings_domain_too_common");
    assert_eq!(
        get_org(&app, &org).await["email_allowed_domains"],
        json!(["acme.example"])
    );
    // So nobody with a public address joins by JIT provisioning.
    let outsider = email("x4-outsider").replace("@example.com", "@gmail.com");
    login_or_signup(&app, &org, &outsider)
        .await
        .assert_error(403, "invalid_email_for_jit_provisioning");
    // A company domain that merely contains a provider's name is fine.
    update_org(&app, &org, json!({"email_allowed_domains": ["gmail.com.acme.example"]}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn l4_b2b_reset_start_and_magic_link_sends_are_rate_limited_per_email() {
    let app = TestApp::spawn_with(&[("LATCH_RESET_START_LIMIT", "3")]).await;
    let org = id(&create_org(&app, "l4-b2b", json!({})).await);
    let (reset_to, link_to, other) = (email("l4-reset"), email("l4-link"), email("l4-other"));
    for e in [&reset_to, &link_to, &other] {
        create_member(&app, &org, e, json!({})).await;
    }
    for _ in 0..3 {
        reset_start(&app, &org, &reset_to).await.assert_ok();
        login_or_signup(&app, &org, &link_to).await.assert_ok();
    }
    reset_start(&app, &org, &reset_to)
        .await
        .assert_error(429, "too_many_requests");
    login_or_signup(&app, &org, &link_to)
        .await
        .assert_error(429, "too_many_requests");
    assert_eq!(app.raw_mail_to(&reset_to).await.len(), 3, "the mailbox is not flooded");
    assert_eq!(app.raw_mail_to(&link_to).await.len(), 3, "the mailbox is not flooded");

    // The limit is per address: another member of the organization is served.
    reset_start(&app, &org, &other).await.assert_ok();
    login_or_signup(&app, &org, &other).await.assert_ok();
    // An unknown address is counted too, so the limit tells nothing about who is a member.
    let ghost = email("l4-ghost");
    for _ in 0..3 {
        reset_start(&app, &org, &ghost)
            .await
            .assert_error(404, "member_not_found");
    }
    reset_start(&app, &org, &ghost)
        .await
        .assert_error(429, "too_many_requests");
    // The window is an hour.
    app.clock.advance(chrono::Duration::hours(1));
    reset_start(&app, &org, &reset_to).await.assert_ok();
    login_or_signup(&app, &org, &link_to).await.assert_ok();
    assert_eq!(app.raw_mail_to(&reset_to).await.len(), 4);
}

#[tokio::test]
async fn e1_b2b_unknown_email_login_costs_one_verification_like_a_wrong_password() {
    let app = TestApp::spawn().await;
    let (org, e, ..) = org_with_member(&app, "e1-b2b", "e1-b2b", STRONG).await;
    let passwordless = email("e1-b2b-nopassword");
    create_member(&app, &org, &passwordless, json!({})).await;

    let cost = |before: u64| app.verifications() - before;
    let before = app.verifications();
    login(&app, &org, &e, "wrong wrong wrong")
        .await
        .assert_error(401, "unauthorized_credentials");
    let wrong = cost(before);
    let before = app.verifications();
    login(&app, &org, &email("e1-b2b-ghost"), "wrong wrong wrong")
        .await
        .assert_error(404, "member_not_found");
    let unknown = cost(before);
    let before = app.verifications();
    login(&app, &org, &passwordless, "wrong wrong wrong")
        .await
        .assert_error(401, "unauthorized_credentials");
    let no_password = cost(before);
    assert_eq!((wrong, unknown, no_password), (1, 1, 1));

    // The existing-password reset proves the current password the same way.
    const NEW: &str = "another Strong passphrase 75";
    let before = app.verifications();
    existing_password_reset(&app, &org, &e, "wrong wrong wrong", NEW)
        .await
        .assert_error(401, "unauthorized_credentials");
    let wrong = cost(before);
    let before = app.verifications();
    existing_password_reset(&app, &org, &email("e1-b2b-ghost2"), "wrong wrong wrong", NEW)
        .await
        .assert_error(404, "member_not_found");
    assert_eq!((wrong, cost(before)), (1, 1));
}
