//! `latch serve`'s defences against slow and hostile clients (docs/security.md I7), over raw TCP:
//! the test app runs the same server (`latch::server`) with small timeouts.

use std::time::{Duration, Instant};

use base64::Engine;
use latch_tests::{TestApp, PROJECT_ID, SECRET};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far beyond every timeout the tests configure: a read that waits this long means the server
/// never closed.
const NEVER: Duration = Duration::from_secs(20);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

fn basic_auth() -> String {
    let raw = format!("{PROJECT_ID}:{SECRET}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// Read until the server closes; the bytes, or None if it did not close within `NEVER`.
async fn read_to_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + NEVER;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(all),
            Ok(Ok(n)) => all.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Read one response (head and Content-Length body) off a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> (u16, String, Value) {
    let mut all = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = all.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&all[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if all.len() >= end + 4 + length {
                let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
                let body = serde_json::from_slice(&all[end + 4..end + 4 + length]).unwrap();
                return (status, head, body);
            }
        }
        let n = tokio::time::timeout(NEVER, stream.read(&mut chunk))
            .await
            .expect("a response")
            .unwrap();
        assert!(
            n > 0,
            "closed before a whole response: {:?}",
            String::from_utf8_lossy(&all)
        );
        all.extend_from_slice(&chunk[..n]);
    }
}

/// A whole response read to the connection's close.
fn parse(bytes: &[u8]) -> (u16, String, Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {text:?}"));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (status, head.to_string(), body)
}

#[track_caller]
fn assert_envelope(body: &Value, status: u16, error_type: &str) {
    assert_eq!(body["status_code"], status, "{body}");
    assert_eq!(body["error_type"], error_type, "{body}");
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("request-id-")),
        "{body}"
    );
    assert!(body["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(
        body["error_url"].as_str().is_some_and(|u| u.starts_with("https://")),
        "{body}"
    );
}

/// SECURITY I7: a client that stops mid-headers is disconnected after the header read timeout,
/// though the idle timeout is far longer.
#[tokio::test]
async fn i7_a_head_that_stalls_is_closed_after_the_header_read_timeout() {
    let app = TestApp::spawn_with(&[
        ("LATCH_HEADER_READ_TIMEOUT_SECS", "1"),
        ("LATCH_IDLE_TIMEOUT_SECS", "60"),
    ])
    .await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"POST /v1/passwords HTTP/1.1\r\nHost: latch\r\nContent-Type: appl")
        .await
        .unwrap();
    let started = Instant::now();
    let rest = read_to_close(&mut stream).await;
    assert!(rest.is_some(), "the stalled connection was never closed");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

/// SECURITY I7: the defaults close a connection stalled mid-headers within 30 s.
#[test]
fn i7_the_default_header_read_timeout_is_at_most_30_s() {
    let s = latch::config::Settings::from_source(&|_: &str| None, "p".into(), "s".into(), vec![7; 32]).unwrap();
    assert!(s.serve.header_read_timeout <= Duration::from_secs(30));
    assert!(s.serve.body_read_timeout <= Duration::from_secs(30));
    assert!(s.serve.idle_timeout <= Duration::from_secs(60));
}

/// SECURITY I7: a body that stops arriving is answered 408 in the envelope, and the connection
/// is closed.
#[tokio::test]
async fn i7_a_body_that_stalls_is_answered_408_and_closed() {
    let app = TestApp::spawn_with(&[("LATCH_BODY_READ_TIMEOUT_SECS", "1"), ("LATCH_IDLE_TIMEOUT_SECS", "60")]).await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /v1/passwords HTTP/1.1\r\nHost: latch\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"email\": \"",
        basic_auth()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let bytes = read_to_close(&mut stream)
        .await
        .expect("the server closes the connection");
    let (status, head, body) = parse(&bytes);
    assert_eq!(status, 408, "{head}");
    assert_envelope(&body, 408, "request_timeout");
    assert!(head.to_ascii_lowercase().contains("connection: close"), "{head}");
}

