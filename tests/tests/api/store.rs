//! The embedded store shared by several processes: each `SqliteStore` below is its own
//! connection to one file, as separate processes (`cargo lambda watch`) would have.

use std::sync::Arc;

use chrono::Utc;
use latch::clock::SystemClock;
use latch::config::Settings;
use latch::policy::breach::NoBreachCheck;
use latch::store::sqlite::SqliteStore;
use latch::store::{Store, StoreError, UserRecord};
use latch::AppState;

fn temp_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "latch-store-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap()
    ))
}

fn user(email: &str, n: usize) -> UserRecord {
    UserRecord {
        user_id: format!("user-test-00000000-0000-4000-8000-{n:012}"),
        email: email.into(),
        email_id: format!("email-test-{n}"),
        email_verified: false,
        password: None,
        name: Default::default(),
        trusted_metadata: Default::default(),
        untrusted_metadata: Default::default(),
        created_at: Utc::now(),
        lock: Default::default(),
        member: None,
        credential_epoch: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uniqueness_holds_across_connections() {
    let dir = temp_dir();
    let stores: Vec<Arc<SqliteStore>> = (0..4).map(|_| Arc::new(SqliteStore::open_dir(&dir).unwrap())).collect();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..20 {
        let store = stores[n % stores.len()].clone();
        set.spawn(async move { store.create_user(&user("same@example.com", n), None).await });
    }
    let (mut ok, mut dup) = (0, 0);
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::DuplicateEmail) => dup += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, dup), (1, 19));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lock_counter_increments_are_not_lost_across_connections() {
    let dir = temp_dir();
    let stores: Vec<Arc<SqliteStore>> = (0..4).map(|_| Arc::new(SqliteStore::open_dir(&dir).unwrap())).collect();
    let u = user("count@example.com", 1);
    stores[0].create_user(&u, None).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..40 {
        let (store, id) = (stores[n % stores.len()].clone(), u.user_id.clone());
        set.spawn(async move {
            let bump: latch::store::LockChange = Arc::new(|s| latch::store::LockState {
                failed_attempts: s.failed_attempts + 1,
                ..s.clone()
            });
            store.update_lock(&id, bump).await.unwrap().unwrap();
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let after = stores[3].user_by_id(&u.user_id).await.unwrap().unwrap();
    assert_eq!(after.lock.failed_attempts, 40);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_instance_signs_with_the_same_persisted_key() {
    // Instances starting together race to create the first key; all end up with one kid.
    let dir = temp_dir();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let dir = dir.clone();
        set.spawn(async move {
            let src = |_: &str| None;
            let settings = Settings::from_source(&src, "project-test-keys".into(), "s".into(), vec![1; 32]).unwrap();
            let store = Arc::new(SqliteStore::open_dir(&dir).unwrap());
            let ports = latch::state::Ports {
                store,
                breach: Arc::new(NoBreachCheck),
                mailer: Arc::new(latch::mail::outbox::Outbox::new(dir.join("outbox"))),
                clock: Arc::new(SystemClock),
            };
            let state = AppState::build(settings, ports).await.unwrap();
            state.sessions.keys().current().kid.clone()
        });
    }
    let mut kids = std::collections::HashSet::new();
    while let Some(kid) = set.join_next().await {
        kids.insert(kid.unwrap());
    }
    assert_eq!(kids.len(), 1, "{kids:?}");
    let store = SqliteStore::open_dir(&dir).unwrap();
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}
