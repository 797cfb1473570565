//! The store conformance suite: every operation of the `Store` trait, its atomicity under
//! concurrency (docs/security.md C1, R3, L2) and its expiry semantics, against whichever backend the
//! suite runs on (SQLite by default; DynamoDB with LATCH_TEST_BACKEND=dynamodb).

use std::sync::Arc;

use chrono::{Duration, Utc};
use latch::store::*;
use latch_tests::{dynamo_orphans, fresh_store, fresh_store_twice, scan, Backend};
use tokio::task::JoinSet;

fn id(kind: &str) -> String {
    format!("{kind}-test-{}", uuid_v4())
}

fn uuid_v4() -> String {
    // Unique enough for tests without another dependency: time + counter.
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{:x}-{}",
        Utc::now().timestamp_nanos_opt().unwrap(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn user(email: &str) -> UserRecord {
    UserRecord {
        user_id: id("user"),
        email: email.into(),
        email_id: id("email"),
        email_verified: false,
        password: Some(PasswordRecord {
            password_id: id("password"),
            hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            requires_reset: false,
        }),
        name: Default::default(),
        trusted_metadata: Default::default(),
        untrusted_metadata: Default::default(),
        created_at: Utc::now(),
        lock: Default::default(),
        member: None,
        credential_epoch: 0,
    }
}

fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid_v4())
}

fn session(user_id: &str, minutes: i64) -> SessionRecord {
    let now = Utc::now();
    SessionRecord {
        session_id: id("session"),
        user_id: user_id.into(),
        token_digest: id("digest"),
        started_at: now,
        last_accessed_at: now,
        expires_at: now + Duration::minutes(minutes),
        attributes: Default::default(),
        custom_claims: Default::default(),
        factors: vec![],
        organization: None,
    }
}

fn token(user: &UserRecord) -> TokenRecord {
    let now = Utc::now();
    TokenRecord {
        token_digest: id("tok"),
        kind: TokenKind::ResetPassword,
        user_id: user.user_id.clone(),
        email_id: user.email_id.clone(),
        created_at: now,
        expires_at: now + Duration::minutes(30),
        code_challenge: None,
        attributes: Default::default(),
        used: false,
        organization_id: None,
        factors: vec![],
        credential_epoch: 0,
    }
}

/// Twenty concurrent `create_user`s of the records `make` returns (all with one address): the
/// ids of those that succeeded; every other must fail with `DuplicateEmail`.
async fn race_creates(store: &Arc<dyn Store>, make: impl Fn() -> UserRecord) -> Vec<String> {
    let mut set = JoinSet::new();
    for _ in 0..20 {
        let (store, u) = (store.clone(), make());
        set.spawn(async move { store.create_user(&u, None).await.map(|_| u.user_id) });
    }
    let mut winners = vec![];
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(id) => winners.push(id),
            Err(StoreError::DuplicateEmail) => {}
            Err(e) => panic!("{e}"),
        }
    }
    winners
}

/// How many of the racing tasks report success.
async fn successes(mut set: JoinSet<bool>) -> usize {
    let mut wins = 0;
    while let Some(r) = set.join_next().await {
        wins += usize::from(r.unwrap());
    }
    wins
}

#[tokio::test]
async fn users_are_created_found_and_unique_by_email() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("u"));
    store.create_user(&u, None).await.unwrap();
    assert_eq!(store.user_by_id(&u.user_id).await.unwrap().as_ref(), Some(&u));
    assert_eq!(store.user_by_email(None, &u.email).await.unwrap().as_ref(), Some(&u));
    assert!(store.user_by_id("user-test-missing").await.unwrap().is_none());
    assert!(store
        .user_by_email(None, "missing@example.com")
        .await
        .unwrap()
        .is_none());
    let twin = user(&u.email);
    assert!(matches!(
        store.create_user(&twin, None).await,
        Err(StoreError::DuplicateEmail)
    ));
    assert!(
        store.user_by_id(&twin.user_id).await.unwrap().is_none(),
        "no half-written twin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_with_one_email_make_one_user() {
    // C1
    let (store, _) = fresh_store().await;
    let email = unique_email("race");
    let winners = race_creates(&store, || user(&email)).await;
    assert_eq!(winners.len(), 1);
    assert_eq!(
        store.user_by_email(None, &email).await.unwrap().unwrap().user_id,
        winners[0]
    );
}

#[tokio::test]
async fn user_changes_apply_and_report_missing_users() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("change"));
    store.create_user(&u, None).await.unwrap();
    // The flag is set only while the password is the one that was verified.
    assert!(!store
        .require_password_reset(&u.user_id, "$argon2id$some-other-hash")
        .await
        .unwrap());
    assert!(
        !store
            .user_by_id(&u.user_id)
            .await
            .unwrap()
            .unwrap()
            .password
            .unwrap()
            .requires_reset
    );
    let hash = u.password.as_ref().unwrap().hash.clone();
    assert!(store.require_password_reset(&u.user_id, &hash).await.unwrap());
    assert!(store.verify_email(&u.user_id).await.unwrap());
    let got = store.user_by_id(&u.user_id).await.unwrap().unwrap();
    assert!(got.password.unwrap().requires_reset);
    assert!(got.email_verified);
    assert!(!store.require_password_reset("user-test-missing", &hash).await.unwrap());
    assert!(!store.verify_email("user-test-missing").await.unwrap());
    let bump: LockChange = Arc::new(|s| LockState {
        failed_attempts: s.failed_attempts + 1,
        ..s.clone()
    });
    assert!(store.update_lock("user-test-missing", bump).await.unwrap().is_none());
}

