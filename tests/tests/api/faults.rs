//! Fault injection (docs/security.md F1, F2): a store that fails the k-th call, and a failing mailer.
//! Each step of a flow runs with a fault at its 1st, 2nd, … store call until a run hits none.
//! Every faulted run must answer 503 in the envelope, never a success, and leave nothing
//! half-written; the fault-free run then succeeds, so a fault never burned anything. The
//! after-commit variant lets the k-th call happen and then fails it (its answer lost): for every
//! write path the answer is still 503, and a retry succeeds or reports the committed write.

use std::future::Future;
use std::sync::Arc;

use latch::clock::Clock;
use latch_tests::faults::{FaultyStore, InjectFaults};
use latch_tests::{email, on_dynamo, Answer, FailingMailer, TestApp, STRONG};
use serde_json::json;

const NEW: &str = "a brand new passphrase after the faults 42";

async fn under_every_fault<F, Fut>(app: &TestApp, faults: &FaultyStore, what: &str, mut step: F) -> Answer
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Answer>,
{
    for k in 1..=64 {
        faults.fail_in(k);
        let answer = step().await;
        let fired = faults.fired();
        faults.disarm();
        if !fired {
            return answer;
        }
        answer.assert_error(503, "service_unavailable");
        let orphans = app.orphans().await;
        assert!(orphans.is_empty(), "{what}, fault at call {k}: {orphans:?}");
    }
    panic!("{what} never ran without a fault");
}

#[tokio::test]
async fn a_failing_store_never_yields_a_success_or_a_half_write() {
    let app = TestApp::spawn_faulty().await;
    let faults = app.faults.clone().unwrap();
    // Checks read past the fault.
    let store = faults.inner().clone();
    let e = email("faults");

    // Signup with a session is one write: after any fault there is no user at all.
    let created = under_every_fault(&app, &faults, "signup", || async {
        let a = app
            .post(
                "/v1/passwords",
                json!({"email": e, "password": STRONG, "session_duration_minutes": 60}),
            )
            .await;
        if a.status != 200 {
            assert!(
                store.user_by_email(None, &e).await.unwrap().is_none(),
                "a failed signup left a user"
            );
        }
        a
    })
    .await;
    let user_id = created.assert_ok()["user_id"].as_str().unwrap().to_string();

    // Login: a fault leaves no new session.
    let login = under_every_fault(&app, &faults, "login", || async {
        let before = store.sessions_for_user(&user_id, app.clock.now()).await.unwrap().len();
        let a = app.login(&e, STRONG, Some(60)).await;
        let after = store.sessions_for_user(&user_id, app.clock.now()).await.unwrap().len();
        assert_eq!(after, before + usize::from(a.status == 200));
        a
    })
    .await;
    login.assert_ok();

    // Reset start: both links are stored together or not at all.
    under_every_fault(&app, &faults, "reset start", || async {
        let before = app.token_count().await;
        let a = app.reset_start(&e, json!({})).await;
        let added = app.token_count().await - before;
        assert_eq!(added, if a.status == 200 { 2 } else { 0 });
        a
    })
    .await
    .assert_ok();
    let mail = app.last_reset_email(&e).await;

    // Reset: a fault leaves the token unused and the old sessions alive.
    let reset = under_every_fault(&app, &faults, "reset", || async {
        let a = app
            .email_reset(&mail.reset_token, NEW, json!({"session_duration_minutes": 5}))
            .await;
        if a.status != 200 {
            let token = store
                .token_by_digest(&app.state.sessions.digester().digest(&mail.reset_token))
                .await
                .unwrap();
            assert!(!token.unwrap().used, "a failed reset burned its token");
            assert!(!store
                .sessions_for_user(&user_id, app.clock.now())
                .await
                .unwrap()
                .is_empty());
        }
        a
    })
    .await;
    reset.assert_ok();
    assert_eq!(
        store.sessions_for_user(&user_id, app.clock.now()).await.unwrap().len(),
        1
    );
    app.login(&e, NEW, None).await.assert_ok();
    assert!(app.orphans().await.is_empty());
}

