//! The organization boundary holds under every cross-org attempt: passwords, members, sessions,
//! resets and intermediate sessions of one organization are nothing in another (docs/b2b.md
//! "Members", "B2B sessions"; docs/security.md J3). And member sessions and user sessions never cross.

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

const OTHER: &str = "another strong phrase for org b 93";
const NEW: &str = "a brand new passphrase: plum kettle orbit 77";

#[tokio::test]
async fn the_org_boundary_holds_for_passwords_members_and_sessions() {
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "iso-a", json!({})).await);
    let b = id(&create_org(&app, "iso-b", json!({})).await);

    // The same address in both organizations: two members, two passwords.
    let e = email("both");
    let in_a = member_with_password(&app, &a, &e, STRONG, json!({})).await;
    let in_b = member_with_password(&app, &b, &e, OTHER, json!({})).await;
    assert_ne!(in_a["member_id"], in_b["member_id"]);
    assert_eq!(
        login(&app, &a, &e, STRONG).await.assert_ok()["member_id"],
        in_a["member_id"]
    );
    assert_eq!(
        login(&app, &b, &e, OTHER).await.assert_ok()["member_id"],
        in_b["member_id"]
    );
    login(&app, &b, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");
    login(&app, &a, &e, OTHER)
        .await
        .assert_error(401, "unauthorized_credentials");
    login(&app, "iso-b", &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");

    // A member of A only.
    let only = email("only-a");
    let only_a = member_with_password(&app, &a, &only, STRONG, json!({})).await;
    let only_a_id = only_a["member_id"].as_str().unwrap().to_string();
    login(&app, &b, &only, STRONG)
        .await
        .assert_error(404, "member_not_found");
    login(&app, "iso-b", &only, STRONG)
        .await
        .assert_error(404, "member_not_found");
    let sent = app.raw_mail_to(&only).await.len();
    reset_start(&app, &b, &only).await.assert_error(404, "member_not_found");
    existing_password_reset(&app, &b, &only, STRONG, NEW)
        .await
        .assert_error(404, "member_not_found");
    assert_eq!(app.raw_mail_to(&only).await.len(), sent, "no mail for B");

    // Looking A's member up through B.
    app.get(&format!("/v1/b2b/organizations/{b}/member?member_id={only_a_id}"))
        .await
        .assert_error(404, "member_not_found");
    app.get(&format!("/v1/b2b/organizations/{b}/member?email_address={only}"))
        .await
        .assert_error(404, "member_not_found");
    app.get(&format!("/v1/b2b/organizations/{a}/member?member_id={only_a_id}"))
        .await
        .assert_ok();
    app.get(&format!("/v1/b2b/sessions?organization_id={b}&member_id={only_a_id}"))
        .await
        .assert_error(404, "member_not_found");
    app.post("/v1/b2b/totp", json!({"organization_id": b, "member_id": only_a_id}))
        .await
        .assert_error(404, "member_not_found");

    // A's sessions in B's session reset: not found, and nothing changes.
    for s in [&only_a, &in_a] {
        session_reset(&app, &b, &s["session_token"], NEW)
            .await
            .assert_error(404, "session_not_found");
        app.post(
            "/v1/b2b/passwords/session/reset",
            json!({"organization_id": b, "session_jwt": s["session_jwt"], "password": NEW}),
        )
        .await
        .assert_error(404, "session_not_found");
    }
    login(&app, &b, &e, OTHER).await.assert_ok();
    login(&app, &b, &e, NEW)
        .await
        .assert_error(401, "unauthorized_credentials");
    // A's session is still good in A.
    authenticate_session(&app, &in_a["session_token"]).await.assert_ok();
}

#[tokio::test]
async fn another_orgs_session_does_not_skip_mfa() {
    // MFA rule 1 needs a session of this member *in this organization*: a session from an
    // organization without MFA must not carry the same address past B's MFA.
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "no-mfa", json!({})).await);
    let b = id(&create_org(&app, "mfa-b", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await);
    let e = email("skip");
    let in_a = member_with_password(&app, &a, &e, STRONG, json!({})).await;
    member_with_password(&app, &b, &e, OTHER, json!({})).await;
    assert_eq!(in_a["member_authenticated"], true);

    for session in [
        json!({"session_token": in_a["session_token"]}),
        json!({"session_jwt": in_a["session_jwt"]}),
    ] {
        let mut body = json!({"organization_id": b, "email_address": e, "password": OTHER});
        body.as_object_mut()
            .unwrap()
            .extend(session.as_object().unwrap().clone());
        let r = app.post("/v1/b2b/passwords/authenticate", body).await;
        assert!(
            !(r.status == 200 && r.body["member_authenticated"] == true),
            "A's session carried the member past B's MFA: {}",
            r.body
        );
        if r.status == 200 {
            assert!(r.body["member_session"].is_null(), "{}", r.body);
            assert_eq!(r.body["session_token"], "", "{}", r.body);
        } else {
            r.assert_error(404, "session_not_found");
        }
    }
}

