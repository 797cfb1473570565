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
    UserDelete,
    B2bOrgUpdate,
    B2bOrgDelete,
    B2bMagicLink,
    B2bResetStart,
    B2bEmailReset,
    B2bSessionReset,
    B2bExistingPasswordReset,
    B2bSessionRefresh,
    B2bRevoke,
    B2bExchange,
    B2bMigrate,
    B2bTotpCreate,
    B2bTotpAuthenticate,
    B2bRecoveryCodeRecover,
    B2bRecoveryCodesRotate,
}

/// A request ready to send on a fresh subject, what its retry may answer besides 200, and the
/// login that must work once the retry is done (the committed state is usable).
struct Prepared {
    method: reqwest::Method,
    path: String,
    body: serde_json::Value,
    retry_may_answer: &'static [&'static str],
    then_logs_in: Option<(Option<String>, String, &'static str)>,
    /// The write is several on DynamoDB and its retry finishes what a cut left (the organization
    /// delete's sweep: docs/dynamodb.md, "What is not one transaction"), so members of the
    /// deleted organization may remain until the retry.
    finished_by_retry: bool,
}

impl Prepared {
    async fn send(&self, app: &TestApp) -> latch_tests::Answer {
        let body = Some(&self.body).filter(|b| !b.is_null());
        app.send(
            self.method.clone(),
            &self.path,
            body,
            Some((latch_tests::PROJECT_ID, latch_tests::SECRET)),
        )
        .await
    }

    fn with_method(mut self, method: reqwest::Method) -> Self {
        self.method = method;
        self
    }
}

const BCRYPT: &str = "$2b$10$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj.";