#[tokio::test]
async fn a_failing_mailer_is_a_clear_error_and_leaves_no_usable_token() {
    // F2: with SES, a real rejection (an unverified sender); with the outbox, a mailer that fails.
    let app = if on_dynamo() {
        TestApp::spawn_with(&[("LATCH_MAIL_FROM", "nobody@unverified.example")]).await
    } else {
        TestApp::spawn_custom(&[], Some(Arc::new(FailingMailer))).await
    };
    let e = email("mailfail");
    app.create_user(&e, STRONG, None).await;
    app.reset_start(&e, json!({}))
        .await
        .assert_error(503, "email_send_failed");
    assert_eq!(app.token_count().await, 0);
    assert!(app.orphans().await.is_empty());
}

#[tokio::test]
async fn the_store_holds_no_secret_and_no_orphan_after_the_flows() {
    // The table (or file) after signup, logins, sessions, a reset and a magic link: no password,
    // no raw token, nothing dangling.
    let app = TestApp::spawn().await;
    let e = email("scan");
    let created = app.create_user(&e, STRONG, Some(60)).await;
    let login = app.login(&e, STRONG, Some(60)).await.body;
    app.post("/v1/sessions/revoke", json!({"session_token": login["session_token"]}))
        .await
        .assert_ok();
    let mail = app.start_reset(&e).await;
    app.email_reset(&mail.reset_token, NEW, json!({"session_duration_minutes": 5}))
        .await
        .assert_ok();
    // The reset killed its mail's magic link (docs/security.md R7): a new mail's is used.
    let second = app.start_reset(&e).await;
    app.magic_link_authenticate(&second.login_token, json!({"session_duration_minutes": 5}))
        .await
        .assert_ok();
    let other = email("scan-deleted");
    let gone = app.create_user(&other, STRONG, Some(60)).await;
    app.delete(&format!("/v1/users/{}", gone["user_id"].as_str().unwrap()))
        .await
        .assert_ok();

    assert!(app.orphans().await.is_empty(), "{:?}", app.orphans().await);
    let dump = app.store_dump().await;
    let secrets = [
        STRONG,
        NEW,
        created["session_token"].as_str().unwrap(),
        login["session_token"].as_str().unwrap(),
        gone["session_token"].as_str().unwrap(),
        &mail.reset_token,
        &mail.login_token,
        &second.reset_token,
        &second.login_token,
    ];
    for secret in secrets {
        assert!(
            !dump.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} rests in clear"
        );
    }
    // In the table nothing of a deleted user remains. (A SQLite file keeps deleted rows' bytes in
    // free pages until they are reused; no row refers to them, which `orphans` checks.)
    if on_dynamo() {
        assert!(
            !String::from_utf8_lossy(&dump).contains(&other),
            "a deleted user's item remains"
        );
    }
}

