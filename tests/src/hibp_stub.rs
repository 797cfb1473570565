//! A local HaveIBeenPwned range API: answers `/range/{prefix}` from a set of breached
//! passwords, pads with count-0 rows like the real service, records every request, and can be
//! made slow, failing or garbled to test the outage paths (docs/security.md B1–B4).

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
        self.inner.breached.lock().unwrap().insert(sha1_hex(password));
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
