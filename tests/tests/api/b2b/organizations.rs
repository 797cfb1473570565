//! Organizations (B1–B4) and members (B5–B6), JIT provisioning through login_or_signup (B7).

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::{json, Value};

async fn get_org(app: &TestApp, id_or_slug: &str) -> latch_tests::Answer {
    app.get(&format!("/v1/b2b/organizations/{id_or_slug}")).await
}

#[tokio::test]
async fn a_fresh_org_has_the_documented_defaults() {
    let app = TestApp::spawn().await;
    let a = app
        .post("/v1/b2b/organizations", json!({"organization_name": "Acme Corp"}))
        .await;
    let org = a.assert_ok()["organization"].clone();
    assert!(id(&org).starts_with("organization-test-"), "{org}");
    assert_eq!(org["organization_name"], "Acme Corp");
    assert_eq!(org["organization_slug"], "acme-corp", "a slug made from the name");
    for (field, value) in [
        ("email_jit_provisioning", "NOT_ALLOWED"),
        ("sso_jit_provisioning", "ALL_ALLOWED"),
        ("auth_methods", "ALL_ALLOWED"),
        ("mfa_policy", "OPTIONAL"),
        ("mfa_methods", "ALL_ALLOWED"),
        ("email_invites", "ALL_ALLOWED"),
    ] {
        assert_eq!(org[field], value, "{field}: {org}");
    }
    assert_eq!(org["email_allowed_domains"], json!([]));
    assert_eq!(org["organization_logo_url"], "");
    // Arrays the Python SDK requires (docs/reference/stytch-api.md §6).
    for field in [
        "sso_jit_provisioning_allowed_connections",
        "sso_active_connections",
        "allowed_auth_methods",
        "rbac_email_implicit_role_assignments",
        "allowed_mfa_methods",
        "claimed_email_domains",
        "allowed_first_party_connected_apps",
        "allowed_third_party_connected_apps",
        "custom_roles",
    ] {
        assert!(org[field].is_array(), "{field}: {org}");
    }

    // With an auth setting in the create call, invites default to NOT_ALLOWED; domains are
    // lower-cased.
    let restricted = create_org(
        &app,
        "restricted",
        json!({"email_jit_provisioning": "RESTRICTED", "email_allowed_domains": ["Example.COM"]}),
    )
    .await;
    assert_eq!(restricted["email_invites"], "NOT_ALLOWED", "{restricted}");
    assert_eq!(restricted["email_jit_provisioning"], "RESTRICTED");
    assert_eq!(restricted["email_allowed_domains"], json!(["example.com"]));
}

#[tokio::test]
async fn get_by_id_or_slug_and_update_only_what_is_sent() {
    let app = TestApp::spawn().await;
    let org = create_org(&app, "crud-one", json!({})).await;
    let org_id = id(&org);
    for key in [org_id.as_str(), "crud-one"] {
        let got = get_org(&app, key).await;
        assert_eq!(got.assert_ok()["organization"]["organization_id"], org_id.as_str());
        assert_eq!(got.body["organization"]["organization_slug"], "crud-one");
    }
    get_org(&app, "organization-test-00000000-0000-4000-8000-000000000000")
        .await
        .assert_error(404, "organization_not_found");
    get_org(&app, "no-such-slug")
        .await
        .assert_error(404, "organization_not_found");

    // A new slug; nothing else changes.
    let u = app
        .put(
            &format!("/v1/b2b/organizations/{org_id}"),
            json!({"organization_slug": "crud-renamed"}),
        )
        .await;
    let updated = u.assert_ok()["organization"].clone();
    assert_eq!(updated["organization_id"], org_id.as_str());
    assert_eq!(updated["organization_slug"], "crud-renamed");
    assert_eq!(updated["organization_name"], org["organization_name"]);
    assert_eq!(updated["mfa_policy"], org["mfa_policy"]);
    assert_eq!(updated["email_invites"], org["email_invites"]);
    get_org(&app, "crud-renamed").await.assert_ok();
    get_org(&app, "crud-one")
        .await
        .assert_error(404, "organization_not_found");

    // Update through the slug.
    let u = app
        .put(
            "/v1/b2b/organizations/crud-renamed",
            json!({"organization_name": "Renamed Inc", "email_allowed_domains": ["Corp.EXAMPLE"]}),
        )
        .await;
    let updated = u.assert_ok()["organization"].clone();
    assert_eq!(updated["organization_name"], "Renamed Inc");
    assert_eq!(updated["organization_slug"], "crud-renamed");
    assert_eq!(updated["email_allowed_domains"], json!(["corp.example"]));
    assert_eq!(
        get_org(&app, &org_id).await.assert_ok()["organization"]["organization_name"],
        "Renamed Inc"
    );

    // Slugs are unique in the project.
    create_org(&app, "crud-two", json!({})).await;
    app.put(
        &format!("/v1/b2b/organizations/{org_id}"),
        json!({"organization_slug": "crud-two"}),
    )
    .await
    .assert_error(400, "organization_slug_already_used");
    app.post(
        "/v1/b2b/organizations",
        json!({"organization_name": "Dup", "organization_slug": "crud-two"}),
    )
    .await
    .assert_error(400, "organization_slug_already_used");
    app.put(
        &format!("/v1/b2b/organizations/{org_id}"),
        json!({"organization_slug": "no spaces"}),
    )
    .await
    .assert_error(400, "invalid_organization_slug");
    app.put(
        "/v1/b2b/organizations/organization-test-00000000-0000-4000-8000-000000000000",
        json!({"organization_name": "Ghost"}),
    )
    .await
    .assert_error(404, "organization_not_found");
    assert_eq!(
        get_org(&app, &org_id).await.assert_ok()["organization"]["organization_slug"],
        "crud-renamed",
        "refused updates change nothing"
    );
}

