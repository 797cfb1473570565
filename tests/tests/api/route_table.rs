//! The route table and `functions/src/bin` agree: one Lambda binary per route, no strays.

use std::collections::BTreeSet;

#[test]
fn one_lambda_binary_per_route() {
    let bin_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/src/bin");
    let binaries: BTreeSet<String> = std::fs::read_dir(&bin_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let routes: BTreeSet<String> = latch::ROUTES.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(binaries, routes);
    // Each binary runs the route it is named after, by the route's constant (whose name
    // routes.rs holds to the route's at compile time).
    for name in &routes {
        let src = std::fs::read_to_string(bin_dir.join(format!("{name}.rs"))).unwrap();
        let constant = name.to_uppercase().replace('-', "_");
        assert!(
            src.contains(&format!("run(&latch::handlers::routes::{constant})")),
            "{name}.rs does not run its own route's constant {constant}"
        );
    }
}

/// The routes whose functions the SAM template grants only reads (`Needs::writes` false) never
/// ask the store to write: a valid request to each is answered while the write count stands still.
#[tokio::test]
async fn read_only_routes_never_write() {
    let app = latch_tests::TestApp::spawn_faulty_with(&[("LATCH_SDK_ORIGINS", latch_tests::sdk::ORIGIN)]).await;
    let faults = app.faults.clone().unwrap();
    let email = latch_tests::email("reader");
    let user = app.create_user(&email, latch_tests::STRONG, Some(60)).await;
    let user_id = user["user_id"].as_str().unwrap();
    let org = app
        .post(
            "/v1/b2b/organizations",
            serde_json::json!({"organization_name": "Readers", "organization_slug": "readers"}),
        )
        .await;
    let org_id = org.assert_ok()["organization"]["organization_id"]
        .as_str()
        .unwrap()
        .to_string();
    let member = app
        .post(
            &format!("/v1/b2b/organizations/{org_id}/members"),
            serde_json::json!({"email_address": email}),
        )
        .await;
    let member_id = member.assert_ok()["member_id"].as_str().unwrap().to_string();
    latch_tests::b2b::set_password(&app, &org_id, &email, latch_tests::STRONG).await;
    let login = latch_tests::b2b::login(&app, &org_id, &email, latch_tests::STRONG).await;
    let mut page = latch_tests::sdk::Page::new(&app);
    page.keep_session(login.assert_ok());
    // A verified TOTP registration, so that the member has recovery codes to read.
    let with_session = serde_json::json!({"organization_id": org_id, "member_id": member_id,
                                          "session_token": login.body["session_token"]});
    let created = app.post("/v1/b2b/totp", with_session.clone()).await;
    let secret = created.assert_ok()["secret"].as_str().unwrap().to_string();
    let code = latch_tests::b2b::totp_now(&app, &secret);
    latch_tests::b2b::totp_authenticate(&app, &org_id, &member_id, &code, with_session)
        .await
        .assert_ok();
    let public_token = page.public_token.clone();
    let mut consumer_page = latch_tests::sdk::Page::new(&app);
    consumer_page.keep_session(&user);
    let before = faults.writes();
    assert!(before > 0, "the signup wrote");
    let mut checked = 0;
    for route in latch::ROUTES.iter().filter(|r| !r.needs.writes) {
        let answer = match route.name {
            "sessions-get" => app.get(&format!("/v1/sessions?user_id={user_id}")).await,
            "sessions-jwks" => app.get(&format!("/v1/sessions/jwks/{}", latch_tests::PROJECT_ID)).await,
            "users-get" => app.get(&format!("/v1/users/{user_id}")).await,
            "passwords-strength-check" => {
                let body = serde_json::json!({"email": email, "password": "a fair passphrase 7"});
                app.post("/v1/passwords/strength_check", body).await
            }
            "b2b-organizations-get" => app.get(&format!("/v1/b2b/organizations/{org_id}")).await,
            "b2b-members-get" => {
                app.get(&format!("/v1/b2b/organizations/{org_id}/member?member_id={member_id}"))
                    .await
            }
            "b2b-sessions-get" => {
                app.get(&format!(
                    "/v1/b2b/sessions?organization_id={org_id}&member_id={member_id}"
                ))
                .await
            }
            "b2b-sessions-jwks" => {
                app.get(&format!("/v1/b2b/sessions/jwks/{}", latch_tests::PROJECT_ID))
                    .await
            }
            "b2b-passwords-strength-check" => {
                let body = serde_json::json!({"email_address": email, "password": "a fair passphrase 7"});
                app.post("/v1/b2b/passwords/strength_check", body).await
            }
            "sdk-bootstrap" => page
                .get(&format!("/sdk/v1/projects/bootstrap/{public_token}"))
                .await
                .ok(),
            "sdk-events" => page.post("/sdk/v1/events", serde_json::json!([])).await.ok(),
            "sdk-b2b-passwords-strength-check" => {
                let body = serde_json::json!({"password": "a fair passphrase 7"});
                page.post("/sdk/v1/b2b/passwords/strength_check", body).await.ok()
            }
            "sdk-b2b-organizations-search" => {
                let body = serde_json::json!({"organization_slug": "readers"});
                page.post("/sdk/v1/b2b/organizations/search", body).await.ok()
            }
            "sdk-b2b-members-search" => {
                let body = serde_json::json!({"organization_id": org_id, "email_address": email});
                page.post("/sdk/v1/b2b/organizations/members/search", body).await.ok()
            }
            "sdk-b2b-organizations-me" => page.get("/sdk/v1/b2b/organizations/me").await.ok(),
            "sdk-b2b-members-me" => page.get("/sdk/v1/b2b/organizations/members/me").await.ok(),
            "sdk-passwords-strength-check" => {
                let body = serde_json::json!({"email": email, "password": "a fair passphrase 7"});
                page.post("/sdk/v1/passwords/strength_check", body).await.ok()
            }
            "b2b-recovery-codes-get" => app.get(&format!("/v1/b2b/recovery_codes/{org_id}/{member_id}")).await,
            "sdk-b2b-recovery-codes-get" => page.get("/sdk/v1/b2b/recovery_codes").await.ok(),
            "sdk-users-me" => consumer_page.get("/sdk/v1/users/me").await.ok(),
            "sdk-users-search" => {
                let body = serde_json::json!({ "email": email });
                page.post("/sdk/v1/users/search", body).await.ok()
            }
            other => panic!("{other}: give this read-only route a request here"),
        };
        answer.assert_ok();
        assert_eq!(faults.writes(), before, "{route:?} wrote to the store");
        checked += 1;
    }
    assert!(checked >= 9);
}