#[tokio::test]
async fn r4_r7_a_fault_after_the_reset_commits_is_503_and_the_reset_holds_for_sixty_sessions() {
    // The reset commits, then the call fails (a reply lost, or a failure after the commit): the
    // client hears 503, never a success, and every effect of the reset holds anyway: all 60
    // sessions are refused and both mails' links are dead.
    let app = TestApp::spawn_faulty().await;
    let faults = app.faults.clone().unwrap();
    let store = faults.inner().clone();
    let e = email("after-commit");
    let created = app.create_user(&e, STRONG, Some(60)).await;
    let user_id = created["user_id"].as_str().unwrap().to_string();
    let mut tokens = vec![created["session_token"].as_str().unwrap().to_string()];
    let now = app.clock.now();
    for n in 1..60 {
        // Sessions straight into the store: 59 logins would only spend time hashing.
        let unique = email("t").replace(['@', '.'], "-");
        let token = format!("session-token-after-commit-{unique}");
        store
            .insert_session(&latch::store::SessionRecord {
                session_id: format!("session-test-{n}-{unique}"),
                user_id: user_id.clone(),
                token_digest: app.state.sessions.digester().digest(&token),
                started_at: now,
                last_accessed_at: now,
                expires_at: now + chrono::Duration::minutes(60),
                attributes: Default::default(),
                custom_claims: Default::default(),
                factors: vec![],
                organization: None,
            })
            .await
            .unwrap();
        tokens.push(token);
    }
    assert_eq!(store.sessions_for_user(&user_id, now).await.unwrap().len(), 60);
    for _ in 0..2 {
        app.reset_start(&e, json!({})).await.assert_ok();
    }
    let (t1, t2) = {
        let mails = app.mail_to(&e).await;
        (mails[0].clone(), mails[1].clone())
    };
    assert_ne!(t1.reset_token, t2.reset_token);

    faults.fail_after_next_reset();
    app.email_reset(&t2.reset_token, NEW, json!({"session_duration_minutes": 5}))
        .await
        .assert_error(503, "service_unavailable");

    for token in &tokens {
        app.post("/v1/sessions/authenticate", json!({"session_token": token}))
            .await
            .assert_error(404, "session_not_found");
    }
    for mail in [&t1, &t2] {
        app.assert_reset_mail_dead(mail).await;
    }
    app.login(&e, NEW, None).await.assert_ok();
    app.login(&e, STRONG, None)
        .await
        .assert_error(401, "unauthorized_credentials");
    assert!(app.orphans().await.is_empty(), "{:?}", app.orphans().await);
}

/// The write paths the after-commit faults walk (docs/security.md F1).
#[derive(Debug, Clone, Copy)]
enum WritePath {
    Signup,
    Login,
    SessionRefresh,
    Revoke,
    ResetStart,
    ResetComplete,
    MagicLink,
    ExistingPasswordReset,
    SessionReset,
    Migrate,
    B2bOrgCreate,
    B2bMemberCreate,
    B2bSignup,
    B2bLogin,
}

/// A request ready to send on a fresh subject, what its retry may answer besides 200, and the
/// login that must work once the retry is done (the committed state is usable).
struct Prepared {
    path: String,
    body: serde_json::Value,
    retry_may_answer: &'static [&'static str],
    then_logs_in: Option<(Option<String>, String, &'static str)>,
}

const BCRYPT: &str = "$2b$10$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj.";