#[tokio::test]
async fn delete_removes_the_org_its_members_and_their_sessions() {
    let app = TestApp::spawn().await;
    let doomed = id(&create_org(&app, "doomed", json!({})).await);
    let kept = id(&create_org(&app, "kept", json!({})).await);
    let e = email("doomed");
    let gone = member_with_password(&app, &doomed, &e, STRONG, json!({})).await;
    let stays = member_with_password(&app, &kept, &e, STRONG, json!({})).await;

    let d = app.delete(&format!("/v1/b2b/organizations/{doomed}")).await;
    assert_eq!(d.assert_ok()["organization_id"], doomed.as_str());
    get_org(&app, &doomed).await.assert_error(404, "organization_not_found");
    get_org(&app, "doomed")
        .await
        .assert_error(404, "organization_not_found");
    app.delete(&format!("/v1/b2b/organizations/{doomed}"))
        .await
        .assert_error(404, "organization_not_found");
    assert_session_gone(&app, &gone["session_token"]).await;
    app.post(
        "/v1/b2b/sessions/authenticate",
        json!({"session_jwt": gone["session_jwt"]}),
    )
    .await
    .assert_error(404, "session_not_found");
    login(&app, &doomed, &e, STRONG)
        .await
        .assert_error(404, "organization_not_found");

    // The other organization's member with the same address is untouched.
    authenticate_session(&app, &stays["session_token"]).await.assert_ok();
    login(&app, &kept, &e, STRONG).await.assert_ok();

    // The slug is free again, and the old members do not come back with it.
    let reborn = id(&create_org(&app, "doomed", json!({})).await);
    assert_ne!(reborn, doomed);
    login(&app, "doomed", &e, STRONG)
        .await
        .assert_error(404, "member_not_found");
    app.get(&format!("/v1/b2b/organizations/{reborn}/member?email_address={e}"))
        .await
        .assert_error(404, "member_not_found");
    // F1: nothing of the deleted organization is left behind.
    assert_eq!(app.orphans().await, Vec::<String>::new());
}

#[tokio::test]
async fn invalid_organization_input_is_refused() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(129);
    for slug in ["a", "has space", "slash/slash", "ümlaut", "semi;colon", long.as_str()] {
        app.post(
            "/v1/b2b/organizations",
            json!({"organization_name": "Name", "organization_slug": slug}),
        )
        .await
        .assert_error(400, "invalid_organization_slug");
    }
    // Every allowed character class.
    let ok = create_org(&app, "Ab.c_d~E-9", json!({})).await;
    assert_eq!(ok["organization_slug"], "Ab.c_d~E-9");

    for name in ["", long.as_str()] {
        app.post(
            "/v1/b2b/organizations",
            json!({"organization_name": name, "organization_slug": "named"}),
        )
        .await
        .assert_error(400, "invalid_organization_name");
    }
    for (field, value) in [
        ("mfa_policy", "SOMETIMES"),
        ("email_invites", "MAYBE"),
        ("auth_methods", "SOME"),
    ] {
        let mut body = json!({"organization_name": "Enum", "organization_slug": format!("enum-{field}")});
        body[field] = Value::from(value);
        app.post("/v1/b2b/organizations", body)
            .await
            .assert_error(400, "bad_request");
    }
}

