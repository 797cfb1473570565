//! Account pre-hijacking (Stytch's third `reset_password` case): someone sets a password for an
//! address they do not own; when the owner first proves the address by a passwordless method
//! (today the reset email's "log in without password" link), that password must not keep
//! working. The next password login answers `reset_password` until a reset by email. A password
//! set after the address was proven is never flagged. (docs/security.md R6, R4.)

use latch_tests::{email, ResetEmail, TestApp, STRONG};
use serde_json::{json, Value};

const NEW: &str = "a new passphrase after the takeover: quince lantern 58";

async fn magic_link(app: &TestApp, mail: &ResetEmail) -> Value {
    app.magic_link_authenticate(&mail.login_token, json!({"session_duration_minutes": 60}))
        .await
        .assert_ok()
        .clone()
}

async fn email_verified(app: &TestApp, user_id: &str) -> bool {
    app.get(&format!("/v1/users/{user_id}")).await.assert_ok()["emails"][0]["verified"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn prehijack_the_first_magic_link_flags_a_password_set_before_the_email_was_proven() {
    let app = TestApp::spawn().await;
    let e = email("prehijack");
    // The "attacker" signs up with the victim's address: the password works, the email is not
    // verified.
    let created = app.create_user(&e, STRONG, Some(60)).await;
    let user_id = created["user_id"].as_str().unwrap().to_string();
    assert!(!email_verified(&app, &user_id).await);
    let attacker = app.login(&e, STRONG, Some(60)).await.assert_ok().clone();

    // The owner proves the address by the "log in without password" link.
    let mail = app.start_reset(&e).await;
    let owner = magic_link(&app, &mail).await;
    assert_eq!(owner["user"]["password"]["requires_reset"], true);
    assert!(email_verified(&app, &user_id).await);
    // The sessions the password bought are revoked; the owner's new one lives.
    assert_eq!(owner["reset_sessions"], true);
    for gone in [&created, &attacker] {
        app.assert_session_gone(gone).await;
    }
    app.assert_session_alive(&owner).await;

    // The password no longer logs in, nor buys its own replacement.
    app.login(&e, STRONG, Some(60))
        .await
        .assert_error(401, "reset_password");
    app.existing_password_reset(&e, STRONG, NEW)
        .await
        .assert_error(401, "reset_password");
    app.login(&e, STRONG, None).await.assert_error(401, "reset_password");

    // A completed reset by email clears it.
    app.email_reset(&mail.reset_token, NEW, json!({})).await.assert_ok();
    let ok = app.login(&e, NEW, Some(60)).await;
    assert_eq!(ok.assert_ok()["user"]["password"]["requires_reset"], false);
    app.login(&e, STRONG, None)
        .await
        .assert_error(401, "unauthorized_credentials");
}

#[tokio::test]
async fn prehijack_the_owners_magic_link_session_may_reset_the_flagged_password() {
    let app = TestApp::spawn().await;
    let e = email("prehijack-session");
    app.create_user(&e, STRONG, None).await;
    let owner = magic_link(&app, &app.start_reset(&e).await).await;
    app.session_reset(&owner, NEW).await.assert_ok();
    app.login(&e, NEW, None).await.assert_ok();
}

#[tokio::test]
async fn prehijack_a_password_set_after_the_email_was_proven_is_not_flagged() {
    let app = TestApp::spawn().await;
    let e = email("prehijack-after");
    app.create_user(&e, STRONG, None).await;
    // A reset by email proves the address and sets the password after it.
    let first = app.start_reset(&e).await;
    app.email_reset(&first.reset_token, NEW, json!({})).await.assert_ok();
    // A later magic link is not the first proof: the password keeps working.
    let kept = app.login(&e, NEW, Some(60)).await.assert_ok().clone();
    let owner = magic_link(&app, &app.start_reset(&e).await).await;
    assert_eq!(owner["user"]["password"]["requires_reset"], false);
    assert_eq!(owner["reset_sessions"], false);
    app.assert_session_alive(&kept).await;
    app.login(&e, NEW, None).await.assert_ok();

    // Migrated with a verified email: not flagged either.
    let migrated = email("prehijack-migrated-verified");
    app.post(
        "/v1/passwords/migrate",
        json!({"email": migrated, "hash_type": "bcrypt", "set_email_verified": true,
               "hash": "$2b$10$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj."}),
    )
    .await
    .assert_ok();
    magic_link(&app, &app.start_reset(&migrated).await).await;
    app.login(&migrated, "Gr33n-Tea-At-Noon!", None).await.assert_ok();
}

#[tokio::test]
async fn prehijack_a_migrated_unverified_or_replaced_by_old_password_stays_suspect() {
    let app = TestApp::spawn().await;
    // Migrated without `set_email_verified`: set before any proof.
    let migrated = email("prehijack-migrated");
    app.post(
        "/v1/passwords/migrate",
        json!({"email": migrated, "hash_type": "bcrypt",
               "hash": "$2b$10$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj."}),
    )
    .await
    .assert_ok();
    magic_link(&app, &app.start_reset(&migrated).await).await;
    app.login(&migrated, "Gr33n-Tea-At-Noon!", None)
        .await
        .assert_error(401, "reset_password");

    // An existing-password reset proves the old password, not the address: the email stays
    // unverified and the new password is still flagged at the first proof.
    let e = email("prehijack-existing");
    let created = app.create_user(&e, STRONG, None).await;
    let changed = app.existing_password_reset(&e, STRONG, NEW).await;
    assert_eq!(changed.assert_ok()["user"]["emails"][0]["verified"], false);
    assert!(!email_verified(&app, created["user_id"].as_str().unwrap()).await);
    magic_link(&app, &app.start_reset(&e).await).await;
    app.login(&e, NEW, None).await.assert_error(401, "reset_password");
}

#[tokio::test]
async fn prehijack_a_members_inherited_password_is_not_flagged_by_a_magic_link_join() {
    // B2B: no path sets a member's password before the address is proven, so a member's first
    // magic link flags nothing; a cross-organization password (set through the email in A)
    // keeps working in B after joining B by a magic link.
    use latch_tests::b2b::{create_org, id, login, login_or_signup, magic_link_authenticate, member_with_password};
    let app = TestApp::spawn_with(&[("LATCH_B2B_CROSS_ORG_PASSWORDS", "true")]).await;
    let e = email("prehijack-member");
    let domain = e.split('@').nth(1).unwrap().to_string();
    let a = id(&create_org(&app, "prehijack-a", json!({})).await);
    let b = id(&create_org(
        &app,
        "prehijack-b",
        json!({"email_allowed_domains": [domain], "email_jit_provisioning": "RESTRICTED"}),
    )
    .await);
    member_with_password(&app, &a, &e, STRONG, json!({})).await;
    login_or_signup(&app, &b, &e).await.assert_ok();
    let (_, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
    let joined = magic_link_authenticate(&app, &token).await;
    assert_eq!(joined.assert_ok()["member"]["email_address_verified"], true);
    login(&app, &b, &e, STRONG).await.assert_ok();
}

#[tokio::test]
async fn a_flagged_password_is_not_replaced_from_a_session_that_proved_only_a_password() {
    // A session bought with the password before it was flagged (here: found breached at a later
    // login) cannot clear the flag; the emailed reset, or a session that proved the email, can.
    let app = TestApp::spawn_with(&[("LATCH_BREACH_CHECK_ON_CREATE", "false")]).await;
    let e = email("flagged-session");
    let created = app.create_user(&e, STRONG, Some(60)).await;
    app.hibp.mark_breached(STRONG);
    app.login(&e, STRONG, None).await.assert_error(401, "reset_password");
    app.session_reset(&created, NEW)
        .await
        .assert_error(401, "reset_password");
    app.existing_password_reset(&e, STRONG, NEW)
        .await
        .assert_error(401, "reset_password");
    app.login(&e, NEW, None)
        .await
        .assert_error(401, "unauthorized_credentials");
}
