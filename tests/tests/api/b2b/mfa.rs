//! Seed 002: MFA with TOTP behind org-scoped passwords; the MFA rule for every primary factor;
//! intermediate session tokens (docs/security.md J3: 10 minutes, single use, bound to member and org).

use latch::clock::Clock;
use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::{json, Value};

async fn required_org(app: &TestApp, slug: &str) -> String {
    let org = create_org(app, slug, json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await;
    assert_eq!(org["mfa_policy"], "REQUIRED_FOR_ALL");
    id(&org)
}

fn ist(body: &Value) -> Value {
    body["intermediate_session_token"].clone()
}

#[tokio::test]
async fn seed_002_totp_enrollment_and_login_j3() {
    let app = TestApp::spawn().await;
    let org_id = required_org(&app, "seed-002").await;
    let e = email("seed2");
    let member = create_member(&app, &org_id, &e, json!({})).await;
    let member_id = member["member_id"].as_str().unwrap().to_string();

    // The email reset is a primary factor too: MFA is required, so it answers an IST.
    let reset = set_password(&app, &org_id, &e, STRONG).await;
    assert_mfa_step(&reset, &member_id, "");

    let first = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    assert_mfa_step(&first, &member_id, "");
    assert_eq!(first["organization_id"], org_id.as_str());
    let ist1 = ist(&first);
    let expires =
        chrono::DateTime::parse_from_rfc3339(first["intermediate_session_token_expires_at"].as_str().unwrap()).unwrap();
    let ten = (expires.with_timezone(&chrono::Utc) - app.clock.now() - chrono::Duration::minutes(10))
        .num_seconds()
        .abs();
    assert!(ten <= 1, "an IST lasts 10 minutes: {first}");

    // Registration with the IST.
    let created = app
        .post(
            "/v1/b2b/totp",
            json!({"organization_id": org_id, "member_id": member_id, "intermediate_session_token": ist1}),
        )
        .await;
    let created = created.assert_ok().clone();
    assert_eq!(created["member_id"], member_id.as_str());
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(base32_decode(&secret).len() >= 10, "{secret}");
    assert!(
        created["qr_code"].as_str().unwrap().starts_with("data:image/"),
        "{created}"
    );
    let recovery = created["recovery_codes"].as_array().unwrap();
    assert_eq!(recovery.len(), 10, "{created}");
    let distinct: std::collections::HashSet<_> = recovery.iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(distinct.len(), 10);
    let registration = created["totp_registration_id"].as_str().unwrap().to_string();
    assert!(!registration.is_empty());
    assert_eq!(
        created["member"]["totp_registration_id"], "",
        "not verified yet: {created}"
    );

    // A wrong code is refused and does not spend the IST.
    totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &wrong_totp(&app, &secret),
        json!({"intermediate_session_token": ist1}),
    )
    .await
    .assert_error(401, "unable_to_authenticate_totp");

    let code = totp_now(&app, &secret);
    let done = totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &code,
        json!({"intermediate_session_token": ist1}),
    )
    .await;
    let done = done.assert_ok().clone();
    assert_eq!(done["member_id"], member_id.as_str());
    assert!(
        nonempty(&done["session_token"]) && nonempty(&done["session_jwt"]),
        "{done}"
    );
    let ms = &done["member_session"];
    assert_eq!(ms["member_id"], member_id.as_str());
    assert_eq!(ms["organization_id"], org_id.as_str());
    assert_eq!(factor_types(ms), ["password", "totp"], "the IST's factor plus totp");
    let totp_factor = ms["authentication_factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "totp")
        .unwrap();
    assert_eq!(totp_factor["delivery_method"], "authenticator_app");
    assert_eq!(
        totp_factor["authenticator_app_factor"]["totp_id"],
        registration.as_str()
    );
    assert_eq!(done["member"]["totp_registration_id"], registration.as_str());
    authenticate_session(&app, &done["session_token"]).await.assert_ok();

    // J3: the IST was consumed (a code of the next, unused step: only the IST is wrong).
    let next_step = totp_code(&secret, app.clock.now().timestamp() + 30);
    totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &next_step,
        json!({"intermediate_session_token": ist1}),
    )
    .await
    .assert_error(404, "intermediate_session_not_found");

    // A verified registration exists now.
    app.post(
        "/v1/b2b/totp",
        json!({"organization_id": org_id, "member_id": member_id, "session_token": done["session_token"]}),
    )
    .await
    .assert_error(400, "active_totp_exists");

    // The next login names the registration; the code already used is refused.
    let second = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    assert_mfa_step(&second, &member_id, &registration);
    assert_ne!(ist(&second), ist1);
    totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &code,
        json!({"intermediate_session_token": ist(&second)}),
    )
    .await
    .assert_error(401, "totp_code_already_authenticated");

    // MFA rule 1: a valid session of this member in this organization skips MFA and gets the
    // factor added.
    let with_session = app
        .post(
            "/v1/b2b/passwords/authenticate",
            json!({"organization_id": org_id, "email_address": e, "password": STRONG, "session_token": done["session_token"]}),
        )
        .await;
    let ws = with_session.assert_ok();
    assert_member_session(ws, &member_id, &org_id);
    assert_eq!(
        ws["member_session"]["member_session_id"], ms["member_session_id"],
        "{ws}"
    );
    let types = factor_types(&ws["member_session"]);
    assert!(
        types.contains(&"password".to_string()) && types.contains(&"totp".to_string()),
        "{types:?}"
    );
}

