//! Cross-organization passwords (`LATCH_B2B_CROSS_ORG_PASSWORDS=true`, docs/b2b.md): one
//! password per email across every organization it is a member of — and only the password
//! crosses: membership, sessions and intermediate sessions stay bound to their organization.

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

const NEW: &str = "a brand new passphrase: plum kettle orbit 77";

#[tokio::test]
async fn one_password_per_email_across_organizations_and_nothing_else_crosses() {
    let app = TestApp::spawn_with(&[("LATCH_B2B_CROSS_ORG_PASSWORDS", "true")]).await;
    let a = id(&create_org(&app, "cross-a", json!({})).await);
    let b = id(&create_org(&app, "cross-b", json!({})).await);
    let c = id(&create_org(&app, "cross-c", json!({})).await);
    let e = email("cross");

    // The password set in A is the email's password in B as soon as it joins B.
    member_with_password(&app, &a, &e, STRONG, json!({})).await;
    let in_b = create_member(&app, &b, &e, json!({})).await;
    assert_ne!(in_b["member_password_id"], "", "{in_b}");
    let session_b = login(&app, &b, &e, STRONG).await.assert_ok().clone();
    assert_eq!(session_b["member_id"], in_b["member_id"]);

    // A change made in B is the password in A too; the old one works nowhere.
    existing_password_reset(&app, &b, &e, STRONG, NEW).await.assert_ok();
    login(&app, &a, &e, NEW).await.assert_ok();
    login(&app, &a, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");
    login(&app, &b, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");

    // Without a membership the password opens nothing.
    login(&app, &c, &e, NEW).await.assert_error(404, "member_not_found");

    // A session of A is still nothing in B.
    let session_a = login(&app, &a, &e, NEW).await.assert_ok().clone();
    app.post(
        "/v1/b2b/passwords/session/reset",
        json!({"organization_id": b, "password": STRONG, "session_token": session_a["session_token"]}),
    )
    .await
    .assert_error(404, "session_not_found");
}

#[tokio::test]
async fn org_scoped_passwords_are_the_default() {
    let app = TestApp::spawn().await;
    let a = id(&create_org(&app, "scoped-a", json!({})).await);
    let b = id(&create_org(&app, "scoped-b", json!({})).await);
    let e = email("scoped");
    member_with_password(&app, &a, &e, STRONG, json!({})).await;
    let in_b = create_member(&app, &b, &e, json!({})).await;
    assert_eq!(in_b["member_password_id"], "", "{in_b}");
    login(&app, &b, &e, STRONG)
        .await
        .assert_error(401, "unauthorized_credentials");
}
