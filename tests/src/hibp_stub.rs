//! A local HaveIBeenPwned range API: answers `/range/{prefix}` from a set of breached
//! passwords, pads with count-0 rows like the real service, records every request, and can be
//! made slow, failing or garbled to test the outage paths (docs/security.md B1–B4).
//!
//! The one stub of the repo: the Rust suites start it in-process ([`HibpStub::start`]); the
//! scripts run it as the `hibp-stub` binary (tests/src/bin/hibp-stub.rs), whose clients (the SDK
//! suites) drive it over HTTP:
//!
//! - `POST /__breach` `{"password": …}` or `{"sha1": "<40 hex>"}`, optional `"count"`: mark a
//!   password breached from now on (answers `{"prefix", "suffix", "count"}`);
//! - `POST /__mode` `{"mode": "ok" | "error" | "slow" | "garbage"}`: simulate an outage (503, an
//!   answer after the slow delay, a 200 that is not range rows);
//! - `GET /__log`: the range requests seen, `[{"path", "add_padding"}]`;
//! - `GET /__health`: `ok`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HibpMode {
    Normal,
    /// Answer after this long.
    Slow(Duration),
    Unavailable,
    Garbage,
    /// Read the request, then reset the connection (RST, no answer).
    Reset,
    /// Answer 200 with a Content-Length the body never reaches, then close.
    Truncated,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub add_padding: Option<String>,
}

/// Passwords the SDK suites expect breached from the start (`HibpStub::seed_for_sdk_suites`),
/// with their counts. The first scores well under zxcvbn, so creating a user with it can only
/// fail because of the breach check.
pub const BREACHED_AT_START: &[(&str, u64)] = &[
    ("Tr0ub4dour&3-breached-pw", 4211),
    ("correct horse battery staple", 393),
    ("P@ssw0rd-Pwned-2019!", 17),
];

/// Passwords whose SHA-1 suffix appears only as a padding row (count 0). Padding rows are not
/// breaches: a client that takes them for hits is wrong.
pub const PADDING_ONLY: &[&str] = &["Padding-Row-Zero-Count-91xq"];

/// What the stub answers a breached password's row with unless told a count.
const DEFAULT_COUNT: u64 = 42;

#[derive(Default)]
struct Inner {
    /// Full upper-case SHA-1 → breach count (> 0).
    breached: Mutex<HashMap<String, u64>>,
    /// Full upper-case SHA-1s listed with count 0.
    padding: Mutex<HashSet<String>>,
    mode: Mutex<Option<HibpMode>>,
    log: Mutex<Vec<Recorded>>,
    /// How long `"mode": "slow"` waits.
    slow: Duration,
}

#[derive(Clone)]
pub struct HibpStub {
    url: String,
    inner: Arc<Inner>,
}

fn sha1_hex(password: &str) -> String {
    hex_upper(&Sha1::digest(password.as_bytes()))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

impl HibpStub {
    /// A stub on a free loopback port, nothing breached.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, Duration::from_secs(10))
    }

    /// Serve on `listener`; `"mode": "slow"` waits `slow`.
    pub fn serve(listener: tokio::net::TcpListener, slow: Duration) -> Self {
        let inner = Arc::new(Inner {
            slow,
            ..Inner::default()
        });
        let app = Router::new()
            .route("/range/{prefix}", get(range))
            .route("/__breach", post(control_breach))
            .route("/__mode", post(control_mode))
            .route("/__log", get(control_log))
            .route("/__health", get(|| async { "ok" }))
            .with_state(inner.clone());
        let url = format!("http://{}", listener.local_addr().unwrap());
        let listener = StubListener {
            listener,
            inner: inner.clone(),
        };
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, inner }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn mark_breached(&self, password: &str) {
        self.inner
            .breached
            .lock()
            .unwrap()
            .insert(sha1_hex(password), DEFAULT_COUNT);
    }

    /// What the SDK suites expect from the start: [`BREACHED_AT_START`] and [`PADDING_ONLY`].
    pub fn seed_for_sdk_suites(&self) {
        let mut breached = self.inner.breached.lock().unwrap();
        for (password, count) in BREACHED_AT_START {
            breached.insert(sha1_hex(password), *count);
        }
        let mut padding = self.inner.padding.lock().unwrap();
        padding.extend(PADDING_ONLY.iter().map(|p| sha1_hex(p)));
    }

    pub fn set_mode(&self, mode: HibpMode) {
        *self.inner.mode.lock().unwrap() = Some(mode);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.log.lock().unwrap().clone()
    }
}