#[tokio::test]
async fn an_ist_expires_after_ten_minutes_j3() {
    let app = TestApp::spawn().await;
    let org_id = required_org(&app, "ist-expiry").await;
    let e = email("ist-exp");
    member_with_password(&app, &org_id, &e, STRONG, json!({})).await;
    let totp = enroll_totp(&app, &org_id, &e, STRONG).await;

    let stale = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    assert_mfa_step(&stale, &totp.member_id, &totp.registration_id);
    app.clock.advance(chrono::Duration::minutes(11));
    totp_authenticate(
        &app,
        &org_id,
        &totp.member_id,
        &totp_now(&app, &totp.secret),
        json!({"intermediate_session_token": ist(&stale)}),
    )
    .await
    .assert_error(404, "intermediate_session_not_found");

    // Within its ten minutes an IST works.
    let fresh = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    app.clock.advance(chrono::Duration::minutes(9));
    let ok = totp_authenticate(
        &app,
        &org_id,
        &totp.member_id,
        &totp_now(&app, &totp.secret),
        json!({"intermediate_session_token": ist(&fresh)}),
    )
    .await;
    assert_eq!(factor_types(&ok.assert_ok()["member_session"]), ["password", "totp"]);
}

#[tokio::test]
async fn an_enrolled_member_needs_mfa_in_an_optional_org() {
    let app = TestApp::spawn().await;
    let org = create_org(&app, "optional-mfa", json!({})).await;
    assert_eq!(org["mfa_policy"], "OPTIONAL");
    let org_id = id(&org);

    let enrolled = email("enrolled");
    let m = create_member(&app, &org_id, &enrolled, json!({"mfa_enrolled": true})).await;
    assert_eq!(m["mfa_enrolled"], true);
    let member_id = m["member_id"].as_str().unwrap().to_string();
    let reset = set_password(&app, &org_id, &enrolled, STRONG).await;
    assert_mfa_step(&reset, &member_id, "");
    let a = login(&app, &org_id, &enrolled, STRONG).await;
    assert_mfa_step(a.assert_ok(), &member_id, "");

    // A member who is not enrolled logs straight in.
    let plain = email("plain");
    let reset = member_with_password(&app, &org_id, &plain, STRONG, json!({})).await;
    let plain_id = reset["member_id"].as_str().unwrap().to_string();
    assert_member_session(&reset, &plain_id, &org_id);
    assert_member_session(
        login(&app, &org_id, &plain, STRONG).await.assert_ok(),
        &plain_id,
        &org_id,
    );
}