#[tokio::test]
async fn members_are_unique_per_org_and_fetched_by_exactly_one_key() {
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "members-a", json!({})).await);
    let b = id(&create_org(&app, "members-b", json!({})).await);
    let e = email("member");

    let m = create_member(&app, &a, &e, json!({"name": "Bob"})).await;
    let member_id = m["member_id"].as_str().unwrap().to_string();
    assert!(member_id.starts_with("member-test-"), "{m}");
    assert_eq!(m["status"], "active");
    assert_eq!(m["email_address"], e.as_str());
    assert_eq!(m["organization_id"], a.as_str());
    assert_eq!(m["name"], "Bob");
    assert_eq!(m["totp_registration_id"], "");
    assert_eq!(m["mfa_enrolled"], false);

    app.post(
        &format!("/v1/b2b/organizations/{a}/members"),
        json!({"email_address": e}),
    )
    .await
    .assert_error(400, "duplicate_member_email");
    // The same address in another organization is another member.
    let other = create_member(&app, &b, &e, json!({})).await;
    assert_ne!(other["member_id"], member_id.as_str());

    let pending = create_member(&app, &a, &email("pending"), json!({"create_member_as_pending": true})).await;
    assert_eq!(pending["status"], "pending");

    let path = format!("/v1/b2b/organizations/{a}/member");
    app.get(&path).await.assert_error(400, "invalid_member_get_fields");
    app.get(&format!("{path}?member_id={member_id}&email_address={e}"))
        .await
        .assert_error(400, "invalid_member_get_fields");
    for query in [format!("member_id={member_id}"), format!("email_address={e}")] {
        let got = app.get(&format!("{path}?{query}")).await;
        assert_eq!(got.assert_ok()["member_id"], member_id.as_str());
        assert_eq!(got.body["member"]["email_address"], e.as_str());
        assert_eq!(got.body["organization"]["organization_id"], a.as_str());
    }
    app.get(&format!("/v1/b2b/organizations/members-a/member?member_id={member_id}"))
        .await
        .assert_ok();
    app.get(&format!(
        "{path}?member_id=member-test-00000000-0000-4000-8000-000000000000"
    ))
    .await
    .assert_error(404, "member_not_found");
    app.post(
        "/v1/b2b/organizations/organization-test-00000000-0000-4000-8000-000000000000/members",
        json!({"email_address": email("nowhere")}),
    )
    .await
    .assert_error(404, "organization_not_found");
    app.post(
        &format!("/v1/b2b/organizations/{a}/members"),
        json!({"email_address": "not-an-email"}),
    )
    .await
    .assert_error(400, "invalid_email");
}

#[tokio::test]
async fn jit_provisioning_follows_the_org_settings() {
    let app = TestApp::spawn().await;
    let closed = id(&create_org(&app, "jit-closed", json!({})).await);
    let e = email("jit");

    // NOT_ALLOWED (the default): no member, no mail.
    login_or_signup(&app, &closed, &e)
        .await
        .assert_error(403, "email_jit_provisioning_not_allowed");
    app.get(&format!("/v1/b2b/organizations/{closed}/member?email_address={e}"))
        .await
        .assert_error(404, "member_not_found");
    assert!(app.raw_mail_to(&e).await.is_empty());

    // RESTRICTED: only listed domains.
    let open = id(&create_org(
        &app,
        "jit-open",
        json!({"email_jit_provisioning": "RESTRICTED", "email_allowed_domains": ["example.com"]}),
    )
    .await);
    let elsewhere = e.replace("@example.com", "@elsewhere.test");
    login_or_signup(&app, &open, &elsewhere)
        .await
        .assert_error(403, "invalid_email_for_jit_provisioning");
    app.get(&format!(
        "/v1/b2b/organizations/{open}/member?email_address={elsewhere}"
    ))
    .await
    .assert_error(404, "member_not_found");
    assert!(app.raw_mail_to(&elsewhere).await.is_empty());
    let a = login_or_signup(&app, &open, &e).await;
    assert_eq!(a.assert_ok()["member_created"], true);
    assert_eq!(a.body["member"]["status"], "pending");

    // An existing member of a NOT_ALLOWED organization gets a login email.
    let known = email("known");
    let m = create_member(&app, &closed, &known, json!({})).await;
    let a = login_or_signup(&app, &closed, &known).await;
    assert_eq!(a.assert_ok()["member_created"], false);
    assert_eq!(a.body["member_id"], m["member_id"]);
    assert_eq!(a.body["member"]["status"], "active");
    let (_, token) = app.b2b_link(&known, "multi_tenant_magic_links").await;
    let auth = magic_link_authenticate(&app, &token).await;
    assert_member_session(auth.assert_ok(), m["member_id"].as_str().unwrap(), &closed);
    // Its magic link belongs to that organization only: no session anywhere else.
    assert_eq!(auth.body["member_session"]["organization_slug"], "jit-closed");
}