/// Hands connections to the HTTP stub, except in the modes that break the connection itself,
/// which are played out here on the raw socket. (They apply to new connections: set them before
/// the first lookup, when the client has no kept-alive connection to reuse.)
struct StubListener {
    listener: tokio::net::TcpListener,
    inner: Arc<Inner>,
}

impl axum::serve::Listener for StubListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.listener.accept().await else {
                continue;
            };
            let mode = *self.inner.mode.lock().unwrap();
            match mode {
                Some(m @ (HibpMode::Reset | HibpMode::Truncated)) => {
                    tokio::spawn(broken_connection(stream, m, self.inner.clone()));
                }
                _ => return (stream, addr),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

async fn broken_connection(mut stream: tokio::net::TcpStream, mode: HibpMode, inner: Arc<Inner>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or_default().to_string();
    let add_padding = text
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("add-padding")))
        .map(|(_, v)| v.trim().to_string());
    inner.log.lock().unwrap().push(Recorded { path, add_padding });
    match mode {
        HibpMode::Reset => {
            // SO_LINGER 0: closing sends RST instead of FIN. (Deprecated because a non-zero
            // linger blocks the thread on drop; zero does not.)
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        _ => {
            let rows = format!("{}:0\r\n", "0".repeat(35));
            let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4000\r\n\r\n{rows}");
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.flush().await;
        }
    }
}

async fn range(State(inner): State<Arc<Inner>>, Path(prefix): Path<String>, headers: HeaderMap) -> Response {
    inner.log.lock().unwrap().push(Recorded {
        path: format!("/range/{prefix}"),
        add_padding: headers
            .get("add-padding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    let mode = inner.mode.lock().unwrap().unwrap_or(HibpMode::Normal);
    match mode {
        HibpMode::Slow(d) => tokio::time::sleep(d).await,
        HibpMode::Unavailable => return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
        HibpMode::Garbage => return (StatusCode::OK, "<html>not a range</html>").into_response(),
        // Played out on the raw connection (`broken_connection`); a kept-alive connection made
        // before the mode was set answers normally.
        HibpMode::Normal | HibpMode::Reset | HibpMode::Truncated => {}
    }
    let prefix = prefix.to_ascii_uppercase();
    // Sorted by suffix, as the real service answers.
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    for (hash, count) in inner.breached.lock().unwrap().iter() {
        if hash.starts_with(&prefix) {
            rows.insert(hash[5..].to_string(), *count);
        }
    }
    for hash in inner.padding.lock().unwrap().iter() {
        if hash.starts_with(&prefix) {
            rows.entry(hash[5..].to_string()).or_insert(0);
        }
    }
    // Padding rows, as the real service adds with Add-Padding: true.
    for i in 0..5u8 {
        rows.entry(hex_upper(&Sha1::digest([i]))[5..].to_string()).or_insert(0);
    }
    rows.iter()
        .map(|(suffix, count)| format!("{suffix}:{count}"))
        .collect::<Vec<_>>()
        .join("\r\n")
        .into_response()
}

fn refused(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

async fn control_breach(State(inner): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    let full = match (
        body.get("password").and_then(Value::as_str),
        body.get("sha1").and_then(Value::as_str),
    ) {
        (Some(password), _) => sha1_hex(password),
        (None, Some(sha1)) if sha1.len() == 40 && sha1.chars().all(|c| c.is_ascii_hexdigit()) => {
            sha1.to_ascii_uppercase()
        }
        _ => return refused("need password or sha1"),
    };
    let count = match body.get("count") {
        None => 1,
        Some(c) => match c.as_u64().filter(|c| *c >= 1) {
            Some(c) => c,
            None => return refused("count must be a positive integer"),
        },
    };
    inner.breached.lock().unwrap().insert(full.clone(), count);
    Json(json!({ "prefix": &full[..5], "suffix": &full[5..], "count": count })).into_response()
}

async fn control_mode(State(inner): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    let mode = match body.get("mode").and_then(Value::as_str) {
        Some("ok") => HibpMode::Normal,
        Some("error") => HibpMode::Unavailable,
        Some("slow") => HibpMode::Slow(inner.slow),
        Some("garbage") => HibpMode::Garbage,
        _ => return refused("mode must be ok, error, slow or garbage"),
    };
    *inner.mode.lock().unwrap() = Some(mode);
    Json(json!({ "mode": body["mode"] })).into_response()
}

async fn control_log(State(inner): State<Arc<Inner>>) -> Json<Value> {
    let log = inner.log.lock().unwrap();
    Json(Value::Array(
        log.iter()
            .map(|r| json!({ "path": r.path, "add_padding": r.add_padding }))
            .collect(),
    ))
}
