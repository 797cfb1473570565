//! Fixtures the crate's unit tests share: a whole [`crate::AppState`] built once per test binary
//! over an in-memory SQLite store (one RSA key is generated), and strategies several modules'
//! property tests use.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::mail::outbox::Outbox;
use crate::policy::breach::NoBreachCheck;
use crate::state::{AppState, Ports};
use crate::store::sqlite::SqliteStore;

/// Proptest settings for every property module: `cases` per property, and no regression
/// files written into the source tree.
pub fn proptest_config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

pub const PROJECT_ID: &str = "project-test-proptest";
pub const SECRET: &str = "secret-test-proptest";

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

pub fn state() -> &'static AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE.get_or_init(|| runtime().block_on(state_with(|_| {})))
}

/// A state of its own (a fresh store, a new signing key) with the default settings as `tweak`
/// leaves them; for the few tests that need other settings than [`state`]'s.
pub async fn state_with(tweak: impl FnOnce(&mut Settings)) -> AppState {
    let source = |_: &str| -> Option<String> { None };
    let mut settings =
        Settings::from_source(&source, PROJECT_ID.into(), SECRET.into(), vec![7; 32]).expect("test settings");
    tweak(&mut settings);
    let ports = Ports {
        store: Arc::new(SqliteStore::open(Path::new(":memory:")).expect("in-memory store")),
        breach: Arc::new(NoBreachCheck),
        // Never written to: nothing here sends mail.
        mailer: Arc::new(Outbox::new(std::env::temp_dir().join("latch-proptest-outbox"))),
        clock: Arc::new(SystemClock),
    };
    AppState::build(settings, ports).await.expect("test state")
}

/// Any JSON value, nested a few levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
