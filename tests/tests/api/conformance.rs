//! The store conformance suite: every operation of the `Store` trait, its atomicity under
//! concurrency (SECURITY.md C1, R3, L2) and its expiry semantics, against whichever backend the
//! suite runs on (SQLite by default; DynamoDB with LATCH_TEST_BACKEND=dynamodb).

use std::sync::Arc;

use chrono::{Duration, Utc};
use latch::store::*;
use latch_tests::fresh_store;
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

fn user(email: &str) -> UserRecord {
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
    }
}

#[tokio::test]
async fn users_are_created_found_and_unique_by_email() {
    let (store, _) = fresh_store().await;
    let u = user(&unique_email("u"));
    store.create_user(&u, None).await.unwrap();
    assert_eq!(store.user_by_id(&u.user_id).await.unwrap().as_ref(), Some(&u));
    assert_eq!(store.user_by_email(&u.email).await.unwrap().as_ref(), Some(&u));
    assert!(store.user_by_id("user-test-missing").await.unwrap().is_none());
    assert!(store.user_by_email("missing@example.com").await.unwrap().is_none());
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
    let mut set = JoinSet::new();
    for _ in 0..20 {
        let (store, u) = (store.clone(), user(&email));
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
    assert_eq!(winners.len(), 1);
    assert_eq!(store.user_by_email(&email).await.unwrap().unwrap().user_id, winners[0]);
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
        let (store, d) = (store.clone(), t.token_digest.clone());
        set.spawn(async move { store.consume_token(&d).await.unwrap() });
    }
    let mut wins = 0;
    while let Some(r) = set.join_next().await {
        wins += usize::from(r.unwrap());
    }
    assert_eq!(wins, 1);
    assert!(store.token_by_digest(&t.token_digest).await.unwrap().unwrap().used);
    assert!(!store.consume_token("tok-missing").await.unwrap());
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
        token_digest: Some(t.token_digest.clone()),
        password: new.clone(),
        keep_session: Some(keep.clone()),
        new_session: None,
    };
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let (store, reset) = (store.clone(), reset.clone());
        set.spawn(async move { store.complete_reset(&reset).await.unwrap().is_some() });
    }
    let mut wins = 0;
    while let Some(r) = set.join_next().await {
        wins += usize::from(r.unwrap());
    }
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
        token_digest: None,
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
    assert!(store.user_by_email(&u.email).await.unwrap().is_none());
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
        private_key_pem: "pem-1".into(),
        created_at: now,
    };
    let second = SigningKeyRecord {
        kid: id("jwk"),
        private_key_pem: "pem-2".into(),
        created_at: now,
    };
    store.insert_signing_key(&first).await.unwrap();
    assert!(matches!(
        store.insert_signing_key(&second).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.signing_keys().await.unwrap(), vec![first]);
}