async fn prepare(app: &TestApp, path: WritePath) -> Prepared {
    use latch_tests::b2b::{create_org, id, member_with_password};
    use WritePath::*;
    let e = email("after-commit");
    let ready = |path: &str, body: serde_json::Value, retry: &'static [&'static str]| Prepared {
        path: path.into(),
        body,
        retry_may_answer: retry,
        then_logs_in: None,
    };
    let logs_in = |mut p: Prepared, org: Option<String>, password: &'static str| {
        p.then_logs_in = Some((org, e.clone(), password));
        p
    };
    let domain = e.split('@').nth(1).unwrap().to_string();
    let slug = format!("ac-{}", e.split('@').next().unwrap().replace('.', "-"));
    let org = || async {
        id(&create_org(
            app,
            &slug,
            json!({"email_allowed_domains": [domain], "email_jit_provisioning": "RESTRICTED"}),
        )
        .await)
    };
    match path {
        Signup => logs_in(
            ready(
                "/v1/passwords",
                json!({"email": e, "password": STRONG, "session_duration_minutes": 60}),
                &["duplicate_email"],
            ),
            None,
            STRONG,
        ),
        Login => {
            app.create_user(&e, STRONG, None).await;
            ready(
                "/v1/passwords/authenticate",
                json!({"email": e, "password": STRONG, "session_duration_minutes": 60}),
                &[],
            )
        }
        SessionRefresh => {
            let u = app.create_user(&e, STRONG, Some(60)).await;
            ready(
                "/v1/sessions/authenticate",
                json!({"session_token": u["session_token"], "session_duration_minutes": 120}),
                &[],
            )
        }
        Revoke => {
            let u = app.create_user(&e, STRONG, Some(60)).await;
            ready(
                "/v1/sessions/revoke",
                json!({"session_token": u["session_token"]}),
                &["session_not_found"],
            )
        }
        ResetStart => {
            app.create_user(&e, STRONG, None).await;
            ready("/v1/passwords/email/reset/start", json!({"email": e}), &[])
        }
        ResetComplete => {
            app.create_user(&e, STRONG, Some(60)).await;
            let mail = app.start_reset(&e).await;
            logs_in(
                ready(
                    "/v1/passwords/email/reset",
                    json!({"token": mail.reset_token, "password": NEW, "session_duration_minutes": 5}),
                    &["unable_to_auth_password_reset_token"],
                ),
                None,
                NEW,
            )
        }
        MagicLink => {
            app.create_user(&e, STRONG, None).await;
            let mail = app.start_reset(&e).await;
            ready(
                "/v1/magic_links/authenticate",
                json!({"token": mail.login_token, "session_duration_minutes": 5}),
                &["unable_to_auth_magic_link"],
            )
        }
        ExistingPasswordReset => {
            app.create_user(&e, STRONG, Some(60)).await;
            logs_in(
                ready(
                    "/v1/passwords/existing_password/reset",
                    json!({"email": e, "existing_password": STRONG, "new_password": NEW}),
                    &["unauthorized_credentials"],
                ),
                None,
                NEW,
            )
        }
        SessionReset => {
            let u = app.create_user(&e, STRONG, Some(60)).await;
            logs_in(
                ready(
                    "/v1/passwords/session/reset",
                    json!({"session_token": u["session_token"], "password": NEW}),
                    &[],
                ),
                None,
                NEW,
            )
        }
        Migrate => logs_in(
            ready(
                "/v1/passwords/migrate",
                json!({"email": e, "hash_type": "bcrypt", "hash": BCRYPT}),
                &["password_already_exists"],
            ),
            None,
            "Gr33n-Tea-At-Noon!",
        ),
        B2bOrgCreate => ready(
            "/v1/b2b/organizations",
            json!({"organization_name": "After commit", "organization_slug": slug}),
            &["organization_slug_already_used"],
        ),
        B2bMemberCreate => {
            let org_id = org().await;
            ready(
                &format!("/v1/b2b/organizations/{org_id}/members"),
                json!({"email_address": e}),
                &["duplicate_member_email"],
            )
        }
        B2bSignup => {
            let org_id = org().await;
            ready(
                "/v1/b2b/magic_links/email/login_or_signup",
                json!({"organization_id": org_id, "email_address": e}),
                &[],
            )
        }
        B2bLogin => {
            let org_id = org().await;
            member_with_password(app, &org_id, &e, STRONG, json!({})).await;
            logs_in(
                ready(
                    "/v1/b2b/passwords/authenticate",
                    json!({"organization_id": org_id, "email_address": e, "password": STRONG,
                           "session_duration_minutes": 60}),
                    &[],
                ),
                Some(org_id),
                STRONG,
            )
        }
    }
}

/// Each store call of `path` in turn is carried out and then reported failed (a timeout after
/// the commit): the answer is 503 in the envelope, never a success; nothing is half-written; a
/// retry succeeds or reports what the committed write did; the state then logs in.
async fn after_every_commit(app: &TestApp, faults: &dyn InjectFaults, path: WritePath) {
    for k in 1..=64 {
        let p = prepare(app, path).await;
        faults.fail_after_commit_in(k);
        let answer = app.post(&p.path, p.body.clone()).await;
        let fired = faults.fired();
        faults.disarm();
        if !fired {
            answer.assert_ok();
            assert!(k > 1, "{path:?}: no store call");
            return;
        }
        assert!(
            answer.status == 503 && answer.error_type() == "service_unavailable",
            "{path:?}, call {k} committed then failed: answered {} {}",
            answer.status,
            answer.body
        );
        let orphans = app.orphans().await;
        assert!(orphans.is_empty(), "{path:?}, call {k}: {orphans:?}");
        let retry = app.post(&p.path, p.body.clone()).await;
        assert!(
            retry.status == 200 || p.retry_may_answer.contains(&retry.error_type()),
            "{path:?}, call {k}: the retry answered {} {}",
            retry.status,
            retry.body
        );
        if let Some((org, e, password)) = &p.then_logs_in {
            let login = match org {
                Some(org_id) => latch_tests::b2b::login(app, org_id, e, password).await,
                None => app.login(e, password, None).await,
            };
            login.assert_ok();
        }
        assert!(app.orphans().await.is_empty(), "{path:?}, call {k}, after the retry");
    }
    panic!("{path:?} never ran without a fault");
}