#[tokio::test]
async fn enrolling_with_a_session_makes_later_logins_need_mfa() {
    // TOTP with a session instead of an IST: the factor is added to that session, and
    // set_mfa_enrollment "enroll" makes MFA apply from then on.
    let app = TestApp::spawn().await;
    let (org_id, e, ..) = org_with_member(&app, "enroll-later", "enroll", STRONG).await;
    let s = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let member_id = s["member_id"].as_str().unwrap().to_string();
    assert_member_session(&s, &member_id, &org_id);

    let created = app
        .post(
            "/v1/b2b/totp",
            json!({"organization_id": org_id, "member_id": member_id, "session_token": s["session_token"]}),
        )
        .await;
    let created = created.assert_ok().clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    let registration = created["totp_registration_id"].as_str().unwrap().to_string();
    let done = totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &totp_now(&app, &secret),
        json!({"session_token": s["session_token"], "set_mfa_enrollment": "enroll"}),
    )
    .await;
    let done = done.assert_ok().clone();
    assert_eq!(done["member"]["mfa_enrolled"], true, "{done}");
    assert_eq!(done["member"]["totp_registration_id"], registration.as_str());
    assert_eq!(
        done["member_session"]["member_session_id"], s["member_session"]["member_session_id"],
        "the factor joins the session sent"
    );
    assert_eq!(factor_types(&done["member_session"]), ["password", "totp"]);

    let later = login(&app, &org_id, &e, STRONG).await;
    assert_mfa_step(later.assert_ok(), &member_id, &registration);
}

#[tokio::test]
async fn a_magic_link_is_a_primary_factor_and_an_ist_sent_is_kept() {
    let app = TestApp::spawn().await;
    let org_id = required_org(&app, "magic-mfa").await;
    let e = email("magic-mfa");
    member_with_password(&app, &org_id, &e, STRONG, json!({})).await;
    let totp = enroll_totp(&app, &org_id, &e, STRONG).await;
    // The enrollment used the current step; the codes below come from later ones.
    app.clock.advance(chrono::Duration::seconds(90));

    login_or_signup(&app, &org_id, &e).await.assert_ok();
    let (_, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
    let a = magic_link_authenticate(&app, &token).await;
    let by_link = a.assert_ok().clone();
    assert_mfa_step(&by_link, &totp.member_id, &totp.registration_id);

    // Another primary factor with the IST: the same IST comes back, MFA is still needed.
    let p = app
        .post(
            "/v1/b2b/passwords/authenticate",
            json!({"organization_id": org_id, "email_address": e, "password": STRONG, "intermediate_session_token": ist(&by_link)}),
        )
        .await;
    let by_password = p.assert_ok().clone();
    assert_mfa_step(&by_password, &totp.member_id, &totp.registration_id);
    assert_eq!(ist(&by_password), ist(&by_link), "an IST sent is kept");

    let done = totp_authenticate(
        &app,
        &org_id,
        &totp.member_id,
        &totp_now(&app, &totp.secret),
        json!({"intermediate_session_token": ist(&by_link)}),
    )
    .await;
    // The session holds every factor proved: the IST's first (magic link), the password added
    // to it, and totp (docs/reference/stytch-api.md §7).
    let mut types = factor_types(&done.assert_ok()["member_session"]);
    types.sort();
    assert_eq!(types, ["magic_link", "password", "totp"], "{types:?}");
}

#[tokio::test]
async fn totp_errors() {
    let app = TestApp::spawn().await;
    let org_id = required_org(&app, "totp-errors").await;
    let e = email("totp-err");
    member_with_password(&app, &org_id, &e, STRONG, json!({})).await;
    let first = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    let member_id = first["member_id"].as_str().unwrap().to_string();

    // No registration yet.
    totp_authenticate(
        &app,
        &org_id,
        &member_id,
        "123456",
        json!({"intermediate_session_token": ist(&first)}),
    )
    .await
    .assert_error(404, "totp_not_found");

    let created = app
        .post(
            "/v1/b2b/totp",
            json!({"organization_id": org_id, "member_id": member_id, "intermediate_session_token": ist(&first)}),
        )
        .await;
    let secret = created.assert_ok()["secret"].as_str().unwrap().to_string();
    // Neither an IST nor a session.
    totp_authenticate(&app, &org_id, &member_id, &totp_now(&app, &secret), json!({}))
        .await
        .assert_error(400, "no_session_arguments");
    // An IST that was never issued.
    totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &totp_now(&app, &secret),
        json!({"intermediate_session_token": "not-an-intermediate-session-token"}),
    )
    .await
    .assert_error(404, "intermediate_session_not_found");
    // The pending registration expires (default 60 minutes); so does the IST (10).
    app.clock.advance(chrono::Duration::minutes(61));
    let again = login(&app, &org_id, &e, STRONG).await.assert_ok().clone();
    totp_authenticate(
        &app,
        &org_id,
        &member_id,
        &totp_now(&app, &secret),
        json!({"intermediate_session_token": ist(&again)}),
    )
    .await
    .assert_error(404, "totp_not_found");
}
