//! Seed 004 end to end (magic-link signup into an organization, a password set from the session,
//! password login, reset by email), the other resets, PKCE and redirect URLs for B2B links
//! (docs/security.md R4, R5), and a correct but breached password at login.

use latch::domain::pkce::CodeChallenge;
use latch_tests::b2b::*;
use latch_tests::{email, HibpMode, TestApp, ATTACKER, STRONG};
use serde_json::{json, Value};

const NEW: &str = "a brand new passphrase: plum kettle orbit 77";

async fn sessions_of(app: &TestApp, org_id: &str, member_id: &str) -> Vec<Value> {
    let a = app
        .get(&format!(
            "/v1/b2b/sessions?organization_id={org_id}&member_id={member_id}"
        ))
        .await;
    a.assert_ok()["member_sessions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn seed_004_magic_link_signup_password_login_and_email_reset_r4() {
    let app = TestApp::spawn().await;
    let e = email("seed4");
    let domain = e.split('@').nth(1).unwrap().to_string();
    let org = create_org(
        &app,
        "seed-004",
        json!({"email_allowed_domains": [domain], "email_jit_provisioning": "RESTRICTED"}),
    )
    .await;
    let org_id = id(&org);
    assert!(org_id.starts_with("organization-test-"), "{org}");

    // Step 3: an address the organization does not know yet: JIT provisioning, a pending member
    // and a signup email.
    let signup = login_or_signup(&app, &org_id, &e).await;
    let body = signup.assert_ok();
    assert_eq!(body["member_created"], true, "{body}");
    assert_eq!(body["member"]["status"], "pending", "{body}");
    assert_eq!(body["member"]["email_address"], e.as_str());
    assert_eq!(body["organization"]["organization_id"], org_id.as_str());
    let member_id = body["member_id"].as_str().unwrap().to_string();
    assert!(member_id.starts_with("member-test-"), "{body}");
    assert_eq!(body["member"]["member_id"], member_id.as_str());

    let (url, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
    assert!(
        url.contains("?stytch_token_type=multi_tenant_magic_links&token="),
        "{url}"
    );

    // Step 4: the link's token; the member becomes active with a verified email.
    let auth = magic_link_authenticate(&app, &token).await;
    let s1 = auth.assert_ok().clone();
    assert_member_session(&s1, &member_id, &org_id);
    assert_eq!(s1["organization_id"], org_id.as_str());
    assert_eq!(s1["member"]["status"], "active", "{s1}");
    assert_eq!(s1["member"]["email_address_verified"], true, "{s1}");
    let ms = &s1["member_session"];
    assert_eq!(ms["organization_slug"], "seed-004");
    assert_eq!(factor_types(ms), ["magic_link"]);
    let factor = &ms["authentication_factors"][0];
    assert_eq!(factor["delivery_method"], "email");
    assert_eq!(factor["email_factor"]["email_address"], e.as_str());
    assert_eq!(
        session_length(ms),
        chrono::Duration::minutes(60),
        "B2B sessions default to 60 minutes"
    );
    // The link works once.
    magic_link_authenticate(&app, &token)
        .await
        .assert_error(401, "unable_to_auth_magic_link");

    // Step 5: a password from the fresh session; the session survives.
    let set = session_reset(&app, &org_id, &s1["session_token"], STRONG).await;
    let body = set.assert_ok();
    assert_eq!(body["member_authenticated"], true, "{body}");
    assert_eq!(body["member_id"], member_id.as_str());
    assert!(nonempty(&body["member"]["member_password_id"]), "{body}");
    authenticate_session(&app, &s1["session_token"]).await.assert_ok();

    // Step 6: password login, by id and by slug.
    let s2 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    assert_member_session(&s2, &member_id, &org_id);
    assert_eq!(factor_types(&s2["member_session"]), ["password"]);
    assert_eq!(
        s2["member_session"]["authentication_factors"][0]["delivery_method"],
        "knowledge"
    );
    assert_ne!(s2["session_token"], s1["session_token"]);
    login(&app, "seed-004", &e, STRONG).await.assert_ok();

    // Step 7: reset by email.
    let started = reset_start(&app, &org_id, &e).await;
    assert_eq!(started.assert_ok()["member_id"], member_id.as_str());
    assert!(nonempty(&started.body["member_email_id"]), "{}", started.body);
    let newest = app.raw_mail_to(&e).await.pop().unwrap();
    let (reset_url, reset_token) = link_in(&newest, "multi_tenant_passwords").expect("a reset link");
    assert!(
        reset_url.contains("?stytch_token_type=multi_tenant_passwords&token="),
        "{reset_url}"
    );
    assert!(
        link_in(&newest, "multi_tenant_magic_links").is_some(),
        "the reset email also has a log-in-without-password link"
    );

    let done = email_reset(&app, &reset_token, NEW).await;
    let s3 = done.assert_ok().clone();
    assert_member_session(&s3, &member_id, &org_id);
    assert!(nonempty(&s3["member_email_id"]), "{s3}");

    // R4: the email reset revoked every earlier session; its own works.
    for old in [&s1, &s2] {
        assert_session_gone(&app, &old["session_token"]).await;
    }
    authenticate_session(&app, &s3["session_token"]).await.assert_ok();
    login(&app, &org_id, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");
    login(&app, &org_id, &e, NEW).await.assert_ok();
    // The token works once.
    email_reset(&app, &reset_token, "yet another fine passphrase 88")
        .await
        .assert_error(401, "unable_to_auth_password_reset_token");
}

#[tokio::test]
async fn session_reset_keeps_its_session_revokes_the_others_and_needs_a_recent_factor_r4() {
    let app = TestApp::spawn().await;
    let (org_id, e, member_id, s0) = org_with_member(&app, "session-reset", "sreset", STRONG).await;
    let s1 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let s2 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();

    app.post(
        "/v1/b2b/passwords/session/reset",
        json!({"organization_id": org_id, "password": NEW}),
    )
    .await
    .assert_error(400, "no_session_arguments");

    let r = session_reset(&app, &org_id, &s1["session_token"], NEW).await;
    assert_member_session(r.assert_ok(), &member_id, &org_id);
    // R4: the session used survives, the member's other sessions do not.
    authenticate_session(&app, &s1["session_token"]).await.assert_ok();
    for other in [&s0, &s2] {
        assert_session_gone(&app, &other["session_token"]).await;
    }
    login(&app, &org_id, &e, NEW).await.assert_ok();
    login(&app, &org_id, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");

    // A factor older than five minutes cannot reset the password.
    let s3 = login(&app, &org_id, &e, NEW).await.assert_ok().clone();
    app.clock.advance(chrono::Duration::minutes(6));
    authenticate_session(&app, &s3["session_token"]).await.assert_ok();
    session_reset(&app, &org_id, &s3["session_token"], STRONG)
        .await
        .assert_error(400, "session_too_old_to_reset_password");
    login(&app, &org_id, &e, NEW).await.assert_ok();
}

#[tokio::test]
async fn existing_password_reset_needs_the_current_password_and_revokes_every_session_r4() {
    let app = TestApp::spawn().await;
    let (org_id, e, member_id, s0) = org_with_member(&app, "existing-reset", "existing", STRONG).await;
    let s1 = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let reset = |existing: &'static str| existing_password_reset(&app, &org_id, &e, existing, NEW);
    reset("not the password at all 12")
        .await
        .assert_error(401, "unauthorized_credentials");
    let fresh = reset(STRONG).await.assert_ok().clone();
    assert_member_session(&fresh, &member_id, &org_id);
    for old in [&s0, &s1] {
        assert_session_gone(&app, &old["session_token"]).await;
    }
    authenticate_session(&app, &fresh["session_token"]).await.assert_ok();
    login(&app, &org_id, &e, NEW).await.assert_ok();
    login(&app, &org_id, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");
}

#[tokio::test]
async fn the_reset_emails_login_link_is_a_one_time_magic_link() {
    let app = TestApp::spawn().await;
    let (org_id, e, member_id, _) = org_with_member(&app, "reset-login-link", "resetlink", STRONG).await;
    let (reset_token, login_token) = reset_mail(&app, &org_id, &e).await;
    assert_ne!(reset_token, login_token);

    // The two tokens are not interchangeable (and presenting one at the wrong endpoint does not
    // burn it).
    magic_link_authenticate(&app, &reset_token)
        .await
        .assert_error(401, "unable_to_auth_magic_link");
    let a = magic_link_authenticate(&app, &login_token).await;
    let body = a.assert_ok();
    assert_member_session(body, &member_id, &org_id);
    assert_eq!(factor_types(&body["member_session"]), ["magic_link"]);
    magic_link_authenticate(&app, &login_token)
        .await
        .assert_error(401, "unable_to_auth_magic_link");
    email_reset(&app, &login_token, NEW)
        .await
        .assert_error(401, "unable_to_auth_password_reset_token");
    email_reset(&app, &reset_token, NEW).await.assert_ok();
    login(&app, &org_id, &e, NEW).await.assert_ok();
}

#[tokio::test]
async fn pkce_binds_b2b_resets_and_magic_links_r5() {
    let app = TestApp::spawn().await;
    let org_id = id(&create_org(&app, "pkce-org", json!({})).await);
    let e = email("b2b-pkce");
    create_member(&app, &org_id, &e, json!({})).await;
    let verifier = "a-very-secret-code-verifier-that-is-long-enough-0123456789";
    let challenge = CodeChallenge::of_verifier(verifier);

    reset_start_with(&app, &org_id, &e, json!({"code_challenge": challenge}))
        .await
        .assert_ok();
    let (_, token) = app.b2b_link(&e, "multi_tenant_passwords").await;
    let reset = |extra: Value| {
        let mut body = json!({"password_reset_token": token, "password": STRONG});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        app.post("/v1/b2b/passwords/email/reset", body)
    };
    reset(json!({})).await.assert_error(400, "pkce_expected_code_verifier");
    reset(json!({"code_verifier": "wrong-verifier"}))
        .await
        .assert_error(401, "pkce_mismatch");
    reset(json!({"code_verifier": verifier})).await.assert_ok();

    login_or_signup_with(&app, &org_id, &e, json!({"pkce_code_challenge": challenge}))
        .await
        .assert_ok();
    let (_, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
    let auth = |extra: Value| {
        let mut body = json!({"magic_links_token": token});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        app.post("/v1/b2b/magic_links/authenticate", body)
    };
    auth(json!({})).await.assert_error(400, "pkce_expected_code_verifier");
    auth(json!({"pkce_code_verifier": "wrong-verifier"}))
        .await
        .assert_error(401, "pkce_mismatch");
    auth(json!({"pkce_code_verifier": verifier})).await.assert_ok();
}

#[tokio::test]
async fn b2b_links_point_only_at_allowed_redirect_urls_r5() {
    let app = TestApp::spawn_with(&[
        ("LATCH_RESET_PASSWORD_REDIRECT_URL", "https://app.example.com/reset"),
        ("LATCH_LOGIN_REDIRECT_URL", "https://app.example.com/login"),
        ("LATCH_SIGNUP_REDIRECT_URL", "https://app.example.com/signup"),
        (
            "LATCH_REDIRECT_URLS",
            "https://app.example.com/reset,https://app.example.com/login,https://app.example.com/signup,\
             https://app.example.com/alt",
        ),
    ])
    .await;
    let org_id = id(&create_org(&app, "redirects", json!({})).await);
    let e = email("b2b-redirect");
    create_member(&app, &org_id, &e, json!({})).await;

    reset_start(&app, &org_id, &e).await.assert_ok();
    let mail = app.raw_mail_to(&e).await.pop().unwrap();
    let (reset_url, _) = link_in(&mail, "multi_tenant_passwords").unwrap();
    let (login_url, _) = link_in(&mail, "multi_tenant_magic_links").unwrap();
    assert!(
        reset_url.starts_with("https://app.example.com/reset?stytch_token_type=multi_tenant_passwords&token="),
        "{reset_url}"
    );
    assert!(
        login_url.starts_with("https://app.example.com/login?stytch_token_type=multi_tenant_magic_links&token="),
        "{login_url}"
    );

    let sent = app.raw_mail_to(&e).await.len();
    reset_start_with(
        &app,
        &org_id,
        &e,
        json!({"reset_password_redirect_url": "https://evil.example.net/reset"}),
    )
    .await
    .assert_error(400, "invalid_password_reset_redirect_url");
    login_or_signup_with(
        &app,
        &org_id,
        &e,
        json!({"login_redirect_url": "https://evil.example.net/login"}),
    )
    .await
    .assert_error(400, "invalid_login_redirect_url");
    login_or_signup_with(
        &app,
        &org_id,
        &e,
        json!({"signup_redirect_url": "https://evil.example.net/signup"}),
    )
    .await
    .assert_error(400, "invalid_signup_redirect_url");
    assert_eq!(app.raw_mail_to(&e).await.len(), sent, "nothing sent for a refused URL");

    // An existing member gets a login email, at a listed URL of the request's choosing.
    let a = login_or_signup_with(
        &app,
        &org_id,
        &e,
        json!({"login_redirect_url": "https://app.example.com/alt"}),
    )
    .await;
    assert_eq!(a.assert_ok()["member_created"], false);
    let (url, _) = app.b2b_link(&e, "multi_tenant_magic_links").await;
    assert!(
        url.starts_with("https://app.example.com/alt?stytch_token_type=multi_tenant_magic_links&token="),
        "{url}"
    );
}

#[tokio::test]
async fn a_correct_but_breached_password_at_login_must_be_reset() {
    // As B2 for users: member_reset_password and no session; the flag outlives the breach service.
    // Passwords are set with the create-time check off, so the breach is first learned at login
    // (a range answer fetched when the password was set would be cached).
    let app = TestApp::spawn_with(&[("LATCH_BREACH_CHECK_ON_CREATE", "false")]).await;
    let org_id = id(&create_org(&app, "breached", json!({})).await);
    let e = email("b2b-breach");
    let pw = "strong phrase breached after it was set 57";
    let s0 = member_with_password(&app, &org_id, &e, pw, json!({})).await;
    let member_id = s0["member_id"].as_str().unwrap().to_string();
    app.hibp.mark_breached(pw);
    let before = sessions_of(&app, &org_id, &member_id).await.len();

    let a = app
        .post(
            "/v1/b2b/passwords/authenticate",
            json!({"organization_id": org_id, "email_address": e, "password": pw, "session_duration_minutes": 60}),
        )
        .await;
    a.assert_error(401, "member_reset_password");
    assert_eq!(
        sessions_of(&app, &org_id, &member_id).await.len(),
        before,
        "no session issued"
    );
    login(&app, &org_id, &e, "wrong password entirely 4")
        .await
        .assert_error(401, "unauthorized_credentials");
    app.hibp.set_mode(HibpMode::Unavailable);
    login(&app, &org_id, &e, pw)
        .await
        .assert_error(401, "member_reset_password");
    app.hibp.set_mode(HibpMode::Normal);

    // The email reset restores access.
    set_password(&app, &org_id, &e, NEW).await;
    login(&app, &org_id, &e, NEW).await.assert_ok();
}

/// SECURITY R7: both links of a B2B reset mail sent before a password change are refused (the
/// magic link first: it changes nothing, so it cannot hide the reset link's failure).
async fn assert_b2b_links_dead(app: &TestApp, (reset, login): &(String, String)) {
    magic_link_authenticate(app, login)
        .await
        .assert_error(401, "unable_to_auth_magic_link");
    email_reset(app, reset, ATTACKER)
        .await
        .assert_error(401, "unable_to_auth_password_reset_token");
}

#[tokio::test]
async fn r7_a_completed_b2b_email_reset_kills_the_older_mails_links_and_its_own_magic_link() {
    let app = TestApp::spawn().await;
    let (org_id, e, ..) = org_with_member(&app, "r7-email", "r7b2bemail", STRONG).await;
    let t1 = reset_mail(&app, &org_id, &e).await;
    let t2 = reset_mail(&app, &org_id, &e).await;
    email_reset(&app, &t2.0, NEW).await.assert_ok();
    assert_b2b_links_dead(&app, &t1).await;
    magic_link_authenticate(&app, &t2.1)
        .await
        .assert_error(401, "unable_to_auth_magic_link");
    login(&app, &org_id, &e, NEW).await.assert_ok();
}

#[tokio::test]
async fn r7_b2b_existing_password_and_session_resets_kill_outstanding_links() {
    let app = TestApp::spawn().await;
    let (org_id, e, ..) = org_with_member(&app, "r7-existing", "r7b2bexisting", STRONG).await;
    let mail = reset_mail(&app, &org_id, &e).await;
    existing_password_reset(&app, &org_id, &e, STRONG, NEW)
        .await
        .assert_ok();
    assert_b2b_links_dead(&app, &mail).await;

    let current = login(&app, &org_id, &e, NEW).await.assert_ok().clone();
    let mail = reset_mail(&app, &org_id, &e).await;
    session_reset(&app, &org_id, &current["session_token"], STRONG)
        .await
        .assert_ok();
    assert_b2b_links_dead(&app, &mail).await;
    authenticate_session(&app, &current["session_token"]).await.assert_ok();
    login(&app, &org_id, &e, STRONG).await.assert_ok();
}

#[tokio::test]
async fn r7_a_password_copied_from_another_organization_kills_the_members_links() {
    let app = TestApp::spawn_with(&[("LATCH_B2B_CROSS_ORG_PASSWORDS", "true")]).await;
    let a = id(&create_org(&app, "r7-cross-a", json!({})).await);
    let b = id(&create_org(&app, "r7-cross-b", json!({})).await);
    let e = email("r7cross");
    member_with_password(&app, &a, &e, STRONG, json!({})).await;
    create_member(&app, &b, &e, json!({})).await;
    // A mail for B's membership, then the password changed in A (and copied to B).
    let in_b = reset_mail(&app, &b, &e).await;
    existing_password_reset(&app, &a, &e, STRONG, NEW).await.assert_ok();
    assert_b2b_links_dead(&app, &in_b).await;
    login(&app, &b, &e, NEW).await.assert_ok();
}