/// SECURITY I7: a kept-alive connection outlives the header read timeout between requests, and
/// is closed once idle for the idle timeout.
#[tokio::test]
async fn i7_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let app = TestApp::spawn_with(&[
        ("LATCH_HEADER_READ_TIMEOUT_SECS", "1"),
        ("LATCH_IDLE_TIMEOUT_SECS", "3"),
    ])
    .await;
    let mut stream = connect(&app).await;
    let request = b"GET /nowhere HTTP/1.1\r\nHost: latch\r\n\r\n";
    stream.write_all(request).await.unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    assert_eq!(status, 404);
    assert_envelope(&body, 404, "route_not_found");
    // Idle for longer than the header read timeout: still served.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream.write_all(request).await.unwrap();
    let (status, _, _) = read_response(&mut stream).await;
    assert_eq!(status, 404);
    let idle_from = Instant::now();
    let rest = read_to_close(&mut stream).await;
    assert_eq!(rest.as_deref(), Some(&b""[..]), "closed without another byte");
    let idle = idle_from.elapsed();
    assert!(
        idle >= Duration::from_secs(2),
        "closed after {idle:?}, before the idle timeout"
    );
}

/// SECURITY I7: a head over the limit (one 100 KB or 600 KB header, or too many fields) is answered 431
/// in Stytch's envelope, not hyper's empty 431; a large head within the limit is served.
#[tokio::test]
async fn i7_an_oversized_head_is_answered_431_in_the_envelope() {
    let app = TestApp::spawn().await;
    let big = format!(
        "GET /nowhere HTTP/1.1\r\nHost: latch\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    // Beyond hyper's own buffer (~400 KB), where hyper would answer its empty 431.
    let huge = format!(
        "GET /nowhere HTTP/1.1\r\nHost: latch\r\nX-Big: {}\r\n\r\n",
        "a".repeat(600 * 1024)
    );
    let many: String = (0..150).map(|i| format!("X-Field-{i}: {i}\r\n")).collect();
    let many = format!("GET /nowhere HTTP/1.1\r\nHost: latch\r\n{many}\r\n");
    for request in [big, huge, many] {
        let mut stream = connect(&app).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let bytes = read_to_close(&mut stream)
            .await
            .expect("the server closes the connection");
        let (status, head, body) = parse(&bytes);
        assert_eq!(status, 431, "{head}");
        assert_envelope(&body, 431, "request_header_fields_too_large");
        assert!(
            head.to_ascii_lowercase().contains("content-type: application/json"),
            "{head}"
        );
    }
    // 20 KB of headers is within the default limit (32 KiB).
    let mut stream = connect(&app).await;
    let fine = format!(
        "GET /nowhere HTTP/1.1\r\nHost: latch\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    stream.write_all(fine.as_bytes()).await.unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    assert_eq!(status, 404);
    assert_envelope(&body, 404, "route_not_found");
}

/// Requests whose body the handler never reads (refused before it) close the connection:
/// the bytes after them are that body, not a new request.
#[tokio::test]
async fn i7_an_unread_body_closes_the_connection() {
    let app = TestApp::spawn().await;
    let mut stream = connect(&app).await;
    let body = "{\"email\": \"x@example.com\"}";
    let request = format!(
        "POST /v1/passwords HTTP/1.1\r\nHost: latch\r\nAuthorization: Basic d3Jvbmc6d3Jvbmc=\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let bytes = read_to_close(&mut stream).await.expect("closed after the answer");
    let (status, head, body) = parse(&bytes);
    assert_eq!(status, 401, "{head}");
    assert_envelope(&body, 401, "unauthorized_credentials");
}

/// A signup sent from a task of its own: its status, body and how long it took.
fn signup_in_background(app: &TestApp, tag: &str) -> tokio::task::JoinHandle<(u16, Value, Duration)> {
    let (http, base) = (app.http.clone(), app.base.clone());
    let body = serde_json::json!({"email": latch_tests::email(tag), "password": latch_tests::STRONG});
    tokio::spawn(async move {
        let started = Instant::now();
        let resp = http
            .post(format!("{base}/v1/passwords"))
            .basic_auth(PROJECT_ID, Some(SECRET))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap();
        (status, body, started.elapsed())
    })
}

/// SECURITY F1, I7: while another process holds the SQLite write lock, reads are answered
/// promptly (WAL readers never need it, and they do not queue behind waiting writes), and every
/// write, including one queued behind another, is answered 503 in the envelope within the busy
/// timeout; once the lock is released, writes go through. SQLite only (the lock is SQLite's).
#[tokio::test]
async fn f1_an_outside_write_lock_stalls_no_read_and_bounds_writes() {
    if latch_tests::on_dynamo() {
        return;
    }
    let busy = Duration::from_secs(3);
    let app = TestApp::spawn_with(&[("LATCH_SQLITE_BUSY_TIMEOUT_MS", "3000")]).await;
    let created = app
        .create_user(&latch_tests::email("locked"), latch_tests::STRONG, Some(60))
        .await;
    let user_id = created["user_id"].as_str().unwrap().to_string();

    let outside = rusqlite::Connection::open(app.data_dir.join("latch.sqlite3")).unwrap();
    outside.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let writes = [
        signup_in_background(&app, "locked-a"),
        signup_in_background(&app, "locked-b"),
    ];
    // Let both reach the store (hashing and the breach check come first).
    tokio::time::sleep(Duration::from_millis(800)).await;
    app.get(&format!("/v1/users/{user_id}")).await.assert_ok();
    let sessions = app.get(&format!("/v1/sessions?user_id={user_id}")).await;
    assert_eq!(sessions.assert_ok()["sessions"].as_array().unwrap().len(), 1);
    assert!(
        writes.iter().all(|w| !w.is_finished()),
        "the reads were answered while the writes still waited for the lock"
    );
    for write in writes {
        let (status, body, took) = write.await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert_envelope(&body, 503, "service_unavailable");
        // The busy timeout bounds each write, the one queued behind the other included (a
        // second timeout in a row would be twice as long).
        assert!(took < busy + Duration::from_millis(1500), "a write took {took:?}");
    }
    outside.execute_batch("ROLLBACK").unwrap();
    app.create_user(&latch_tests::email("unlocked"), latch_tests::STRONG, None)
        .await;
}

/// `latch serve --tls-cert --tls-key`: the same server over rustls, with a certificate made here
/// for `localhost` (what the frontend SDK calls: docs/frontend-sdk.md). A client that trusts the
/// certificate gets Latch's answers; one that speaks plain HTTP to the port gets none.
#[tokio::test]
async fn tls_serves_with_the_given_certificate_and_refuses_plain_http() {
    let app = TestApp::spawn().await;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = app.data_dir.join("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();

    // A key that is not the certificate's, or no key at all, is refused at start.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let other_key = dir.join("other-key.pem");
    std::fs::write(&other_key, other.key_pair.serialize_pem()).unwrap();
    assert!(latch::server::Tls::from_pem_files(&cert_file, &other_key).is_err());
    assert!(latch::server::Tls::from_pem_files(&cert_file, &dir.join("missing.pem")).is_err());
    assert!(
        latch::server::Tls::from_pem_files(&key_file, &key_file).is_err(),
        "a key is no certificate"
    );

    let tls = latch::server::Tls::from_pem_files(&cert_file, &key_file).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = latch::router(app.state.clone());
    let settings = app.state.settings.serve;
    tokio::spawn(latch::server::serve(
        listener,
        router,
        settings,
        Some(tls),
        std::future::pending(),
    ));

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let jwks = format!("/v1/sessions/jwks/{PROJECT_ID}");
    let resp = trusting
        .get(format!("https://localhost:{}{jwks}", addr.port()))
        .send()
        .await
        .expect("an HTTPS request to latch");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["keys"].as_array().is_some_and(|k| !k.is_empty()), "{body}");

    // A client that does not trust the certificate is not answered, nor is plain HTTP.
    let untrusting = reqwest::Client::builder().resolve("localhost", addr).build().unwrap();
    assert!(untrusting
        .get(format!("https://localhost:{}{jwks}", addr.port()))
        .send()
        .await
        .is_err());
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}{jwks}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}
