//! A scripted AWS endpoint on loopback: each request gets the next scripted answer (then a fixed
//! one), and every request is kept for the test to read. For the faults DynamoDB and SES produce
//! (throttling, 5xx, cancelled transactions, rejected mail, answers that never come), which the
//! emulator cannot.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::{Credentials, Region};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use latch::aws_calls::AwsCallPolicy;
use serde_json::{json, Value};

/// The deployed policy's attempts, with waits and time limits short enough for a test.
pub const POLICY: AwsCallPolicy = AwsCallPolicy {
    initial_backoff: Duration::from_millis(1),
    max_backoff: Duration::from_millis(5),
    attempt_timeout: Duration::from_millis(300),
    operation_timeout: Duration::from_secs(2),
    ..AwsCallPolicy::DEPLOYED
};

/// One scripted answer: after `delay`, this status and JSON body.
#[derive(Clone, Debug)]
pub struct Reply {
    pub delay: Duration,
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            delay: Duration::ZERO,
            status: 200,
            body,
        }
    }

    /// An AWS error answer: its code in `__type`, which both DynamoDB's JSON protocol and SES's
    /// REST one read.
    pub fn error(status: u16, code: &str) -> Self {
        Self {
            delay: Duration::ZERO,
            status,
            body: json!({"__type": code, "message": format!("{code} (scripted)")}),
        }
    }

    /// This answer, sent only after `delay`.
    pub fn after(self, delay: Duration) -> Self {
        Self { delay, ..self }
    }
}

/// A request as the endpoint received it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `X-Amz-Target` (the operation, for JSON protocols such as DynamoDB's).
    pub target: String,
    pub path: String,
    pub body: Value,
}

enum Answers {
    Scripted {
        replies: Mutex<VecDeque<Reply>>,
        otherwise: Reply,
    },
    /// Forwarded to `upstream` (the emulator) until the request numbered `fail_from` (counted
    /// from 1 since it was armed; 0: never): that one is carried out and its answer replaced by
    /// a 500, and every later one is answered 500 without reaching the service, as if the caller
    /// had died right after that step.
    Proxy {
        upstream: String,
        http: reqwest::Client,
        fail_from: AtomicUsize,
        since_armed: AtomicUsize,
    },
}

struct Script {
    answers: Answers,
    seen: Mutex<Vec<Seen>>,
}

pub struct ScriptedAws {
    pub url: String,
    script: Arc<Script>,
}

fn reply(reply: Reply) -> Response {
    (
        StatusCode::from_u16(reply.status).unwrap(),
        [("content-type", "application/json")],
        reply.body.to_string(),
    )
        .into_response()
}

/// The answer of a request the fault proxy let fail.
fn injected() -> Reply {
    Reply::error(500, "InternalServerError")
}

async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let mut request = http.post(format!(
        "{upstream}{}",
        uri.path_and_query().map_or("/", |p| p.as_str())
    ));
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = request.body(body).send().await.expect("the emulator answers");
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response = response.header(name.as_str(), value.as_bytes());
        }
    }
    let bytes = answer.bytes().await.expect("the emulator's body");
    response.body(axum::body::Body::from(bytes)).unwrap()
}

async fn answer(State(script): State<Arc<Script>>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    script.seen.lock().unwrap().push(Seen {
        target,
        path: uri.path().to_string(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    match &script.answers {
        Answers::Scripted { replies, otherwise } => {
            let next = replies.lock().unwrap().pop_front();
            let scripted = next.unwrap_or_else(|| otherwise.clone());
            tokio::time::sleep(scripted.delay).await;
            reply(scripted)
        }
        Answers::Proxy {
            upstream,
            http,
            fail_from,
            since_armed,
        } => {
            let n = since_armed.fetch_add(1, Ordering::SeqCst) + 1;
            let k = fail_from.load(Ordering::SeqCst);
            if k == 0 || n < k {
                forward(http, upstream, &uri, &headers, body).await
            } else {
                if n == k {
                    forward(http, upstream, &uri, &headers, body).await;
                }
                reply(injected())
            }
        }
    }
}

impl ScriptedAws {
    /// An endpoint that answers `replies` in order, then `otherwise` to every request.
    pub async fn start(replies: Vec<Reply>, otherwise: Reply) -> Self {
        Self::serve(Answers::Scripted {
            replies: Mutex::new(replies.into()),
            otherwise,
        })
        .await
    }

    /// A fault proxy in front of `upstream`: it forwards every request until armed with
    /// `fail_from`.
    pub async fn proxy(upstream: &str) -> Self {
        Self::serve(Answers::Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            fail_from: AtomicUsize::new(0),
            since_armed: AtomicUsize::new(0),
        })
        .await
    }

    async fn serve(answers: Answers) -> Self {
        let script = Arc::new(Script {
            answers,
            seen: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script }
    }

    /// The proxy's fault: the request to fail from (0: none) and the requests since it was armed.
    fn armed(&self) -> (&AtomicUsize, &AtomicUsize) {
        match &self.script.answers {
            Answers::Proxy {
                fail_from, since_armed, ..
            } => (fail_from, since_armed),
            Answers::Scripted { .. } => panic!("only the fault proxy injects faults"),
        }
    }

    /// A DynamoDB client configured as `base` (the emulator's), sending through this endpoint.
    /// Set on the client's own configuration: one built from `base` alone would take
    /// `AWS_ENDPOINT_URL` from the environment over the `SdkConfig`'s endpoint.
    pub fn dynamodb_in_front_of(&self, base: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(base)
            .endpoint_url(&self.url)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// Clients' configuration for this endpoint, under `policy`.
    pub async fn config(&self, policy: &AwsCallPolicy) -> aws_config::SdkConfig {
        policy
            .loader()
            .endpoint_url(&self.url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDSCRIPTED", "scripted", None, None, "scripted"))
            .load()
            .await
    }

    /// The requests so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }
}

/// The fault proxy: the `k`-th request from when it is armed is carried out and fails, and so
/// does every one after it until it is disarmed.
impl crate::faults::InjectFaults for ScriptedAws {
    fn fail_after_commit_in(&self, k: u64) {
        let (fail_from, since_armed) = self.armed();
        since_armed.store(0, Ordering::SeqCst);
        fail_from.store(usize::try_from(k).expect("k fits"), Ordering::SeqCst);
    }

    fn fired(&self) -> bool {
        let (fail_from, since_armed) = self.armed();
        let k = fail_from.load(Ordering::SeqCst);
        k != 0 && since_armed.load(Ordering::SeqCst) >= k
    }

    fn disarm(&self) {
        self.armed().0.store(0, Ordering::SeqCst);
    }
}
