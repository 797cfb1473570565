//! Recovery codes (`/v1/b2b/recovery_codes…`): a code completes the MFA step in place of a TOTP
//! code, each once (even to two requests at once), wrong ones count toward the lock; the unused
//! ones can be shown again and rotated; none works in another organization.

use std::sync::Arc;

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::{json, Value};

/// An organization that requires MFA, and a member enrolled in TOTP there.
async fn enrolled(app: &TestApp, slug: &str) -> (String, String, Totp) {
    let org = id(&create_org(app, slug, json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await);
    let e = email(slug);
    member_with_password(app, &org, &e, STRONG, json!({})).await;
    let totp = enroll_totp(app, &org, &e, STRONG).await;
    (org, e, totp)
}

/// The IST of a fresh password login (MFA owed).
async fn ist(app: &TestApp, org: &str, e: &str) -> Value {
    login(app, org, e, STRONG).await.assert_ok()["intermediate_session_token"].clone()
}

async fn recover(app: &TestApp, org: &str, member_id: &str, code: &str, ist: &Value) -> latch_tests::Answer {
    app.post(
        "/v1/b2b/recovery_codes/recover",
        json!({"organization_id": org, "member_id": member_id, "recovery_code": code,
               "intermediate_session_token": ist, "session_duration_minutes": 60}),
    )
    .await
}

fn codes(body: &Value) -> Vec<String> {
    body["recovery_codes"]
        .as_array()
        .unwrap_or_else(|| panic!("recovery_codes: {body}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_recovery_code_completes_mfa_once_and_the_rest_can_be_shown_and_rotated() {
    let app = TestApp::spawn().await;
    let (org, e, totp) = enrolled(&app, "recover").await;
    let member = &totp.member_id;
    let path = format!("/v1/b2b/recovery_codes/{org}/{member}");
    let get = || app.get(&path);
    assert_eq!(codes(get().await.assert_ok()), totp.recovery_codes);

    let first = ist(&app, &org, &e).await;
    recover(&app, &org, member, "aaaa-bbbb-cccc", &first)
        .await
        .assert_error(401, "unable_to_authenticate_recovery_code");
    // Typed in capitals with spaces around: the same code.
    let typed = format!("  {}  ", totp.recovery_codes[0].to_ascii_uppercase());
    let done = recover(&app, &org, member, &typed, &first).await;
    let done = done.assert_ok();
    assert_eq!(done["member_session"]["member_id"], *member, "{done}");
    assert_eq!(done["member_session"]["organization_id"], org, "{done}");
    assert!(
        nonempty(&done["session_token"]) && nonempty(&done["session_jwt"]),
        "{done}"
    );
    assert_eq!(done["recovery_codes_remaining"], 9, "{done}");
    let types = factor_types(&done["member_session"]);
    assert!(types.contains(&"recovery_codes".to_string()), "{types:?}");
    authenticate_session(&app, &done["session_token"]).await.assert_ok();

    // Used up: gone from the list, refused the next time.
    assert_eq!(codes(get().await.assert_ok()), totp.recovery_codes[1..].to_vec());
    let second = ist(&app, &org, &e).await;
    recover(&app, &org, member, &totp.recovery_codes[0], &second)
        .await
        .assert_error(401, "unable_to_authenticate_recovery_code");

    // Rotation: ten new codes; the old ones die.
    let rotated = app
        .post(
            "/v1/b2b/recovery_codes/rotate",
            json!({"organization_id": org, "member_id": member}),
        )
        .await;
    let fresh = codes(rotated.assert_ok());
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !totp.recovery_codes.contains(c)));
    assert_eq!(codes(get().await.assert_ok()), fresh);
    recover(&app, &org, member, &totp.recovery_codes[1], &second)
        .await
        .assert_error(401, "unable_to_authenticate_recovery_code");
    recover(&app, &org, member, &fresh[0], &second).await.assert_ok();
}

#[tokio::test]
async fn a_recovery_code_needs_the_members_ist_or_session_and_stays_in_its_organization() {
    let app = TestApp::spawn().await;
    let (org, e, totp) = enrolled(&app, "recover-proof").await;
    let member = &totp.member_id;
    let code = &totp.recovery_codes[0];
    app.post(
        "/v1/b2b/recovery_codes/recover",
        json!({"organization_id": org, "member_id": member, "recovery_code": code}),
    )
    .await
    .assert_error(400, "no_session_arguments");
    // Another organization's member id, and the IST in another organization.
    let (other_org, _, other) = enrolled(&app, "recover-other").await;
    let first = ist(&app, &org, &e).await;
    recover(&app, &other_org, member, code, &first)
        .await
        .assert_error(404, "member_not_found");
    recover(&app, &other_org, &other.member_id, &other.recovery_codes[0], &first)
        .await
        .assert_error(404, "intermediate_session_not_found");
    app.get(&format!("/v1/b2b/recovery_codes/{other_org}/{member}"))
        .await
        .assert_error(404, "member_not_found");
    // The code was not spent by any of these.
    recover(&app, &org, member, code, &first).await.assert_ok();

    // A member without TOTP has no codes.
    let plain_org = id(&create_org(&app, "recover-plain", json!({})).await);
    let plain = member_with_password(&app, &plain_org, &email("recover-plain"), STRONG, json!({})).await;
    let plain_id = plain["member_id"].as_str().unwrap();
    app.get(&format!("/v1/b2b/recovery_codes/{plain_org}/{plain_id}"))
        .await
        .assert_error(404, "totp_not_found");
}

#[tokio::test]
async fn wrong_recovery_codes_count_toward_the_lock() {
    let app = TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "3"), ("LATCH_LOCK_TTL_SECONDS", "600")]).await;
    let (org, e, totp) = enrolled(&app, "recover-lock").await;
    let first = ist(&app, &org, &e).await;
    for _ in 0..3 {
        recover(&app, &org, &totp.member_id, "zzzz-zzzz-zzzz", &first)
            .await
            .assert_error(401, "unable_to_authenticate_recovery_code");
    }
    recover(&app, &org, &totp.member_id, &totp.recovery_codes[0], &first)
        .await
        .assert_error(429, "too_many_requests");
}

/// Eight redemptions of one code at the same time, each with its own IST: exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_redeemed_eight_times_at_once_succeeds_once() {
    const N: usize = 8;
    let app = Arc::new(TestApp::spawn_with(&[("LATCH_LOCK_THRESHOLD", "50")]).await);
    let (org, e, totp) = enrolled(&app, "recover-race").await;
    let mut ists = Vec::new();
    for _ in 0..N {
        ists.push(ist(&app, &org, &e).await);
    }
    let code = totp.recovery_codes[0].clone();
    let mut set = tokio::task::JoinSet::new();
    for ist in ists {
        let (app, org, member, code) = (app.clone(), org.clone(), totp.member_id.clone(), code.clone());
        set.spawn(async move { recover(&app, &org, &member, &code, &ist).await });
    }
    let mut wins = 0;
    while let Some(a) = set.join_next().await {
        let a = a.unwrap();
        if a.status == 200 {
            wins += 1;
        } else {
            a.assert_error(401, "unable_to_authenticate_recovery_code");
        }
    }
    assert_eq!(wins, 1);
    let left = app
        .get(&format!("/v1/b2b/recovery_codes/{org}/{}", totp.member_id))
        .await;
    assert_eq!(codes(left.assert_ok()).len(), 9);
}