/// Account pre-hijacking (Stytch's third `reset_password` case; SECURITY R6 area): the store's
/// verify-email flags a password set while the email was unverified, in the same write; a
/// password beside an already verified email, or a user without a password, is left alone; a
/// completed reset by email clears the flag and verifies the email, one by the old password does
/// not verify it.
#[tokio::test]
async fn prehijack_the_first_email_proof_flags_a_password_set_before_it() {
    let (store, _) = fresh_store().await;
    let unverified = user(&unique_email("hijack"));
    store.create_user(&unverified, None).await.unwrap();
    assert!(store.verify_email(&unverified.user_id).await.unwrap());
    let got = store.user_by_id(&unverified.user_id).await.unwrap().unwrap();
    assert!(got.email_verified && got.password.unwrap().requires_reset);
    // A second proof changes nothing more; an email reset clears the flag.
    let reset = |token: Option<TokenRecord>, u: &UserRecord| PasswordReset {
        user_id: u.user_id.clone(),
        token,
        password: PasswordRecord {
            password_id: "password-test-new".into(),
            hash: "$argon2id$new".into(),
            requires_reset: false,
        },
        keep_session: None,
        new_session: None,
        same_password_for: Vec::new(),
    };
    let t = token(&unverified);
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    let done = store
        .complete_reset(&reset(Some(t.clone()), &unverified))
        .await
        .unwrap()
        .unwrap();
    assert!(done.email_verified && !done.password.as_ref().unwrap().requires_reset);
    assert!(store.verify_email(&unverified.user_id).await.unwrap());
    let got = store.user_by_id(&unverified.user_id).await.unwrap().unwrap();
    assert!(
        !got.password.unwrap().requires_reset,
        "a verified email's password was flagged"
    );

    // Verified before the password: never flagged.
    let mut verified = user(&unique_email("hijack-verified"));
    verified.email_verified = true;
    store.create_user(&verified, None).await.unwrap();
    store.verify_email(&verified.user_id).await.unwrap();
    let got = store.user_by_id(&verified.user_id).await.unwrap().unwrap();
    assert!(!got.password.unwrap().requires_reset);

    // No password: only verified.
    let mut bare = user(&unique_email("hijack-bare"));
    bare.password = None;
    store.create_user(&bare, None).await.unwrap();
    store.verify_email(&bare.user_id).await.unwrap();
    let got = store.user_by_id(&bare.user_id).await.unwrap().unwrap();
    assert!(got.email_verified && got.password.is_none());

    // A reset without a token (existing password, session) leaves the email unverified, so
    // the first proof still flags the password it set.
    let by_password = user(&unique_email("hijack-existing"));
    store.create_user(&by_password, None).await.unwrap();
    let done = store.complete_reset(&reset(None, &by_password)).await.unwrap().unwrap();
    assert!(!done.email_verified);
    store.verify_email(&by_password.user_id).await.unwrap();
    let got = store.user_by_id(&by_password.user_id).await.unwrap().unwrap();
    assert!(got.password.unwrap().requires_reset);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_updates_are_atomic() {
    // L2: no increment is lost however the updates race.
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("lock"));
    store.create_user(&u, None).await.unwrap();
    let mut set = JoinSet::new();
    for _ in 0..30 {
        let (store, id) = (store.clone(), u.user_id.clone());
        set.spawn(async move {
            let bump: LockChange = Arc::new(|s| LockState {
                failed_attempts: s.failed_attempts + 1,
                ..s.clone()
            });
            let (before, after) = store.update_lock(&id, bump).await.unwrap().unwrap();
            assert_eq!(after.failed_attempts, before.failed_attempts + 1);
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    assert_eq!(
        store
            .user_by_id(&u.user_id)
            .await
            .unwrap()
            .unwrap()
            .lock
            .failed_attempts,
        30
    );
}

fn lockout(threshold: u32) -> latch::config::LockoutSettings {
    latch::config::LockoutSettings {
        threshold,
        ttl: Duration::hours(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_claims_are_atomic_and_stop_at_the_threshold() {
    // L2 through the login path: 12 racing claims with threshold 5 grant exactly 5, count every
    // granted one, and leave the user locked.
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("claim"));
    store.create_user(&u, None).await.unwrap();
    let now = Utc::now();
    let mut set = JoinSet::new();
    for _ in 0..12 {
        let (store, email) = (store.clone(), u.email.clone());
        set.spawn(async move {
            let (user, ticket) = store.claim_login(None, &email, now, lockout(5)).await.unwrap().unwrap();
            (user, ticket)
        });
    }
    let mut granted = 0;
    let mut took_last = 0;
    while let Some(r) = set.join_next().await {
        let (user, ticket) = r.unwrap();
        assert_eq!(user.email, u.email, "the claim returns the user");
        if let Some(t) = ticket {
            granted += 1;
            took_last += usize::from(t.took_last);
        }
    }
    assert_eq!(granted, 5);
    assert_eq!(took_last, 1, "one claim takes the last attempt");
    let stored = store.user_by_id(&u.user_id).await.unwrap().unwrap();
    assert_eq!(stored.lock.failed_attempts, 5);
    assert!(stored.lock.is_locked(now));
    assert!(store
        .claim_login(None, "nobody@example.com", now, lockout(5))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_recorded_login_resets_the_count_and_writes_its_session_with_it() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("record"));
    store.create_user(&u, None).await.unwrap();
    let now = Utc::now();
    for _ in 0..2 {
        store.claim_login(None, &u.email, now, lockout(5)).await.unwrap();
    }
    let (claimed, ticket) = store
        .claim_login(None, &u.email, now, lockout(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.lock.failed_attempts, 3);
    let s = session(&u.user_id, 60);
    let recorded = store
        .record_login(&claimed, ticket.unwrap(), now, Some(SessionWrite::Insert(&s)))
        .await
        .unwrap();
    assert_eq!(recorded, LoginRecorded::Recorded);
    let stored = store.user_by_id(&u.user_id).await.unwrap().unwrap();
    assert_eq!(stored.lock, LockState::default());
    assert_eq!(
        store.session_by_id(&s.session_id).await.unwrap().unwrap().user_id,
        u.user_id
    );

    // Refreshing a session revoked meanwhile writes nothing: the count stays claimed.
    let (claimed, ticket) = store
        .claim_login(None, &u.email, now, lockout(5))
        .await
        .unwrap()
        .unwrap();
    let mut revoked = s.clone();
    assert!(store.delete_session(&s.session_id).await.unwrap());
    revoked.expires_at = now + Duration::minutes(90);
    let recorded = store
        .record_login(&claimed, ticket.unwrap(), now, Some(SessionWrite::Refresh(&revoked)))
        .await
        .unwrap();
    assert_eq!(recorded, LoginRecorded::SessionGone);
    assert!(store.session_by_id(&s.session_id).await.unwrap().is_none());
    assert_eq!(
        store
            .user_by_id(&u.user_id)
            .await
            .unwrap()
            .unwrap()
            .lock
            .failed_attempts,
        1
    );

    // A user deleted meanwhile: nothing is written, no session outlives them.
    let (claimed, ticket) = store
        .claim_login(None, &u.email, now, lockout(5))
        .await
        .unwrap()
        .unwrap();
    assert!(store.delete_user(&u.user_id).await.unwrap());
    let orphan = session(&u.user_id, 60);
    let recorded = store
        .record_login(&claimed, ticket.unwrap(), now, Some(SessionWrite::Insert(&orphan)))
        .await
        .unwrap();
    assert_eq!(recorded, LoginRecorded::UserGone);
    assert!(store.session_by_id(&orphan.session_id).await.unwrap().is_none());
}

#[tokio::test]
async fn the_last_attempt_locks_and_only_its_own_success_lifts_the_lock() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("last"));
    store.create_user(&u, None).await.unwrap();
    let t0 = Utc::now();
    let (_, first) = store
        .claim_login(None, &u.email, t0, lockout(2))
        .await
        .unwrap()
        .unwrap();
    let t1 = t0 + Duration::milliseconds(3);
    let (claimed, last) = store
        .claim_login(None, &u.email, t1, lockout(2))
        .await
        .unwrap()
        .unwrap();
    let last = last.unwrap();
    assert!(last.took_last);
    assert!(claimed.lock.is_locked(t1), "locked while the last attempt is verified");
    // The first attempt's success finds a lock it did not set: nothing is written.
    let recorded = store.record_login(&claimed, first.unwrap(), t1, None).await.unwrap();
    assert!(matches!(recorded, LoginRecorded::Locked(l) if l.is_locked(t1)));
    assert!(store.user_by_id(&u.user_id).await.unwrap().unwrap().lock.is_locked(t1));
    // The last attempt's own success lifts it.
    assert_eq!(
        store.record_login(&claimed, last, t1, None).await.unwrap(),
        LoginRecorded::Recorded
    );
    assert_eq!(
        store.user_by_id(&u.user_id).await.unwrap().unwrap().lock,
        LockState::default()
    );
    // Locked again, a claim is refused until the lock expires; then the count starts afresh.
    store.claim_login(None, &u.email, t1, lockout(2)).await.unwrap();
    store.claim_login(None, &u.email, t1, lockout(2)).await.unwrap();
    let (_, refused) = store
        .claim_login(None, &u.email, t1, lockout(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refused, None);
    let later = t1 + Duration::hours(1);
    let (after, granted) = store
        .claim_login(None, &u.email, later, lockout(2))
        .await
        .unwrap()
        .unwrap();
    assert!(granted.is_some());
    assert_eq!(after.lock.failed_attempts, 1);
    assert!(!after.lock.is_locked(later));
}

#[tokio::test]
async fn sessions_live_and_die_with_their_user() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("sess"));
    store.create_user(&u, None).await.unwrap();
    let mut s = session(&u.user_id, 60);
    store.insert_session(&s).await.unwrap();
    assert_eq!(store.session_by_id(&s.session_id).await.unwrap().as_ref(), Some(&s));
    assert_eq!(
        store.session_by_token_digest(&s.token_digest).await.unwrap().as_ref(),
        Some(&s)
    );
    s.expires_at += Duration::minutes(60);
    s.custom_claims.insert("k".into(), "v".into());
    assert!(store.update_session(&s).await.unwrap());
    assert_eq!(
        store.session_by_token_digest(&s.token_digest).await.unwrap().as_ref(),
        Some(&s)
    );
    let expired = session(&u.user_id, -1);
    store.insert_session(&expired).await.unwrap();
    let listed = store.sessions_for_user(&u.user_id, Utc::now()).await.unwrap();
    assert_eq!(
        listed,
        vec![s.clone()],
        "expired sessions are not listed, whatever the store holds"
    );
    assert!(store.delete_session(&s.session_id).await.unwrap());
    assert!(!store.delete_session(&s.session_id).await.unwrap());
    assert!(store.session_by_token_digest(&s.token_digest).await.unwrap().is_none());
    assert!(
        !store.update_session(&s).await.unwrap(),
        "a deleted session is not resurrected"
    );
    // No session without its user.
    let orphan = session("user-test-missing", 60);
    assert!(matches!(store.insert_session(&orphan).await, Err(StoreError::Conflict)));
    assert!(store.session_by_id(&orphan.session_id).await.unwrap().is_none());
}

/// `session_context` by token digest and by id, on `store`: the session, its user, its organization.
async fn contexts(
    store: &Arc<dyn Store>,
    s: &SessionRecord,
) -> [Option<(SessionRecord, Option<UserRecord>, Option<OrganizationRecord>)>; 2] {
    let by_id = SessionKey::Id {
        session_id: &s.session_id,
        user_id: &s.user_id,
    };
    let mut found = [None, None];
    for (slot, key) in found.iter_mut().zip([SessionKey::TokenDigest(&s.token_digest), by_id]) {
        *slot = store
            .session_context(key)
            .await
            .unwrap()
            .map(|c| (c.session, c.user, c.organization));
    }
    found
}

/// The session hot path's combined read (PERFORMANCE.md, "The session hot path") answers what
/// the separate lookups answer, on the handle that wrote (which may remember where things are) and
/// on one that learnt nothing, and sees every change and revocation at the next call.
#[tokio::test]
async fn a_session_is_read_with_its_user_and_organization_as_they_are_now() {
    let (writer, other, _) = fresh_store_twice().await;
    let mut u = user(&unique_email("context"));
    writer.create_user(&u, None).await.unwrap();
    let mut s = session(&u.user_id, 60);
    writer.insert_session(&s).await.unwrap();
    let org = organization(&unique_slug("context"));
    writer.create_organization(&org).await.unwrap();
    let m = member(&org.organization_id, &unique_email("context-member"));
    writer.create_user(&m, None).await.unwrap();
    let ms = member_session(&m, &org);
    writer.insert_session(&ms).await.unwrap();
    for store in [&writer, &other] {
        let want = Some((s.clone(), Some(u.clone()), None));
        assert_eq!(contexts(store, &s).await, [want.clone(), want]);
        let want = Some((ms.clone(), Some(m.clone()), Some(org.clone())));
        assert_eq!(contexts(store, &ms).await, [want.clone(), want]);
    }

    // Changes to each part, made through either handle, are read by both at the next call.
    u = writer
        .update_user(
            &u.user_id,
            Arc::new(|u: &mut UserRecord| u.name.first_name = "Changed".into()),
        )
        .await
        .unwrap()
        .unwrap();
    let (_, locked) = other
        .update_lock(
            &u.user_id,
            Arc::new(|l: &LockState| LockState {
                failed_attempts: 3,
                ..l.clone()
            }),
        )
        .await
        .unwrap()
        .unwrap();
    u.lock = locked;
    s.custom_claims.insert("k".into(), "v".into());
    assert!(other.update_session(&s).await.unwrap());
    let mut renamed = org.clone();
    renamed.organization_name = "Renamed".into();
    assert!(other
        .update_organization(&renamed, &org.organization_slug)
        .await
        .unwrap());
    for store in [&writer, &other] {
        let want = Some((s.clone(), Some(u.clone()), None));
        assert_eq!(contexts(store, &s).await, [want.clone(), want]);
        let [by_token, _] = contexts(store, &ms).await;
        assert_eq!(by_token.unwrap().2.unwrap().organization_name, "Renamed");
    }

    // A session of another user is not found by id with the wrong user's name: the caller
    // compares, but the user read is the session's own.
    let wrong_user = SessionKey::Id {
        session_id: &s.session_id,
        user_id: &m.user_id,
    };
    let c = other.session_context(wrong_user).await.unwrap().unwrap();
    assert_eq!(c.user.map(|u| u.user_id), Some(s.user_id.clone()));

    // Revoked through one handle: gone for both at once, though both read it before.
    assert!(other.delete_session(&s.session_id).await.unwrap());
    assert!(writer.delete_user(&m.user_id).await.unwrap());
    for store in [&writer, &other] {
        assert_eq!(contexts(store, &s).await, [None, None], "a revoked session");
        assert_eq!(contexts(store, &ms).await, [None, None], "a deleted member's session");
    }
    assert!(writer
        .session_context(SessionKey::TokenDigest("digest-test-unknown"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_are_consumed_exactly_once() {
    // R3
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("tok"));
    store.create_user(&u, None).await.unwrap();
    let t = token(&u);
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    assert_eq!(store.token_by_digest(&t.token_digest).await.unwrap().as_ref(), Some(&t));
    let mut set = JoinSet::new();
    for _ in 0..20 {
        let (store, t) = (store.clone(), t.clone());
        set.spawn(async move { store.consume_token(&t).await.unwrap() });
    }
    let wins = successes(set).await;
    assert_eq!(wins, 1);
    assert!(store.token_by_digest(&t.token_digest).await.unwrap().unwrap().used);
    let missing = TokenRecord {
        token_digest: "tok-missing".into(),
        ..t.clone()
    };
    assert!(!store.consume_token(&missing).await.unwrap());
    // Expiry is the caller's check: an expired record is still returned, with its expiry (R2).
    let mut old = token(&u);
    old.expires_at = Utc::now() - Duration::minutes(1);
    store.insert_tokens(&[old.clone()]).await.unwrap();
    assert!(!store
        .token_by_digest(&old.token_digest)
        .await
        .unwrap()
        .unwrap()
        .is_live(Utc::now()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_is_all_or_nothing_and_redeems_its_token_once() {
    let (store, _) = fresh_store().await;
    let mut u = user(&unique_email("reset"));
    u.lock = LockState {
        failed_attempts: 10,
        lock_created_at: Some(Utc::now()),
        lock_expires_at: Some(Utc::now() + Duration::hours(1)),
    };
    store.create_user(&u, None).await.unwrap();
    let (keep, other, third) = (
        session(&u.user_id, 60),
        session(&u.user_id, 60),
        session(&u.user_id, 60),
    );
    for s in [&keep, &other, &third] {
        store.insert_session(s).await.unwrap();
    }
    let t = token(&u);
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    let new = PasswordRecord {
        password_id: "password-test-new".into(),
        hash: "$argon2id$new".into(),
        requires_reset: false,
    };
    let reset = PasswordReset {
        user_id: u.user_id.clone(),
        token: Some(t.clone()),
        password: new.clone(),
        keep_session: Some(keep.clone()),
        new_session: None,
        same_password_for: Vec::new(),
    };
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let (store, reset) = (store.clone(), reset.clone());
        set.spawn(async move { store.complete_reset(&reset).await.unwrap().is_some() });
    }
    let wins = successes(set).await;
    assert_eq!(wins, 1, "the token redeems once");
    let got = store.user_by_id(&u.user_id).await.unwrap().unwrap();
    assert_eq!(
        store.complete_reset(&reset).await.unwrap(),
        None,
        "a used token redeems nothing"
    );
    assert_eq!(got.password, Some(new));
    assert!(got.email_verified);
    assert_eq!(got.lock, LockState::default());
    let left: Vec<String> = store
        .sessions_for_user(&u.user_id, Utc::now())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(left, vec![keep.session_id.clone()]);
    for gone in [&other, &third] {
        assert!(store
            .session_by_token_digest(&gone.token_digest)
            .await
            .unwrap()
            .is_none());
    }
    // Without a token (existing-password reset): every session goes, and the new one comes.
    let fresh = session(&u.user_id, 60);
    let again = PasswordReset {
        token: None,
        keep_session: None,
        new_session: Some(fresh.clone()),
        ..reset
    };
    assert!(store.complete_reset(&again).await.unwrap().is_some());
    assert_eq!(
        store.sessions_for_user(&u.user_id, Utc::now()).await.unwrap(),
        vec![fresh]
    );
}

#[tokio::test]
async fn deleting_a_user_takes_everything_of_theirs() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("del"));
    store.create_user(&u, None).await.unwrap();
    let s = session(&u.user_id, 60);
    store.insert_session(&s).await.unwrap();
    let t = token(&u);
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    assert!(store.delete_user(&u.user_id).await.unwrap());
    assert!(store.user_by_id(&u.user_id).await.unwrap().is_none());
    assert!(store.user_by_email(None, &u.email).await.unwrap().is_none());
    assert!(store.session_by_id(&s.session_id).await.unwrap().is_none());
    assert!(store.session_by_token_digest(&s.token_digest).await.unwrap().is_none());
    assert!(store.token_by_digest(&t.token_digest).await.unwrap().is_none());
    assert!(!store.delete_user(&u.user_id).await.unwrap());
    // The email is free again.
    store.create_user(&user(&u.email), None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_windows_count_atomically() {
    let (store, _) = fresh_store().await;
    let key = format!("reset_start:{}", unique_email("rl"));
    let window = Utc::now();
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let (store, key) = (store.clone(), key.clone());
        set.spawn(async move { store.hit_rate_limit(&key, window).await.unwrap() });
    }
    let mut counts = vec![];
    while let Some(r) = set.join_next().await {
        counts.push(r.unwrap());
    }
    counts.sort();
    assert_eq!(counts, (1..=10).collect::<Vec<u32>>(), "each hit sees its own count");
    assert_eq!(
        store.hit_rate_limit(&key, window + Duration::hours(1)).await.unwrap(),
        1
    );
    assert_eq!(store.hit_rate_limit(&format!("{key}-other"), window).await.unwrap(), 1);
}

#[tokio::test]
async fn the_first_signing_key_wins() {
    let (store, _) = fresh_store().await;
    let now = Utc::now();
    let first = SigningKeyRecord {
        kid: id("jwk"),
        private_key: StoredPrivateKey::Sealed("sealed-1".into()),
        created_at: now,
    };
    let second = SigningKeyRecord {
        kid: id("jwk"),
        private_key: StoredPrivateKey::Sealed("sealed-2".into()),
        created_at: now,
    };
    store.insert_signing_key(&first).await.unwrap();
    assert!(matches!(
        store.insert_signing_key(&second).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.signing_keys().await.unwrap(), vec![first]);
}

/// SECURITY X3: a key an older version left in clear is replaced by its sealed copy only while
/// the store still holds the clear one: of two processes sealing at once, one wins.
#[tokio::test]
async fn x3_a_signing_key_is_replaced_only_from_what_the_store_holds() {
    let (store, _) = fresh_store().await;
    let clear = SigningKeyRecord {
        kid: id("jwk"),
        private_key: StoredPrivateKey::ClearPem("pem-in-clear".into()),
        created_at: Utc::now(),
    };
    store.insert_signing_key(&clear).await.unwrap();
    let sealed = |text: &str| SigningKeyRecord {
        private_key: StoredPrivateKey::Sealed(text.into()),
        ..clear.clone()
    };
    let (a, b) = (sealed("sealed-by-a"), sealed("sealed-by-b"));
    let (ra, rb) = tokio::join!(
        store.replace_signing_key(&clear, &a),
        store.replace_signing_key(&clear, &b)
    );
    let winner = match (ra, rb) {
        (Ok(()), Err(StoreError::Conflict)) => a.clone(),
        (Err(StoreError::Conflict), Ok(())) => b.clone(),
        other => panic!("exactly one replacement wins: {other:?}"),
    };
    assert_eq!(store.signing_keys().await.unwrap(), vec![winner.clone()]);
    // From a record the store no longer holds, or for a kid it does not hold: a conflict.
    assert!(matches!(
        store.replace_signing_key(&clear, &a).await,
        Err(StoreError::Conflict)
    ));
    let other = SigningKeyRecord {
        kid: id("jwk"),
        ..clear.clone()
    };
    let other_sealed = SigningKeyRecord {
        private_key: StoredPrivateKey::Sealed("x".into()),
        ..other.clone()
    };
    assert!(matches!(
        store.replace_signing_key(&other, &other_sealed).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.signing_keys().await.unwrap(), vec![winner]);
}

// ---- B2B: organizations and members (docs/b2b.md) ----

fn unique_slug(tag: &str) -> String {
    format!("{tag}-{}", uuid_v4())
}

fn organization(slug: &str) -> OrganizationRecord {
    let now = Utc::now();
    OrganizationRecord {
        organization_id: id("organization"),
        organization_name: format!("Org {slug}"),
        organization_slug: slug.into(),
        organization_logo_url: String::new(),
        organization_external_id: None,
        trusted_metadata: Default::default(),
        sso_jit_provisioning: Allowance::AllAllowed,
        email_allowed_domains: vec!["example.com".into()],
        email_jit_provisioning: JitProvisioning::NotAllowed,
        email_invites: Allowance::AllAllowed,
        auth_methods: MethodRestriction::AllAllowed,
        allowed_auth_methods: vec![],
        mfa_policy: MfaPolicy::Optional,
        mfa_methods: MethodRestriction::AllAllowed,
        allowed_mfa_methods: vec![],
        created_at: now,
        updated_at: now,
    }
}

fn member(organization_id: &str, email: &str) -> UserRecord {
    UserRecord {
        user_id: id("member"),
        email_id: id("member-email"),
        member: Some(MemberFields::new(organization_id, MemberStatus::Active, Utc::now())),
        ..user(email)
    }
}

fn member_session(m: &UserRecord, org: &OrganizationRecord) -> SessionRecord {
    SessionRecord {
        organization: Some(org.org_ref()),
        ..session(&m.user_id, 60)
    }
}

fn member_token(m: &UserRecord) -> TokenRecord {
    TokenRecord {
        kind: TokenKind::MultiTenantMagicLink,
        organization_id: m.organization_id().map(str::to_string),
        ..token(m)
    }
}

/// On DynamoDB, the whole table obeys docs/dynamodb.md's layout (no item without its partners).
async fn assert_consistent(backend: &Backend) {
    if let Backend::Dynamo { client, table, .. } = backend {
        let orphans = dynamo_orphans(&scan(client, table).await);
        assert!(orphans.is_empty(), "{orphans:?}");
    }
}

/// On DynamoDB, the items that mention `needle` in a key or attribute (none on SQLite: there
/// the API's answers are the check).
async fn items_mentioning(backend: &Backend, needle: &str) -> Vec<String> {
    match backend {
        Backend::Dynamo { client, table, .. } => scan(client, table)
            .await
            .into_iter()
            .map(|i| format!("{i:?}"))
            .filter(|i| i.contains(needle))
            .collect(),
        Backend::Sqlite => vec![],
    }
}

#[tokio::test]
async fn organizations_are_created_and_found_by_id_and_slug() {
    let (store, backend) = fresh_store().await;
    let o = organization(&unique_slug("acme"));
    store.create_organization(&o).await.unwrap();
    assert_eq!(
        store.organization_by_id(&o.organization_id).await.unwrap().as_ref(),
        Some(&o)
    );
    assert_eq!(
        store.organization_by_slug(&o.organization_slug).await.unwrap().as_ref(),
        Some(&o)
    );
    assert!(store
        .organization_by_id("organization-test-missing")
        .await
        .unwrap()
        .is_none());
    assert!(store.organization_by_slug("no-such-slug").await.unwrap().is_none());
    assert!(
        store.organization_by_id(&o.organization_slug).await.unwrap().is_none(),
        "a slug is not an id (the handlers try both)"
    );
    // A second organization with the slug is refused, and nothing of it is written.
    let twin = organization(&o.organization_slug);
    assert!(matches!(
        store.create_organization(&twin).await,
        Err(StoreError::Conflict)
    ));
    assert!(store.organization_by_id(&twin.organization_id).await.unwrap().is_none());
    assert_eq!(
        store.organization_by_slug(&o.organization_slug).await.unwrap().as_ref(),
        Some(&o)
    );
    // And one with the id of an existing organization.
    let same_id = OrganizationRecord {
        organization_slug: unique_slug("other"),
        ..o.clone()
    };
    assert!(matches!(
        store.create_organization(&same_id).await,
        Err(StoreError::Conflict)
    ));
    assert!(store
        .organization_by_slug(&same_id.organization_slug)
        .await
        .unwrap()
        .is_none());
    assert_consistent(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_with_one_slug_make_one_organization() {
    let (store, backend) = fresh_store().await;
    let slug = unique_slug("race");
    let mut set = JoinSet::new();
    for _ in 0..20 {
        let (store, o) = (store.clone(), organization(&slug));
        set.spawn(async move { store.create_organization(&o).await.map(|_| o.organization_id) });
    }
    let (mut winners, mut losers) = (vec![], vec![]);
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(id) => winners.push(id),
            Err(StoreError::Conflict) => losers.push(()),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((winners.len(), losers.len()), (1, 19));
    assert_eq!(
        store
            .organization_by_slug(&slug)
            .await
            .unwrap()
            .unwrap()
            .organization_id,
        winners[0]
    );
    assert_consistent(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slugs_stay_unique_through_updates() {
    let (store, backend) = fresh_store().await;
    let (mut a, b) = (organization(&unique_slug("a")), organization(&unique_slug("b")));
    store.create_organization(&a).await.unwrap();
    store.create_organization(&b).await.unwrap();
    // A change that keeps the slug.
    let slug_a = a.organization_slug.clone();
    a.organization_name = "Renamed".into();
    assert!(store.update_organization(&a, &slug_a).await.unwrap());
    assert_eq!(store.organization_by_slug(&slug_a).await.unwrap().as_ref(), Some(&a));
    // Another organization's slug is refused, and nothing changes.
    let taken = OrganizationRecord {
        organization_slug: b.organization_slug.clone(),
        organization_name: "Thief".into(),
        ..a.clone()
    };
    assert!(matches!(
        store.update_organization(&taken, &slug_a).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.organization_by_id(&a.organization_id).await.unwrap().as_ref(),
        Some(&a)
    );
    assert_eq!(
        store.organization_by_slug(&b.organization_slug).await.unwrap().as_ref(),
        Some(&b)
    );
    // A free slug moves: the old one finds nothing and is free for another organization.
    a.organization_slug = unique_slug("a-new");
    assert!(store.update_organization(&a, &slug_a).await.unwrap());
    assert_eq!(
        store.organization_by_slug(&a.organization_slug).await.unwrap().as_ref(),
        Some(&a)
    );
    assert!(store.organization_by_slug(&slug_a).await.unwrap().is_none());
    let c = organization(&slug_a);
    store.create_organization(&c).await.unwrap();
    assert_eq!(store.organization_by_slug(&slug_a).await.unwrap().as_ref(), Some(&c));
    // A stale `previous_slug` (another writer renamed it meanwhile) still moves the right guard.
    let mut stale = a.clone();
    stale.organization_slug = unique_slug("a-third");
    assert!(store.update_organization(&stale, &b.organization_slug).await.unwrap());
    assert_eq!(
        store
            .organization_by_slug(&stale.organization_slug)
            .await
            .unwrap()
            .as_ref(),
        Some(&stale)
    );
    assert!(store
        .organization_by_slug(&a.organization_slug)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.organization_by_slug(&b.organization_slug).await.unwrap().as_ref(),
        Some(&b)
    );
    // A missing organization is not created by an update.
    let ghost = organization(&unique_slug("ghost"));
    assert!(!store
        .update_organization(&ghost, &ghost.organization_slug)
        .await
        .unwrap());
    assert!(store
        .organization_by_slug(&ghost.organization_slug)
        .await
        .unwrap()
        .is_none());
    assert_consistent(&backend).await;

    // Ten organizations race to take one slug: one does, the others keep theirs.
    let target = unique_slug("wanted");
    let mut orgs = vec![];
    for _ in 0..10 {
        let o = organization(&unique_slug("racer"));
        store.create_organization(&o).await.unwrap();
        orgs.push(o);
    }
    let mut set = JoinSet::new();
    for o in &orgs {
        let (store, previous) = (store.clone(), o.organization_slug.clone());
        let renamed = OrganizationRecord {
            organization_slug: target.clone(),
            ..o.clone()
        };
        set.spawn(async move { store.update_organization(&renamed, &previous).await.map(|_| renamed) });
    }
    let mut winners = vec![];
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(o) => winners.push(o),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(
        store.organization_by_slug(&target).await.unwrap().as_ref(),
        Some(&winners[0])
    );
    for o in orgs.iter().filter(|o| o.organization_id != winners[0].organization_id) {
        assert_eq!(
            store.organization_by_slug(&o.organization_slug).await.unwrap().as_ref(),
            Some(o)
        );
    }
    assert_consistent(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn member_emails_are_unique_within_an_organization_and_apart_from_users() {
    let (store, backend) = fresh_store().await;
    let (a, b) = (organization(&unique_slug("a")), organization(&unique_slug("b")));
    store.create_organization(&a).await.unwrap();
    store.create_organization(&b).await.unwrap();
    let email = unique_email("member");
    let in_a = member(&a.organization_id, &email);
    store.create_user(&in_a, None).await.unwrap();
    assert!(matches!(
        store.create_user(&member(&a.organization_id, &email), None).await,
        Err(StoreError::DuplicateEmail)
    ));
    // The same address in another organization is another member.
    let in_b = member(&b.organization_id, &email);
    store.create_user(&in_b, None).await.unwrap();
    let by = |org: Option<&str>| {
        let (store, email) = (store.clone(), email.clone());
        let org = org.map(str::to_string);
        async move { store.user_by_email(org.as_deref(), &email).await.unwrap() }
    };
    assert_eq!(by(Some(&a.organization_id)).await.as_ref(), Some(&in_a));
    assert_eq!(by(Some(&b.organization_id)).await.as_ref(), Some(&in_b));
    assert_eq!(store.user_by_id(&in_b.user_id).await.unwrap().as_ref(), Some(&in_b));
    // A member is never found as a user, nor a user as a member.
    assert!(by(None).await.is_none(), "user_by_email(None, …) found a member");
    let u = user(&email);
    store.create_user(&u, None).await.unwrap();
    assert_eq!(by(None).await.as_ref(), Some(&u));
    assert_eq!(by(Some(&a.organization_id)).await.as_ref(), Some(&in_a));
    let only_user = user(&unique_email("only-user"));
    store.create_user(&only_user, None).await.unwrap();
    assert!(store
        .user_by_email(Some(&a.organization_id), &only_user.email)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .user_by_email(Some("organization-test-missing"), &email)
        .await
        .unwrap()
        .is_none());

    // Twenty racing creates of one address in one organization make one member.
    let raced = unique_email("race-member");
    let winners = race_creates(&store, || member(&a.organization_id, &raced)).await;
    assert_eq!(winners.len(), 1);
    assert_eq!(
        store
            .user_by_email(Some(&a.organization_id), &raced)
            .await
            .unwrap()
            .unwrap()
            .user_id,
        winners[0]
    );
    assert_consistent(&backend).await;
}

#[tokio::test]
async fn a_member_of_a_missing_organization_is_not_created() {
    let (store, backend) = fresh_store().await;
    let o = organization(&unique_slug("later"));
    let m = member(&o.organization_id, &unique_email("orphan"));
    let s = member_session(&m, &o);
    assert!(matches!(
        store.create_user(&m, Some(&s)).await,
        Err(StoreError::Conflict)
    ));
    assert!(store.user_by_id(&m.user_id).await.unwrap().is_none());
    assert!(store
        .user_by_email(Some(&o.organization_id), &m.email)
        .await
        .unwrap()
        .is_none());
    assert!(store.session_by_id(&s.session_id).await.unwrap().is_none());
    assert!(store.session_by_token_digest(&s.token_digest).await.unwrap().is_none());
    assert_eq!(items_mentioning(&backend, &m.user_id).await, Vec::<String>::new());
    // Nothing was held: once the organization exists, the same member (and address) is created.
    store.create_organization(&o).await.unwrap();
    store.create_user(&m, Some(&s)).await.unwrap();
    assert_eq!(store.user_by_id(&m.user_id).await.unwrap().as_ref(), Some(&m));
    assert_eq!(store.session_by_id(&s.session_id).await.unwrap().as_ref(), Some(&s));
    assert_consistent(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn user_updates_apply_atomically() {
    let (store, backend) = fresh_store().await;
    let o = organization(&unique_slug("upd"));
    store.create_organization(&o).await.unwrap();
    for u in [
        user(&unique_email("upd")),
        member(&o.organization_id, &unique_email("upd")),
    ] {
        store.create_user(&u, None).await.unwrap();
        let mut set = JoinSet::new();
        for _ in 0..30 {
            let (store, id) = (store.clone(), u.user_id.clone());
            set.spawn(async move {
                let change: UserChange = Arc::new(|u: &mut UserRecord| {
                    let n = u.trusted_metadata.get("n").and_then(|v| v.as_u64()).unwrap_or(0);
                    u.trusted_metadata.insert("n".into(), (n + 1).into());
                    if let Some(m) = u.member.as_mut() {
                        m.roles.push(format!("role-{n}"));
                    }
                });
                let written = store.update_user(&id, change).await.unwrap().unwrap();
                written.trusted_metadata["n"].as_u64().unwrap()
            });
        }
        let mut seen = vec![];
        while let Some(r) = set.join_next().await {
            seen.push(r.unwrap());
        }
        seen.sort();
        assert_eq!(
            seen,
            (1..=30).collect::<Vec<u64>>(),
            "each update returns what it wrote"
        );
        let got = store.user_by_id(&u.user_id).await.unwrap().unwrap();
        assert_eq!(got.trusted_metadata["n"], 30);
        assert_eq!(
            (got.email.as_str(), got.email_id.as_str()),
            (u.email.as_str(), u.email_id.as_str())
        );
        if let Some(m) = &got.member {
            assert_eq!(m.roles.len(), 30, "no update lost");
        }
        // Still found by its address, in its scope.
        assert_eq!(
            store
                .user_by_email(u.organization_id(), &u.email)
                .await
                .unwrap()
                .map(|x| x.user_id),
            Some(u.user_id.clone())
        );
    }
    let noop: UserChange = Arc::new(|_: &mut UserRecord| {});
    assert!(store.update_user("user-test-missing", noop).await.unwrap().is_none());
    assert_consistent(&backend).await;
}

#[tokio::test]
async fn deleting_an_organization_takes_its_members_sessions_and_tokens() {
    let (store, backend) = fresh_store().await;
    let (o, other) = (organization(&unique_slug("doomed")), organization(&unique_slug("kept")));
    store.create_organization(&o).await.unwrap();
    store.create_organization(&other).await.unwrap();
    let shared_email = unique_email("shared");
    let mut members = vec![];
    for k in 0..12 {
        let email = if k == 0 {
            shared_email.clone()
        } else {
            unique_email("m")
        };
        let m = member(&o.organization_id, &email);
        let first = member_session(&m, &o);
        store.create_user(&m, Some(&first)).await.unwrap();
        let second = member_session(&m, &o);
        store.insert_session(&second).await.unwrap();
        let t = member_token(&m);
        store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
        members.push((m, vec![first, second], t));
    }
    // A member deleted on its own first (its pointer goes with it).
    let (gone, _, _) = members.pop().unwrap();
    assert!(store.delete_user(&gone.user_id).await.unwrap());
    assert_consistent(&backend).await;
    // The same address elsewhere: a member of another organization and a user.
    let survivor = member(&other.organization_id, &shared_email);
    let survivor_session = member_session(&survivor, &other);
    store.create_user(&survivor, Some(&survivor_session)).await.unwrap();
    let u = user(&shared_email);
    store.create_user(&u, None).await.unwrap();

    assert!(store.delete_organization(&o.organization_id).await.unwrap());
    assert!(store.organization_by_id(&o.organization_id).await.unwrap().is_none());
    assert!(store
        .organization_by_slug(&o.organization_slug)
        .await
        .unwrap()
        .is_none());
    for (m, sessions, t) in &members {
        assert!(store.user_by_id(&m.user_id).await.unwrap().is_none());
        assert!(store
            .user_by_email(Some(&o.organization_id), &m.email)
            .await
            .unwrap()
            .is_none());
        for s in sessions {
            assert!(store.session_by_id(&s.session_id).await.unwrap().is_none());
            assert!(store.session_by_token_digest(&s.token_digest).await.unwrap().is_none());
        }
        assert!(store
            .sessions_for_user(&m.user_id, Utc::now())
            .await
            .unwrap()
            .is_empty());
        assert!(store.token_by_digest(&t.token_digest).await.unwrap().is_none());
        assert_eq!(items_mentioning(&backend, &m.user_id).await, Vec::<String>::new());
    }
    assert_eq!(
        items_mentioning(&backend, &o.organization_id).await,
        Vec::<String>::new()
    );
    // Others are untouched.
    assert_eq!(
        store.organization_by_id(&other.organization_id).await.unwrap().as_ref(),
        Some(&other)
    );
    assert_eq!(
        store.user_by_id(&survivor.user_id).await.unwrap().as_ref(),
        Some(&survivor)
    );
    assert_eq!(
        store
            .session_by_id(&survivor_session.session_id)
            .await
            .unwrap()
            .as_ref(),
        Some(&survivor_session)
    );
    assert_eq!(
        store.user_by_email(None, &shared_email).await.unwrap().as_ref(),
        Some(&u)
    );
    // Gone for good: no second delete, no new member, and the slug is free again.
    assert!(!store.delete_organization(&o.organization_id).await.unwrap());
    assert!(matches!(
        store
            .create_user(&member(&o.organization_id, &unique_email("late")), None)
            .await,
        Err(StoreError::Conflict)
    ));
    let reborn = organization(&o.organization_slug);
    store.create_organization(&reborn).await.unwrap();
    assert_eq!(
        store.organization_by_slug(&o.organization_slug).await.unwrap().as_ref(),
        Some(&reborn)
    );
    // The new organization has none of the old one's members (the address is free in it).
    store
        .create_user(&member(&reborn.organization_id, &shared_email), None)
        .await
        .unwrap();
    assert_consistent(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_member_outlives_its_organizations_deletion() {
    // Members keep being created while the organization is deleted: each is either created
    // before the deletion (and deleted with it) or refused, and once one is refused every later
    // one is too.
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (store, backend) = fresh_store().await;
    let o = organization(&unique_slug("racing"));
    store.create_organization(&o).await.unwrap();
    let created_so_far = Arc::new(AtomicUsize::new(0));
    let mut creators = JoinSet::new();
    for _ in 0..6 {
        let (store, o, count) = (store.clone(), o.clone(), created_so_far.clone());
        creators.spawn(async move {
            let mut created = vec![];
            for _ in 0..60 {
                let m = member(&o.organization_id, &unique_email("joiner"));
                let s = member_session(&m, &o);
                match store.create_user(&m, Some(&s)).await {
                    Ok(()) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        created.push((m, s));
                    }
                    Err(StoreError::Conflict) => return (created, true),
                    Err(e) => panic!("{e}"),
                }
            }
            (created, false)
        });
    }
    while created_so_far.load(Ordering::SeqCst) < 12 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(store.delete_organization(&o.organization_id).await.unwrap());
    let mut created = vec![];
    while let Some(r) = creators.join_next().await {
        let (mine, refused) = r.unwrap();
        assert!(
            refused,
            "a creator was never refused: members joined a deleted organization"
        );
        created.extend(mine);
    }
    assert!(created.len() >= 12);
    for (m, s) in &created {
        assert!(
            store.user_by_id(&m.user_id).await.unwrap().is_none(),
            "{} survived",
            m.user_id
        );
        assert!(store.session_by_token_digest(&s.token_digest).await.unwrap().is_none());
    }
    assert!(store.organization_by_id(&o.organization_id).await.unwrap().is_none());
    assert_eq!(
        items_mentioning(&backend, &o.organization_id).await,
        Vec::<String>::new()
    );
    assert_consistent(&backend).await;
}

#[tokio::test]
async fn members_are_listed_by_email_across_organizations() {
    let (store, backend) = fresh_store().await;
    let (a, b) = (organization(&unique_slug("a")), organization(&unique_slug("b")));
    store.create_organization(&a).await.unwrap();
    store.create_organization(&b).await.unwrap();
    let email = unique_email("everywhere");
    assert!(store.members_with_email(&email).await.unwrap().is_empty());
    let (in_a, in_b) = (member(&a.organization_id, &email), member(&b.organization_id, &email));
    store.create_user(&in_a, None).await.unwrap();
    store.create_user(&in_b, None).await.unwrap();
    // Neither a user with the address nor a member with a longer one is listed.
    store.create_user(&user(&email), None).await.unwrap();
    store
        .create_user(&member(&a.organization_id, &format!("x{email}")), None)
        .await
        .unwrap();
    let ids = |members: Vec<UserRecord>| {
        let mut ids: Vec<String> = members.into_iter().map(|m| m.user_id).collect();
        ids.sort();
        ids
    };
    let mut both = vec![in_a.user_id.clone(), in_b.user_id.clone()];
    both.sort();
    assert_eq!(ids(store.members_with_email(&email).await.unwrap()), both);
    assert!(store.delete_user(&in_a.user_id).await.unwrap());
    assert_eq!(
        ids(store.members_with_email(&email).await.unwrap()),
        vec![in_b.user_id.clone()]
    );
    assert!(store.delete_organization(&b.organization_id).await.unwrap());
    assert!(store.members_with_email(&email).await.unwrap().is_empty());
    assert_consistent(&backend).await;
}

#[tokio::test]
async fn an_unused_token_is_rewritten_and_a_used_one_is_not() {
    let (store, backend) = fresh_store().await;
    let o = organization(&unique_slug("ist"));
    store.create_organization(&o).await.unwrap();
    let m = member(&o.organization_id, &unique_email("ist"));
    store.create_user(&m, None).await.unwrap();
    let mut t = TokenRecord {
        kind: TokenKind::IntermediateSession,
        ..member_token(&m)
    };
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    let now = Utc::now();
    t.factors.push(FactorRecord {
        totp_id: Some(id("member-totp")),
        ..FactorRecord::proved(FactorKind::Totp, now)
    });
    assert!(store.update_token(&t).await.unwrap());
    assert_eq!(store.token_by_digest(&t.token_digest).await.unwrap().as_ref(), Some(&t));
    assert!(store.consume_token(&t).await.unwrap());
    let mut late = t.clone();
    late.factors.clear();
    assert!(
        !store.update_token(&late).await.unwrap(),
        "a used token is not rewritten"
    );
    let stored = store.token_by_digest(&t.token_digest).await.unwrap().unwrap();
    assert!(stored.used);
    assert_eq!(stored.factors, t.factors);
    let missing = TokenRecord {
        token_digest: id("tok"),
        ..t.clone()
    };
    assert!(!store.update_token(&missing).await.unwrap(), "nothing is created");
    assert!(store.token_by_digest(&missing.token_digest).await.unwrap().is_none());
    assert_consistent(&backend).await;
}

fn new_password(tag: &str) -> PasswordRecord {
    PasswordRecord {
        password_id: id("password"),
        hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${tag}"),
        requires_reset: false,
    }
}

fn email_reset(u: &UserRecord, t: &TokenRecord, password: PasswordRecord) -> PasswordReset {
    PasswordReset {
        user_id: u.user_id.clone(),
        token: Some(t.clone()),
        password,
        keep_session: None,
        new_session: None,
        same_password_for: Vec::new(),
    }
}

#[tokio::test]
async fn a_reset_gives_its_password_to_the_memberships_it_names_in_the_same_write() {
    // Cross-organization passwords (docs/b2b.md "Passwords"): the other memberships of the email
    // take the new password in the reset's own write, their tokens die with their old one, and
    // a membership gone meanwhile is skipped, not an error.
    let (store, backend) = fresh_store().await;
    let address = unique_email("shared");
    let orgs: Vec<OrganizationRecord> = (0..3)
        .map(|i| organization(&unique_slug(&format!("shared-{i}"))))
        .collect();
    let mut members = Vec::new();
    for org in &orgs {
        store.create_organization(org).await.unwrap();
        let m = member(&org.organization_id, &address);
        store.create_user(&m, None).await.unwrap();
        members.push(m);
    }
    let without_password = UserRecord {
        password: None,
        ..member(&orgs[2].organization_id, &unique_email("shared-none"))
    };
    store.create_user(&without_password, None).await.unwrap();
    let their_token = member_token(&members[1]);
    store.insert_tokens(std::slice::from_ref(&their_token)).await.unwrap();
    let gone = member(&orgs[2].organization_id, &unique_email("shared-gone"));
    store.create_user(&gone, None).await.unwrap();
    assert!(store.delete_user(&gone.user_id).await.unwrap());

    let token = member_token(&members[0]);
    store.insert_tokens(std::slice::from_ref(&token)).await.unwrap();
    let new = new_password("shared-new");
    let shared = |u: &UserRecord| SharedPassword {
        user_id: u.user_id.clone(),
        new_password_id: id("password"),
    };
    let reset = PasswordReset {
        same_password_for: vec![shared(&members[1]), shared(&without_password), shared(&gone)],
        ..email_reset(&members[0], &token, new.clone())
    };
    store.complete_reset(&reset).await.unwrap().expect("the reset commits");

    for (m, keeps_id) in [(&members[1], true), (&without_password, false)] {
        let got = store.user_by_id(&m.user_id).await.unwrap().unwrap();
        let p = got.password.expect("the shared password");
        assert_eq!(p.hash, new.hash);
        assert!(!p.requires_reset);
        assert_eq!(
            keeps_id,
            m.password.as_ref().is_some_and(|old| old.password_id == p.password_id)
        );
        assert_eq!(got.credential_epoch, m.credential_epoch + 1);
    }
    // Not named: unchanged.
    let untouched = store.user_by_id(&members[2].user_id).await.unwrap().unwrap();
    assert_eq!(untouched.password, members[2].password);
    assert!(store.user_by_id(&gone.user_id).await.unwrap().is_none());
    // The other membership's emailed link died with its old password (R7).
    let stored = store.token_by_digest(&their_token.token_digest).await.unwrap().unwrap();
    assert!(!store.consume_token(&stored).await.unwrap());
    assert_consistent(&backend).await;
}

#[tokio::test]
async fn r7_a_password_change_kills_every_emailed_token_issued_before_it() {
    // SECURITY R7, decided by the store itself (no handler check in front of it).
    let (store, backend) = fresh_store().await;
    let u = user(&unique_email("r7"));
    store.create_user(&u, None).await.unwrap();
    let magic = |u: &UserRecord| TokenRecord {
        kind: TokenKind::MagicLink,
        ..token(u)
    };
    let (t1, m1, t2) = (token(&u), magic(&u), token(&u));
    let ist = TokenRecord {
        kind: TokenKind::IntermediateSession,
        ..token(&u)
    };
    store
        .insert_tokens(&[t1.clone(), m1.clone(), t2.clone(), ist.clone()])
        .await
        .unwrap();

    // A completed reset moves the epoch on: its siblings and the older mail's links are dead.
    let done = store
        .complete_reset(&email_reset(&u, &t2, new_password("t2")))
        .await
        .unwrap()
        .expect("the reset");
    assert_eq!(done.credential_epoch, u.credential_epoch + 1);
    assert!(
        !store.consume_token(&m1).await.unwrap(),
        "a magic link outlived by a reset"
    );
    assert_eq!(
        store
            .complete_reset(&email_reset(&u, &t1, new_password("t1")))
            .await
            .unwrap(),
        None,
        "a reset link outlived by a reset"
    );
    let stored = store.user_by_id(&u.user_id).await.unwrap().unwrap();
    assert_eq!(
        stored.password.as_ref().map(|p| p.hash.as_str()),
        Some(new_password("t2").hash.as_str()),
        "the outlived reset changed nothing"
    );
    assert!(
        !store.token_by_digest(&m1.token_digest).await.unwrap().unwrap().used,
        "refused, not burned"
    );
    // The epoch that counts is the stored token's, not the caller's copy.
    let forged = TokenRecord {
        credential_epoch: done.credential_epoch,
        ..m1.clone()
    };
    assert!(
        !store.consume_token(&forged).await.unwrap(),
        "an old link with a new epoch claimed"
    );
    // An intermediate session is no emailed link: a password change does not end it.
    assert!(store.consume_token(&ist).await.unwrap());

    // A token issued at the current epoch works; any other write of the password kills it too,
    // whatever the change tried to do to the epoch itself.
    let m2 = TokenRecord {
        credential_epoch: stored.credential_epoch,
        ..magic(&stored)
    };
    let m3 = TokenRecord {
        credential_epoch: stored.credential_epoch,
        ..magic(&stored)
    };
    store.insert_tokens(&[m2.clone(), m3.clone()]).await.unwrap();
    let renamed = store
        .update_user(&u.user_id, Arc::new(|u| u.name.first_name = "Ada".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.credential_epoch, stored.credential_epoch, "no password change");
    assert!(store.consume_token(&m2).await.unwrap());
    let changed = store
        .update_user(
            &u.user_id,
            Arc::new(|u| {
                u.password = Some(new_password("import"));
                u.credential_epoch = 0;
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.credential_epoch, stored.credential_epoch + 1);
    assert_eq!(
        store.user_by_id(&u.user_id).await.unwrap().unwrap().credential_epoch,
        changed.credential_epoch
    );
    assert!(
        !store.consume_token(&m3).await.unwrap(),
        "a magic link outlived by an import"
    );
    let removed = store
        .update_user(&u.user_id, Arc::new(|u| u.password = None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(removed.credential_epoch, changed.credential_epoch + 1);
    assert_consistent(&backend).await;
}

/// A user with `n` sessions and one reset token: an email reset leaves only its new session.
async fn email_reset_revokes_sessions(n: usize) {
    let (store, backend) = fresh_store().await;
    let u = user(&unique_email("many"));
    store.create_user(&u, None).await.unwrap();
    let sessions: Vec<SessionRecord> = (0..n).map(|_| session(&u.user_id, 60)).collect();
    for s in &sessions {
        store.insert_session(s).await.unwrap();
    }
    assert_eq!(store.sessions_for_user(&u.user_id, Utc::now()).await.unwrap().len(), n);
    let t = token(&u);
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    let fresh = session(&u.user_id, 60);
    let reset = PasswordReset {
        new_session: Some(fresh.clone()),
        ..email_reset(&u, &t, new_password("many"))
    };
    assert!(store.complete_reset(&reset).await.unwrap().is_some());
    for s in &sessions {
        assert!(store.session_by_token_digest(&s.token_digest).await.unwrap().is_none());
        assert!(store.session_by_id(&s.session_id).await.unwrap().is_none());
        assert!(
            !store.update_session(s).await.unwrap(),
            "a revoked session is not refreshed"
        );
    }
    assert_eq!(
        store.sessions_for_user(&u.user_id, Utc::now()).await.unwrap(),
        vec![fresh]
    );
    assert_consistent(&backend).await;
}

#[tokio::test]
async fn r4_an_email_reset_revokes_sixty_sessions() {
    // More sessions than one DynamoDB transaction holds as three items each (100 actions).
    email_reset_revokes_sessions(60).await;
}

#[tokio::test]
async fn r4_an_email_reset_revokes_more_sessions_than_one_transaction_holds() {
    // More than the commit's room even at one action per session.
    email_reset_revokes_sessions(130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r7_racing_resets_with_links_of_different_mails_set_one_password() {
    // SECURITY R7 under concurrency: ten reset links issued at one epoch, redeemed at once. The
    // first reset kills the other nine, however the redemptions interleave.
    let (store, backend) = fresh_store().await;
    let u = user(&unique_email("r7race"));
    store.create_user(&u, None).await.unwrap();
    let tokens: Vec<TokenRecord> = (0..10).map(|_| token(&u)).collect();
    store.insert_tokens(&tokens).await.unwrap();
    let mut set = JoinSet::new();
    for (i, t) in tokens.iter().enumerate() {
        let (store, reset) = (store.clone(), email_reset(&u, t, new_password(&format!("race{i}"))));
        set.spawn(async move { store.complete_reset(&reset).await.unwrap() });
    }
    let mut winners = vec![];
    while let Some(r) = set.join_next().await {
        winners.extend(r.unwrap());
    }
    assert_eq!(winners.len(), 1, "one reset, the others outlived");
    let stored = store.user_by_id(&u.user_id).await.unwrap().unwrap();
    assert_eq!(stored.password, winners[0].password);
    assert_eq!(stored.credential_epoch, u.credential_epoch + 1);
    let used = used_count(&store, &tokens).await;
    assert_eq!(used, 1, "only the winner's link is spent");
    assert_consistent(&backend).await;
}

async fn used_count(store: &Arc<dyn Store>, tokens: &[TokenRecord]) -> usize {
    let mut used = 0;
    for t in tokens {
        used += usize::from(store.token_by_digest(&t.token_digest).await.unwrap().unwrap().used);
    }
    used
}