#[tokio::test]
async fn an_ist_is_bound_to_its_organization_and_member_j3() {
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "ist-a", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await);
    let b = id(&create_org(&app, "ist-b", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await);
    let e = email("ist-both");
    let f = email("ist-other");
    member_with_password(&app, &a, &e, STRONG, json!({})).await;
    member_with_password(&app, &b, &e, OTHER, json!({})).await;
    member_with_password(&app, &a, &f, STRONG, json!({})).await;
    let b_e = enroll_totp(&app, &b, &e, OTHER).await;
    let a_f = enroll_totp(&app, &a, &f, STRONG).await;
    // The enrollments used the current step; the codes below come from later ones.
    app.clock.advance(chrono::Duration::seconds(90));

    let first = login(&app, &a, &e, STRONG).await.assert_ok().clone();
    let a_e_id = first["member_id"].as_str().unwrap().to_string();
    let ist_a = first["intermediate_session_token"].clone();
    assert!(nonempty(&ist_a), "{first}");

    // Everything right for B's member except the IST, which is A's.
    totp_authenticate(
        &app,
        &b,
        &b_e.member_id,
        &totp_now(&app, &b_e.secret),
        json!({"intermediate_session_token": ist_a}),
    )
    .await
    .assert_error(404, "intermediate_session_not_found");
    // Another member of the same organization.
    totp_authenticate(
        &app,
        &a,
        &a_f.member_id,
        &totp_now(&app, &a_f.secret),
        json!({"intermediate_session_token": ist_a}),
    )
    .await
    .assert_error(404, "intermediate_session_not_found");
    // A's member named under B: not found either way (which of the two is checked first is
    // left open by the spec).
    let r = totp_authenticate(
        &app,
        &b,
        &a_e_id,
        &totp_now(&app, &b_e.secret),
        json!({"intermediate_session_token": ist_a}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(
        matches!(r.error_type(), "intermediate_session_not_found" | "member_not_found"),
        "{}",
        r.body
    );
    // And B's member did not get a session out of any of it.
    let listed = app
        .get(&format!(
            "/v1/b2b/sessions?organization_id={b}&member_id={}",
            b_e.member_id
        ))
        .await;
    let sessions = listed.assert_ok()["member_sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 1, "only the enrollment's session: {sessions:?}");
    assert_eq!(
        sessions[0]["member_session_id"],
        b_e.session["member_session"]["member_session_id"]
    );
}

#[tokio::test]
async fn member_sessions_and_user_sessions_do_not_cross() {
    let app = TestApp::spawn().await;
    let (org, e, member_id, member) = org_with_member(&app, "the-line", "member-line", STRONG).await;
    let user = app.create_user(&email("user-line"), STRONG, Some(60)).await;

    // A member session on consumer endpoints.
    app.post(
        "/v1/sessions/authenticate",
        json!({"session_token": member["session_token"]}),
    )
    .await
    .assert_error(404, "session_not_found");
    app.post(
        "/v1/sessions/authenticate",
        json!({"session_jwt": member["session_jwt"]}),
    )
    .await
    .assert_error(404, "session_not_found");
    app.post(
        "/v1/passwords/session/reset",
        json!({"session_token": member["session_token"], "password": NEW}),
    )
    .await
    .assert_error(404, "session_not_found");

    // A user session on B2B endpoints.
    app.post(
        "/v1/b2b/sessions/authenticate",
        json!({"session_token": user["session_token"]}),
    )
    .await
    .assert_error(404, "session_not_found");
    app.post(
        "/v1/b2b/sessions/authenticate",
        json!({"session_jwt": user["session_jwt"]}),
    )
    .await
    .assert_error(404, "session_not_found");
    session_reset(&app, &org, &user["session_token"], NEW)
        .await
        .assert_error(404, "session_not_found");

    // Each still works on its own side.
    app.post(
        "/v1/sessions/authenticate",
        json!({"session_token": user["session_token"]}),
    )
    .await
    .assert_ok();
    authenticate_session(&app, &member["session_token"]).await.assert_ok();
    login(&app, &org, &e, STRONG).await.assert_ok();

    // A member id is not a user id; a member's address is not a user.
    app.get(&format!("/v1/users/{member_id}"))
        .await
        .assert_error(400, "invalid_user_id");
    app.delete(&format!("/v1/users/{member_id}"))
        .await
        .assert_error(400, "invalid_user_id");
    app.get(&format!("/v1/sessions?user_id={member_id}"))
        .await
        .assert_error(400, "invalid_user_id");
    app.login(&e, STRONG, None).await.assert_error(404, "email_not_found");
    app.get(&format!("/v1/b2b/organizations/{org}/member?member_id={member_id}"))
        .await
        .assert_ok();
}