const CONSUMER_WRITE_PATHS: [WritePath; 10] = {
    use WritePath::*;
    [
        Signup,
        Login,
        SessionRefresh,
        Revoke,
        ResetStart,
        ResetComplete,
        MagicLink,
        ExistingPasswordReset,
        SessionReset,
        Migrate,
    ]
};

const B2B_WRITE_PATHS: [WritePath; 4] = {
    use WritePath::*;
    [B2bOrgCreate, B2bMemberCreate, B2bSignup, B2bLogin]
};

/// `after_every_commit` for these paths, on a faulty store.
async fn after_every_store_commit(paths: &[WritePath]) {
    let app = TestApp::spawn_faulty().await;
    let faults = app.faults.clone().unwrap();
    for &path in paths {
        after_every_commit(&app, faults.as_ref(), path).await;
    }
}

#[tokio::test]
async fn f1_a_fault_after_a_commit_is_a_503_and_leaves_a_usable_state_consumer() {
    after_every_store_commit(&CONSUMER_WRITE_PATHS).await;
}

#[tokio::test]
async fn f1_a_fault_after_a_commit_is_a_503_and_leaves_a_usable_state_b2b() {
    after_every_store_commit(&B2B_WRITE_PATHS).await;
}

/// F4 on DynamoDB itself: every write path cut short after each of its AWS requests in turn
/// (the fault proxy carries the k-th out and fails it and every later one, so the SDK's retries
/// fail too, as for a caller stopped there); the same answers and the same whole state.
#[tokio::test]
async fn f4_every_write_path_cut_short_after_any_dynamodb_request_is_a_503_and_leaves_a_usable_state() {
    let Some(app) = TestApp::spawn_behind_aws_proxy().await else {
        eprintln!("skipped: DynamoDB only (LATCH_TEST_BACKEND=dynamodb)");
        return;
    };
    let proxy = app.aws_proxy.clone().unwrap();
    for path in CONSUMER_WRITE_PATHS.into_iter().chain(B2B_WRITE_PATHS) {
        after_every_commit(&app, proxy.as_ref(), path).await;
    }
}

/// F1 on the B2B session lookup: a store outage at any of its calls (the session, the
/// organization, the member) answers 503, never the 401/404 of a session or member that is gone.
#[tokio::test]
async fn f1_a_store_outage_during_a_b2b_session_authenticate_is_503() {
    use latch_tests::b2b::{authenticate_session, create_org, id, login, member_with_password};
    let app = TestApp::spawn_faulty().await;
    let faults = app.faults.clone().unwrap();
    let org = create_org(&app, "outage-org", json!({})).await;
    let org_id = id(&org);
    let address = email("b2b-outage");
    member_with_password(&app, &org_id, &address, STRONG, json!({})).await;
    let logged_in = login(&app, &org_id, &address, STRONG).await;
    let token = logged_in.assert_ok()["session_token"].clone();
    assert!(token.as_str().is_some_and(|t| !t.is_empty()), "{token}");
    let answer = under_every_fault(&app, &faults, "b2b session authenticate", || async {
        authenticate_session(&app, &token).await
    })
    .await;
    answer.assert_ok();
}
