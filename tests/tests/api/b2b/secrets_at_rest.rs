//! docs/security.md H2 and R1 for the B2B half: after a whole MFA enrolment nothing secret rests in
//! clear — not the password, the TOTP secret (sealed), the recovery codes, the intermediate
//! session token or the session token (digests).

use latch_tests::b2b::*;
use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

#[tokio::test]
async fn no_b2b_secret_rests_in_clear_h2_r1() {
    let app = TestApp::spawn().await;
    let org = id(&create_org(&app, "at-rest", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await);
    let e = email("at-rest");
    member_with_password(&app, &org, &e, STRONG, json!({})).await;
    let first = login(&app, &org, &e, STRONG).await.assert_ok().clone();
    let member_id = first["member_id"].as_str().unwrap();
    let ist = first["intermediate_session_token"].as_str().unwrap();
    let created = app
        .post(
            "/v1/b2b/totp",
            json!({"organization_id": org, "member_id": member_id, "intermediate_session_token": ist}),
        )
        .await
        .assert_ok()
        .clone();
    let secret = created["secret"].as_str().unwrap();
    let done = totp_authenticate(
        &app,
        &org,
        member_id,
        &totp_now(&app, secret),
        json!({"intermediate_session_token": ist}),
    )
    .await
    .assert_ok()
    .clone();

    let dump = app.store_dump().await;
    let contains = |needle: &[u8]| dump.windows(needle.len()).any(|w| w == needle);
    let raw_secret = base32_decode(secret);
    assert!(!contains(&raw_secret), "the raw TOTP secret rests in clear");
    let mut texts = vec![STRONG, secret, ist, done["session_token"].as_str().unwrap()];
    let codes: Vec<String> = created["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    texts.extend(codes.iter().map(String::as_str));
    for text in texts {
        assert!(!contains(text.as_bytes()), "{text} rests in clear");
    }
}
