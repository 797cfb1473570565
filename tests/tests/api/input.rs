//! Bad input of every kind: 4xx in the envelope, never a 5xx, and nothing written (I1–I6, S3).

use latch_tests::b2b::{create_org, id, link_in, login_or_signup};
use latch_tests::{email, TestApp, STRONG};
use serde_json::json;

async fn assert_nothing_written(app: &TestApp, email: &str) {
    assert!(
        app.state
            .store
            .user_by_email(None, &email.to_lowercase())
            .await
            .unwrap()
            .is_none(),
        "user {email} was written"
    );
}

#[tokio::test]
async fn malformed_bodies_get_bad_request() {
    let app = TestApp::spawn().await;
    let e = email("malformed");
    let cases: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"not json".to_vec(),
        b"[]".to_vec(),
        format!(r#"{{"email": "{e}"}}"#).into_bytes(),
        format!(r#"{{"email": "{e}", "password": 42}}"#).into_bytes(),
        format!(r#"{{"email": ["{e}"], "password": "{STRONG}"}}"#).into_bytes(),
        format!(r#"{{"email": "{e}", "password": "{STRONG}", "session_duration_minutes": "60"}}"#).into_bytes(),
        format!(r#"{{"email": "{e}", "password": "{STRONG}", "session_duration_minutes": 60.5}}"#).into_bytes(),
        vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
        b"".to_vec(),
    ];
    for body in cases {
        let a = app.post_raw("/v1/passwords", body.clone()).await;
        a.assert_error(400, "bad_request");
        assert!(
            a.body["error_message"].as_str().unwrap().len() > 20,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_nothing_written(&app, &e).await;
}

#[tokio::test]
async fn oversized_body_gets_413() {
    // I1
    let app = TestApp::spawn().await;
    let e = email("big");
    let body = format!(r#"{{"email": "{e}", "password": "{}"}}"#, "a".repeat(1024 * 1024 + 10));
    app.post_raw("/v1/passwords", body.into_bytes())
        .await
        .assert_error(413, "request_too_large");
    assert_nothing_written(&app, &e).await;
}

#[tokio::test]
async fn passwords_over_the_cap_are_refused_before_hashing() {
    // S3 and I1: a long password never reaches zxcvbn or argon2.
    let app = TestApp::spawn().await;
    let e = email("cap");
    let before = app.verifications();
    for pw in [
        "a".repeat(257),
        "漢".repeat(257),
        "🔑".repeat(257),
        "b".repeat(1000 * 1000),
    ] {
        app.post("/v1/passwords", json!({"email": e, "password": pw}))
            .await
            .assert_error(400, "password_too_long");
        app.login(&e, &pw, None).await.assert_error(400, "password_too_long");
    }
    assert_eq!(app.verifications(), before, "no hashing for refused passwords");
    assert_nothing_written(&app, &e).await;
    // At the cap, in several scripts, a strong password is accepted.
    let at_cap: String = "correct horse 漢字 🔑 battery staple "
        .chars()
        .cycle()
        .take(256)
        .collect();
    app.create_user(&e, &at_cap, None).await;
    app.login(&e, &at_cap, None).await.assert_ok();
}

#[tokio::test]
async fn invalid_emails_are_refused() {
    // I3
    let app = TestApp::spawn().await;
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long_total = format!("a@{}.example.com", "b".repeat(250));
    for bad in [
        "",
        "plain",
        "two@@example.com",
        "a@b@example.com",
        "sp ace@example.com",
        "ctl\u{1}@example.com",
        &long_local,
        &long_total,
    ] {
        app.post("/v1/passwords", json!({"email": bad, "password": STRONG}))
            .await
            .assert_error(400, "invalid_email");
        app.login(bad, STRONG, None).await.assert_error(400, "invalid_email");
    }
}

#[tokio::test]
async fn session_duration_out_of_range_is_refused_and_nothing_written() {
    let app = TestApp::spawn().await;
    let e = email("duration");
    for minutes in [0, 4, 527_041, -5] {
        app.post(
            "/v1/passwords",
            json!({"email": e, "password": STRONG, "session_duration_minutes": minutes}),
        )
        .await
        .assert_error(400, "invalid_session_duration_minutes");
    }
    assert_nothing_written(&app, &e).await;
    app.create_user(&e, STRONG, Some(5)).await;
    app.login(&e, STRONG, Some(527_040)).await.assert_ok();
    app.login(&e, STRONG, Some(527_041))
        .await
        .assert_error(400, "invalid_session_duration_minutes");
}

#[tokio::test]
async fn oversized_custom_claims_are_refused() {
    let app = TestApp::spawn().await;
    let e = email("claims");
    let big = json!({"blob": "x".repeat(5000)});
    app.post(
        "/v1/passwords",
        json!({"email": e, "password": STRONG, "session_duration_minutes": 10, "session_custom_claims": big}),
    )
    .await
    .assert_error(400, "custom_claims_too_large");
    assert_nothing_written(&app, &e).await;
}

#[tokio::test]
async fn every_endpoint_answers_garbage_with_4xx() {
    // I2, a small fixed sample; the schema fuzzer covers the rest in a later issue.
    let app = TestApp::spawn().await;
    for route in latch::ROUTES {
        let path = route.path.replace("{project_id}", "x").replace("{user_id}", "x");
        for body in [
            b"{".to_vec(),
            b"{\"a\":".to_vec(),
            vec![0xff; 16],
            b"null".to_vec(),
            b"1e999999".to_vec(),
        ] {
            let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let resp = app
                .http
                .request(method, format!("{}{path}", app.base))
                .basic_auth(latch_tests::PROJECT_ID, Some(latch_tests::SECRET))
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            assert!((400..500).contains(&status), "{route:?} answered {status}");
            let v: serde_json::Value = resp.json().await.unwrap();
            assert!(
                v["error_type"].is_string() && v["request_id"].is_string(),
                "{route:?}: {v}"
            );
        }
    }
}

/// A path segment that does not decode to UTF-8 is a bad request in the envelope on every route
/// with a path parameter (axum's own extractor would answer in plain text).
#[tokio::test]
async fn undecodable_path_segments_get_bad_request_in_the_envelope() {
    let app = latch_tests::sdk::sdk_app().await;
    let with_params: Vec<_> = latch::ROUTES.iter().filter(|r| r.path.contains('{')).collect();
    assert!(with_params.len() >= 6);
    for route in with_params {
        let path: String = route
            .path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "%FF%FE" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let body = (method == reqwest::Method::POST).then(|| json!({}));
        // Each door's own credentials: the project's, or a page's public token from its origin.
        let a = match route.access {
            latch::api::route::Access::Browser | latch::api::route::Access::Beacon => {
                latch_tests::sdk::Page::new(&app)
                    .send(method, &path, body.as_ref())
                    .await
                    .answer
            }
            _ => {
                app.send(
                    method,
                    &path,
                    body.as_ref(),
                    Some((latch_tests::PROJECT_ID, latch_tests::SECRET)),
                )
                .await
            }
        };
        a.assert_error(400, "bad_request");
        assert!(
            a.body["error_message"].as_str().unwrap().contains("UTF-8"),
            "{}: {}",
            route.name,
            a.body
        );
    }
}

/// A unique address whose local part starts with `é`, spelled composed (NFC) and decomposed (NFD).
fn accented_email(tag: &str) -> (String, String) {
    let plain = email(tag);
    (format!("jos\u{e9}-{plain}"), format!("jose\u{301}-{plain}"))
}

/// SECURITY I4: NFC before case folding: an address signed up composed and then decomposed (or
/// the reverse, in capitals) is one account, found by either spelling.
#[tokio::test]
async fn i4_nfd_signup_after_nfc_signup_is_duplicate_email() {
    let app = TestApp::spawn().await;
    let (nfc, nfd) = accented_email("nfc");
    assert_ne!(nfc, nfd);
    let user_id = app.create_user(&nfc, STRONG, None).await["user_id"].clone();
    app.post("/v1/passwords", json!({"email": nfd, "password": STRONG}))
        .await
        .assert_error(400, "duplicate_email");
    app.post(
        "/v1/passwords",
        json!({"email": nfd.to_uppercase(), "password": STRONG}),
    )
    .await
    .assert_error(400, "duplicate_email");
    for spelling in [&nfc, &nfd] {
        let a = app.login(spelling, STRONG, None).await;
        assert_eq!(a.assert_ok()["user_id"], user_id, "{spelling:?}");
    }

    // Decomposed first: stored composed, so the composed spelling is the duplicate.
    let (nfc, nfd) = accented_email("nfd-first");
    app.create_user(&nfd.to_uppercase(), STRONG, None).await;
    app.post("/v1/passwords", json!({"email": nfc, "password": STRONG}))
        .await
        .assert_error(400, "duplicate_email");
    let stored = app.state.store.user_by_email(None, &nfc).await.unwrap();
    assert_eq!(stored.map(|u| u.email), Some(nfc.clone()), "stored as NFC");
    assert!(app.state.store.user_by_email(None, &nfd).await.unwrap().is_none());
}

/// SECURITY I4: header specials, zero-width and bidi characters and other invisible ones make
/// an address `invalid_email` on signup and login, and nothing is written.
#[tokio::test]
async fn i4_specials_and_invisible_characters_are_invalid_email() {
    let app = TestApp::spawn().await;
    let e = email("special");
    let (local, domain) = e.split_once('@').unwrap();
    let bad: Vec<String> = [
        format!("{local},victim@{domain}"),
        format!("{local};x@{domain}"),
        format!("<{local}@{domain}>"),
        format!("Eve <{local}@{domain}>"),
        format!("{local}(c)@{domain}"),
        format!("\"{local}\"@{domain}"),
        format!("{local}\\x@{domain}"),
        format!("{local}:x@{domain}"),
        format!("{local}@[{domain}]"),
        format!("{local}\u{200b}@{domain}"),
        format!("{local}@{domain}\u{200d}"),
        format!("\u{feff}{local}@{domain}"),
        format!("{local}\u{202e}@{domain}"),
        format!("{local}\u{2066}x@{domain}"),
        format!("{local}\u{ad}@{domain}"),
        format!("{local}\u{3164}@{domain}"),
        format!("{local}\u{85}@{domain}"),
    ]
    .into();
    for bad in &bad {
        let a = app
            .post("/v1/passwords", json!({"email": bad, "password": STRONG}))
            .await;
        a.assert_error(400, "invalid_email");
        assert!(
            a.body["error_message"].as_str().unwrap().contains("U+"),
            "{bad:?}: {}",
            a.body
        );
        app.login(bad, STRONG, None).await.assert_error(400, "invalid_email");
        app.reset_start(bad, json!({})).await.assert_error(400, "invalid_email");
    }
    assert_nothing_written(&app, &e).await;
}

fn redirect_app_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("LATCH_RESET_PASSWORD_REDIRECT_URL", "https://app.example.com/reset"),
        ("LATCH_LOGIN_REDIRECT_URL", "https://app.example.com/login"),
        (
            "LATCH_REDIRECT_URLS",
            "https://app.example.com/reset,https://app.example.com/login,http://localhost:3000/authenticate",
        ),
        ("LATCH_RESET_START_LIMIT", "100"),
    ]
}

/// SECURITY I5: an allow-listed URL with a query of its own keeps it, Latch's parameters are
/// appended once, and the mailed token is the one that works.
#[tokio::test]
async fn i5_an_allowed_redirect_keeps_its_query_and_gets_latchs_parameters_once() {
    let app = TestApp::spawn_with(&redirect_app_vars()).await;
    let e = email("redirect-query");
    app.create_user(&e, STRONG, None).await;
    app.post(
        "/v1/passwords/email/reset/start",
        json!({
            "email": e,
            "reset_password_redirect_url": "https://app.example.com/reset?next=%2Fhome&lang=en",
            "login_redirect_url": "https://app.example.com/login?from=mail",
        }),
    )
    .await
    .assert_ok();
    let mail = app.last_reset_email(&e).await;
    let reset = format!(
        "https://app.example.com/reset?next=%2Fhome&lang=en&stytch_token_type=reset_password&token={}&stytch_redirect_type=reset_password",
        mail.reset_token
    );
    assert_eq!(mail.reset_url, reset);
    let login = format!(
        "https://app.example.com/login?from=mail&stytch_token_type=magic_links&token={}&stytch_redirect_type=login",
        mail.login_token
    );
    assert_eq!(mail.login_url, login);
    for url in [&mail.reset_url, &mail.login_url] {
        let parsed = reqwest::Url::parse(url).unwrap();
        for name in ["token", "stytch_token_type"] {
            assert_eq!(parsed.query_pairs().filter(|(k, _)| k == name).count(), 1, "{url}");
        }
    }
    app.email_reset(&mail.reset_token, "an entirely new passphrase 99", json!({}))
        .await
        .assert_ok();
}

/// SECURITY I5: a redirect URL bringing its own `token` or `stytch_*` parameter, userinfo, or
/// another port or path is refused with the error Latch gives any unlisted URL, and no mail
/// is sent.
#[tokio::test]
async fn i5_planted_tokens_userinfo_and_other_ports_or_paths_are_refused() {
    let app = TestApp::spawn_with(&redirect_app_vars()).await;
    let e = email("redirect-bad");
    app.create_user(&e, STRONG, None).await;
    for bad in [
        "https://app.example.com/reset?token=planted",
        "https://app.example.com/reset?next=%2F&stytch_token_type=reset_password",
        "https://app.example.com/reset?stytch_redirect_type=login",
        "https://app.example.com/reset?Token=planted",
        "https://user@app.example.com/reset",
        "https://user:pw@app.example.com/reset",
        "https://app.example.com:8443/reset",
        "http://app.example.com/reset",
        "https://app.example.com/reset/more",
        "https://app.example.com/other",
    ] {
        let a = app.reset_start(&e, json!({"reset_password_redirect_url": bad})).await;
        a.assert_error(400, "invalid_password_reset_redirect_url");
        let login = bad.replace("/reset", "/login");
        app.reset_start(&e, json!({"login_redirect_url": login}))
            .await
            .assert_error(400, "invalid_login_redirect_url");
    }
    assert!(app.raw_mail_to(&e).await.is_empty(), "no mail for a refused URL");
}

/// The text/html part of a mail: after its header in an `.eml`; the SES emulator keeps only it.
fn html_part(mail: &str) -> &str {
    mail.split_once("Content-Type: text/html")
        .map_or(mail, |(_, html)| html)
}

/// The text/plain part of an `.eml`, if the mail has one (the SES emulator keeps only HTML).
fn text_part(mail: &str) -> Option<&str> {
    let (_, rest) = mail.split_once("Content-Type: text/plain")?;
    Some(
        rest.split_once("Content-Type: text/html")
            .map_or(rest, |(text, _)| text),
    )
}

/// SECURITY I6: an organization named with placeholders and markup is shown as that text in
/// the subject and the text part and escaped in the HTML part; the live token is in the links
/// only, never in the subject.
#[tokio::test]
async fn i6_an_organization_name_is_mailed_as_text_never_expanded() {
    let app = TestApp::spawn().await;
    let e = email("tpl-name");
    let domain = e.split('@').nth(1).unwrap().to_string();
    let name = "{{url}} <b>x</b> {{token}} {{email}} {{expiration_minutes}}";
    let escaped = "{{url}} &lt;b&gt;x&lt;/b&gt; {{token}} {{email}} {{expiration_minutes}}";
    let slug = format!("tpl-{}", e.split('@').next().unwrap());
    let org = create_org(
        &app,
        &slug,
        json!({"organization_name": name, "email_allowed_domains": [domain], "email_jit_provisioning": "RESTRICTED"}),
    )
    .await;
    assert_eq!(org["organization_name"], name);
    let org_id = id(&org);
    for (created, subject) in [(true, format!("Join {name}")), (false, format!("Log in to {name}"))] {
        let a = login_or_signup(&app, &org_id, &e).await;
        assert_eq!(a.assert_ok()["member_created"], created);
        let mail = app.raw_mail_to(&e).await.pop().unwrap();
        let (_, token) = link_in(&mail, "multi_tenant_magic_links").unwrap();
        let sent_subject = app.mail_subjects_to(&e).await.pop().unwrap();
        assert_eq!(sent_subject, subject);
        assert!(!sent_subject.contains(&token) && !sent_subject.contains("http"));
        let html = html_part(&mail);
        assert!(html.contains(escaped), "{html}");
        assert!(!html.contains("<b>x</b>"), "{html}");
        assert_eq!(html.matches(token.as_str()).count(), 1, "{html}");
        if let Some(text) = text_part(&mail) {
            let line = if created {
                format!("Confirm {e} to join {name}:")
            } else {
                format!("Log in to {name} as {e}:")
            };
            assert!(text.contains(&line), "{text}");
            assert_eq!(text.matches(token.as_str()).count(), 1, "{text}");
        }
    }
}

/// SECURITY I6: line breaks, other controls and bidi overrides in an organization or member
/// name are refused with a clear 400, and nothing is written.
#[tokio::test]
async fn i6_line_breaks_in_organization_and_member_names_are_refused() {
    let app = TestApp::spawn().await;
    let e = email("name-crlf");
    let slug = format!("crlf-{}", e.split('@').next().unwrap());
    let org = create_org(&app, &slug, json!({})).await;
    let org_id = id(&org);
    let new_slug = format!("{slug}-2");
    for bad in [
        "Acme\r\nBcc: victim@example.com",
        "Acme\n",
        "\rAcme",
        "Ac\tme",
        "Ac\u{0}me",
        "Ac\u{2028}me",
        "Ac\u{202e}me",
    ] {
        let a = app
            .post(
                "/v1/b2b/organizations",
                json!({"organization_name": bad, "organization_slug": new_slug}),
            )
            .await;
        a.assert_error(400, "invalid_organization_name");
        assert!(
            a.body["error_message"].as_str().unwrap().contains("line breaks"),
            "{}",
            a.body
        );
        app.put(
            &format!("/v1/b2b/organizations/{org_id}"),
            json!({"organization_name": bad}),
        )
        .await
        .assert_error(400, "invalid_organization_name");
        let a = app
            .post(
                &format!("/v1/b2b/organizations/{org_id}/members"),
                json!({"email_address": e, "name": bad}),
            )
            .await;
        a.assert_error(400, "bad_request");
        assert!(
            a.body["error_message"].as_str().unwrap().starts_with("name "),
            "{}",
            a.body
        );
    }
    let got = app.get(&format!("/v1/b2b/organizations/{org_id}")).await;
    assert_eq!(
        got.assert_ok()["organization"]["organization_name"],
        format!("Org {slug}")
    );
    // Nothing was written: the slug and the member's address are still free.
    create_org(&app, &new_slug, json!({"organization_name": "Acme \u{200c} Inc."})).await;
    app.post(
        &format!("/v1/b2b/organizations/{org_id}/members"),
        json!({"email_address": e, "name": "Zoë {{url}} <b>"}),
    )
    .await
    .assert_ok();
}