async fn prepare(app: &TestApp, path: WritePath) -> Prepared {
    use latch_tests::b2b::{
        create_org, enroll_totp, id, login, login_or_signup, member_with_password, reset_mail, totp_now,
    };
    use WritePath::*;
    let e = email("after-commit");
    let ready = |path: &str, body: serde_json::Value, retry: &'static [&'static str]| Prepared {
        method: reqwest::Method::POST,
        path: path.into(),
        body,
        retry_may_answer: retry,
        then_logs_in: None,
        finished_by_retry: false,
    };
    let logs_in = |mut p: Prepared, org: Option<String>, password: &'static str| {
        p.then_logs_in = Some((org, e.clone(), password));
        p
    };
    let domain = e.split('@').nth(1).unwrap().to_string();
    let slug = format!("ac-{}", e.split('@').next().unwrap().replace('.', "-"));
    let org_with = |tag: &'static str, settings: serde_json::Value| {
        let slug = format!("{slug}{tag}");
        let settings = latch_tests::merged(
            json!({"email_allowed_domains": [domain], "email_jit_provisioning": "RESTRICTED"}),
            settings,
        );
        async move { id(&create_org(app, &slug, settings).await) }
    };
    let org = || org_with("", json!({}));
    // An organization that requires MFA, and a member there enrolled in TOTP.
    let enrolled = || async {
        let org_id = org_with("", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await;
        member_with_password(app, &org_id, &e, STRONG, json!({})).await;
        let totp = enroll_totp(app, &org_id, &e, STRONG).await;
        let ist = login(app, &org_id, &e, STRONG).await.assert_ok()["intermediate_session_token"].clone();
        (org_id, totp, ist)
    };
    let member_session = |org_id: String| {
        let e = &e;
        async move {
            member_with_password(app, &org_id, e, STRONG, json!({})).await;
            login(app, &org_id, e, STRONG).await.assert_ok()["session_token"].clone()
        }
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
        UserDelete => {
            let u = app.create_user(&e, STRONG, Some(60)).await;
            let user_id = u["user_id"].as_str().unwrap();
            ready(&format!("/v1/users/{user_id}"), json!(null), &["user_not_found"])
                .with_method(reqwest::Method::DELETE)
        }
        B2bOrgUpdate => {
            let org_id = org().await;
            ready(
                &format!("/v1/b2b/organizations/{org_id}"),
                json!({"organization_name": "Renamed after commit", "mfa_policy": "REQUIRED_FOR_ALL"}),
                &[],
            )
            .with_method(reqwest::Method::PUT)
        }
        B2bOrgDelete => {
            let org_id = org().await;
            member_with_password(app, &org_id, &e, STRONG, json!({})).await;
            let mut p = ready(
                &format!("/v1/b2b/organizations/{org_id}"),
                json!(null),
                &["organization_not_found"],
            )
            .with_method(reqwest::Method::DELETE);
            p.finished_by_retry = true;
            p
        }
        B2bMagicLink => {
            let org_id = org().await;
            login_or_signup(app, &org_id, &e).await.assert_ok();
            let (_, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
            ready(
                "/v1/b2b/magic_links/authenticate",
                json!({"magic_links_token": token, "session_duration_minutes": 60}),
                &["unable_to_auth_magic_link"],
            )
        }
        B2bResetStart => {
            let org_id = org().await;
            member_with_password(app, &org_id, &e, STRONG, json!({})).await;
            ready(
                "/v1/b2b/passwords/email/reset/start",
                json!({"organization_id": org_id, "email_address": e}),
                &[],
            )
        }
        B2bEmailReset => {
            let org_id = org().await;
            member_with_password(app, &org_id, &e, STRONG, json!({})).await;
            let (token, _) = reset_mail(app, &org_id, &e).await;
            logs_in(
                ready(
                    "/v1/b2b/passwords/email/reset",
                    json!({"password_reset_token": token, "password": NEW, "session_duration_minutes": 5}),
                    &["unable_to_auth_password_reset_token"],
                ),
                Some(org_id),
                NEW,
            )
        }
        B2bSessionReset => {
            let org_id = org().await;
            let token = member_session(org_id.clone()).await;
            logs_in(
                ready(
                    "/v1/b2b/passwords/session/reset",
                    json!({"organization_id": org_id, "session_token": token, "password": NEW}),
                    &[],
                ),
                Some(org_id),
                NEW,
            )
        }
        B2bExistingPasswordReset => {
            let org_id = org().await;
            member_with_password(app, &org_id, &e, STRONG, json!({})).await;
            logs_in(
                ready(
                    "/v1/b2b/passwords/existing_password/reset",
                    json!({"organization_id": org_id, "email_address": e, "existing_password": STRONG,
                           "new_password": NEW}),
                    &["unauthorized_credentials"],
                ),
                Some(org_id),
                NEW,
            )
        }
        B2bSessionRefresh => {
            let token = member_session(org().await).await;
            ready(
                "/v1/b2b/sessions/authenticate",
                json!({"session_token": token, "session_duration_minutes": 120}),
                &[],
            )
        }
        B2bRevoke => {
            let token = member_session(org().await).await;
            ready(
                "/v1/b2b/sessions/revoke",
                json!({"session_token": token}),
                &["session_not_found"],
            )
        }
        B2bExchange => {
            let (from, to) = (org_with("-a", json!({})).await, org_with("-b", json!({})).await);
            member_with_password(app, &to, &e, STRONG, json!({})).await;
            login_or_signup(app, &from, &e).await.assert_ok();
            let (_, token) = app.b2b_link(&e, "multi_tenant_magic_links").await;
            let session = app
                .post(
                    "/v1/b2b/magic_links/authenticate",
                    json!({"magic_links_token": token, "session_duration_minutes": 60}),
                )
                .await;
            ready(
                "/v1/b2b/sessions/exchange",
                json!({"organization_id": to, "session_token": session.assert_ok()["session_token"],
                       "session_duration_minutes": 30}),
                &[],
            )
        }
        B2bMigrate => {
            let org_id = org().await;
            logs_in(
                ready(
                    "/v1/b2b/passwords/migrate",
                    json!({"organization_id": org_id, "email_address": e, "hash_type": "bcrypt", "hash": BCRYPT}),
                    &[],
                ),
                Some(org_id),
                "Gr33n-Tea-At-Noon!",
            )
        }
        B2bTotpCreate => {
            let org_id = org_with("", json!({"mfa_policy": "REQUIRED_FOR_ALL"})).await;
            member_with_password(app, &org_id, &e, STRONG, json!({})).await;
            let first = login(app, &org_id, &e, STRONG).await;
            let first = first.assert_ok();
            ready(
                "/v1/b2b/totp",
                json!({"organization_id": org_id, "member_id": first["member_id"],
                       "intermediate_session_token": first["intermediate_session_token"]}),
                &[],
            )
        }
        B2bTotpAuthenticate => {
            let (org_id, totp, ist) = enrolled().await;
            // The enrolment used the current step's code: the next step's is unused.
            app.clock.advance(chrono::Duration::seconds(30));
            ready(
                "/v1/b2b/totp/authenticate",
                json!({"organization_id": org_id, "member_id": totp.member_id,
                       "code": totp_now(app, &totp.secret), "intermediate_session_token": ist,
                       "session_duration_minutes": 60}),
                &["totp_code_already_authenticated", "intermediate_session_not_found"],
            )
        }
        B2bRecoveryCodeRecover => {
            let (org_id, totp, ist) = enrolled().await;
            ready(
                "/v1/b2b/recovery_codes/recover",
                json!({"organization_id": org_id, "member_id": totp.member_id,
                       "recovery_code": totp.recovery_codes[0], "intermediate_session_token": ist,
                       "session_duration_minutes": 60}),
                &["unable_to_authenticate_recovery_code", "intermediate_session_not_found"],
            )
        }
        B2bRecoveryCodesRotate => {
            let (org_id, totp, _) = enrolled().await;
            ready(
                "/v1/b2b/recovery_codes/rotate",
                json!({"organization_id": org_id, "member_id": totp.member_id}),
                &[],
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
        let answer = p.send(app).await;
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
        if !(p.finished_by_retry && on_dynamo()) {
            let orphans = app.orphans().await;
            assert!(orphans.is_empty(), "{path:?}, call {k}: {orphans:?}");
        }
        let retry = p.send(app).await;
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

const CONSUMER_WRITE_PATHS: [WritePath; 11] = {
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
        UserDelete,
    ]
};

const B2B_WRITE_PATHS: [WritePath; 19] = {
    use WritePath::*;
    [
        B2bOrgCreate,
        B2bMemberCreate,
        B2bSignup,
        B2bLogin,
        B2bOrgUpdate,
        B2bOrgDelete,
        B2bMagicLink,
        B2bResetStart,
        B2bEmailReset,
        B2bSessionReset,
        B2bExistingPasswordReset,
        B2bSessionRefresh,
        B2bRevoke,
        B2bExchange,
        B2bMigrate,
        B2bTotpCreate,
        B2bTotpAuthenticate,
        B2bRecoveryCodeRecover,
        B2bRecoveryCodesRotate,
    ]
};

/// Whether a request path is an instance of a route template (`{name}` matches one segment).
fn instance_of(path: &str, template: &str) -> bool {
    let (path, template): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), template.split('/').collect());
    path.len() == template.len()
        && path
            .iter()
            .zip(&template)
            .all(|(p, t)| p == t || (t.starts_with('{') && !p.is_empty()))
}

/// The walks above are for every write: each backend route whose function may write
/// (`Needs::writes`, the SAM template's grant) is what some write path sends. A route added to
/// the table without a path here fails this. The `/sdk/v1` twins run the same flows over the
/// browser's auth (docs/frontend-sdk.md) and are not walked again.
#[tokio::test]
async fn the_after_commit_walks_send_every_backend_route_that_writes() {
    if on_dynamo() {
        return; // a property of the walk, not of the store: checked once, on SQLite
    }
    let app = TestApp::spawn().await;
    let mut sent = vec![];
    for path in CONSUMER_WRITE_PATHS.into_iter().chain(B2B_WRITE_PATHS) {
        let p = prepare(&app, path).await;
        sent.push((p.method.as_str().to_string(), p.path));
    }
    let unwalked: Vec<_> = latch::ROUTES
        .iter()
        .filter(|r| r.needs.writes && r.path.starts_with("/v1/"))
        .filter(|r| {
            !sent
                .iter()
                .any(|(m, p)| m == r.method.as_str() && instance_of(p, r.path))
        })
        .map(|r| r.name)
        .collect();
    assert!(
        unwalked.is_empty(),
        "write routes no after-commit walk sends: {unwalked:?}"
    );
}

/// `after_every_commit` for these paths, on a faulty store.
async fn after_every_store_commit(paths: &[WritePath]) {
    for &path in paths {
        // A store per path: the orphan check reads all of it after every request.
        let app = TestApp::spawn_faulty().await;
        let faults = app.faults.clone().unwrap();
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
    for path in CONSUMER_WRITE_PATHS.into_iter().chain(B2B_WRITE_PATHS) {
        // A table per path: the orphan check scans the whole table after every request.
        let Some(app) = TestApp::spawn_behind_aws_proxy().await else {
            eprintln!("skipped: DynamoDB only (LATCH_TEST_BACKEND=dynamodb)");
            return;
        };
        let proxy = app.aws_proxy.clone().unwrap();
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

/// F5 for the cross-organization copy of an imported password, one write per other membership
/// (`flows::members::propagate_password`): a migrate cut short after any store call leaves each
/// membership with the imported hash or as it was (never another password), and the import sent
/// again finishes the copy, after which every membership logs in with it.
#[tokio::test]
async fn f5_a_migrate_sharing_its_password_cut_short_at_any_step_leaves_every_member_usable_and_its_retry_finishes_it()
{
    use latch_tests::b2b::{create_member, create_org, id, login};
    let settings = [("LATCH_B2B_CROSS_ORG_PASSWORDS", "true")];
    let (app, faults): (TestApp, Arc<dyn InjectFaults>) = if on_dynamo() {
        let app = TestApp::spawn_behind_aws_proxy_with(&settings).await.unwrap();
        let proxy = app.aws_proxy.clone().unwrap();
        (app, proxy)
    } else {
        let app = TestApp::spawn_faulty_with(&settings).await;
        let faults = app.faults.clone().unwrap();
        (app, faults)
    };
    for k in 1.. {
        let e = email("migrate-shared");
        let into = id(&create_org(&app, &format!("migrate-into-{k}"), json!({})).await);
        let mut orgs = vec![into.clone()];
        for tag in ["b", "c"] {
            let other = id(&create_org(&app, &format!("migrate-{tag}-{k}"), json!({})).await);
            create_member(&app, &other, &e, json!({})).await;
            orgs.push(other);
        }
        let migrate = || {
            app.post(
                "/v1/b2b/passwords/migrate",
                json!({"organization_id": into, "email_address": e, "hash_type": "bcrypt", "hash": BCRYPT}),
            )
        };
        faults.fail_after_commit_in(k);
        let answer = migrate().await;
        let cut = faults.fired();
        faults.disarm();
        let hashes: Vec<Option<String>> = app
            .state
            .store
            .members_with_email(&e)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.password.map(|p| p.hash))
            .collect();
        let set: Vec<&String> = hashes.iter().flatten().collect();
        assert!(set.iter().all(|h| *h == set[0]), "k = {k}: two passwords: {hashes:?}");
        if cut {
            answer.assert_error(503, "service_unavailable");
            migrate().await.assert_ok();
        } else {
            answer.assert_ok();
            assert!(k > 3, "the migrate should take several store calls, took {k}");
        }
        for org in &orgs {
            login(&app, org, &e, "Gr33n-Tea-At-Noon!").await.assert_ok();
        }
        assert!(app.orphans().await.is_empty(), "k = {k}: {:?}", app.orphans().await);
        if !cut {
            break;
        }
    }
}
