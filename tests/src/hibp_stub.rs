//! A local HaveIBeenPwned range API: answers `/range/{prefix}` from a set of breached
//! passwords, pads with count-0 rows like the real service, records every request, and can be
//! made slow, failing or garbled to test the outage paths (SECURITY.md B1–B3).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha1::{Digest, Sha1};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HibpMode {
    Normal,
    /// Answer after this long.
    Slow(Duration),
    Unavailable,
    Garbage,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub add_padding: Option<String>,
}

#[derive(Default)]
struct Inner {
    breached: Mutex<HashSet<String>>,
    mode: Mutex<Option<HibpMode>>,
    log: Mutex<Vec<Recorded>>,
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
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/range/{prefix}", get(range))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, inner }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn mark_breached(&self, password: &str) {
        self.inner.breached.lock().unwrap().insert(sha1_hex(password));
    }

    pub fn set_mode(&self, mode: HibpMode) {
        *self.inner.mode.lock().unwrap() = Some(mode);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.log.lock().unwrap().clone()
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
        HibpMode::Normal => {}
    }
    let prefix = prefix.to_ascii_uppercase();
    let mut lines: Vec<String> = inner
        .breached
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.starts_with(&prefix))
        .map(|h| format!("{}:42", &h[5..]))
        .collect();
    // Padding rows, as the real service adds with Add-Padding: true.
    for i in 0..5u8 {
        lines.push(format!("{}:0", &hex_upper(&Sha1::digest([i]))[5..]));
    }
    lines.join("\r\n").into_response()
}
