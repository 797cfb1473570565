//! Store round trips per flow on DynamoDB (moto), counted, not timed. `latch serve` runs on the
//! DynamoDB backend and reaches moto through a counting proxy on loopback that records each
//! request's operation (its `X-Amz-Target` header); the proxy's count is read before and after
//! each HTTP request to Latch, which is the only thing running.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::Server;

/// Operations that only read.
const READS: &[&str] = &["GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems"];

#[derive(Debug, Clone, Serialize)]
pub struct Flow {
    pub name: &'static str,
    pub request: &'static str,
    /// The HTTP status Latch answered.
    pub status: u16,
    /// DynamoDB operation → how many requests of it the flow made.
    pub operations: BTreeMap<String, u32>,
    pub reads: u32,
    pub writes: u32,
    pub round_trips: u32,
    /// The target, as round trips, where it sets one.
    pub target: Option<Target>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub text: &'static str,
    pub round_trips: u32,
    /// Whether the figure meets it.
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundTrips {
    pub emulator: String,
    pub flows: Vec<Flow>,
}

#[derive(Default)]
struct Counter {
    operations: Vec<String>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    counter: Arc<Mutex<Counter>>,
}

/// Forward one request to moto as it came, counting its DynamoDB operation.
async fn forward(State(proxy): State<Proxy>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        // "DynamoDB_20120810.GetItem" → "GetItem".
        let op = target.rsplit('.').next().unwrap_or(target).to_string();
        if let Ok(mut c) = proxy.counter.lock() {
            c.operations.push(op);
        }
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = proxy.http.request(method, format!("{}{path}", proxy.upstream));
    for (name, value) in &headers {
        // The SDK signed the original host; moto does not check signatures.
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.body(body).send().await {
        Ok(upstream) => {
            let status = upstream.status();
            let headers = upstream.headers().clone();
            let body = upstream.bytes().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" && name != "connection" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// Start the proxy on a loopback port; returns its URL.
async fn start_proxy(proxy: Proxy) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("proxy listener")?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}

/// Classify counted operations.
fn tally(ops: &[String]) -> (BTreeMap<String, u32>, u32, u32) {
    let mut operations = BTreeMap::new();
    let (mut reads, mut writes) = (0, 0);
    for op in ops {
        *operations.entry(op.clone()).or_insert(0) += 1;
        if READS.contains(&op.as_str()) {
            reads += 1;
        } else {
            writes += 1;
        }
    }
    (operations, reads, writes)
}

const PASSWORD: &str = "violet staple correct battery horse 7";
const NEW_PASSWORD: &str = "amber lantern quiet harbour 42";

struct Driver<'a> {
    server: &'a Server,
    http: reqwest::Client,
    counter: Arc<Mutex<Counter>>,
}

impl Driver<'_> {
    /// POST `body` to `path`, counting the store requests it caused.
    async fn flow(
        &self,
        name: &'static str,
        request: &'static str,
        path: &str,
        body: Value,
        target: Option<(&'static str, u32)>,
    ) -> anyhow::Result<(Flow, Value)> {
        self.counter
            .lock()
            .map_err(|_| anyhow::anyhow!("counter poisoned"))?
            .operations
            .clear();
        let response = self
            .http
            .post(format!("{}{path}", self.server.base))
            .basic_auth(&self.server.project_id, Some(&self.server.secret))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let ops = std::mem::take(
            &mut self
                .counter
                .lock()
                .map_err(|_| anyhow::anyhow!("counter poisoned"))?
                .operations,
        );
        let (operations, reads, writes) = tally(&ops);
        let round_trips = reads + writes;
        let flow = Flow {
            name,
            request,
            status,
            operations,
            reads,
            writes,
            round_trips,
            target: target.map(|(text, max)| Target {
                text,
                round_trips: max,
                met: round_trips <= max,
            }),
        };
        Ok((flow, answer))
    }
}

/// The reset token from the newest reset email in the server's outbox.
fn reset_token(data_dir: &Path) -> anyhow::Result<String> {
    let mut newest: Option<(std::time::SystemTime, std::path::PathBuf)> = None;
    for entry in std::fs::read_dir(data_dir.join("outbox")).context("outbox")? {
        let path = entry?.path();
        let modified = std::fs::metadata(&path)?.modified()?;
        if path.extension().is_some_and(|e| e == "eml") && newest.as_ref().is_none_or(|(t, _)| modified > *t) {
            newest = Some((modified, path));
        }
    }
    let (_, path) = newest.context("no email in the outbox")?;
    let eml = std::fs::read_to_string(&path)?;
    let link = eml
        .lines()
        .find(|l| l.starts_with("http") && l.contains("stytch_token_type=reset_password&"))
        .context("no reset link in the email")?;
    let url = reqwest::Url::parse(link.trim()).context("reset link")?;
    url.query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .context("no token in the reset link")
}

/// `latch create-table` against the emulator directly (not counted).
fn create_table(binary: &Path, moto: &str, table: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new(binary)
        .arg("create-table")
        .env("LATCH_TABLE", table)
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .context("latch create-table")?;
    if !out.status.success() {
        bail!("latch create-table failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Count the flows. `moto` is the emulator's URL; the table is created through the proxy
/// (before counting starts).
pub async fn run(binary: &Path, moto: &str) -> anyhow::Result<RoundTrips> {
    let counter = Arc::new(Mutex::new(Counter::default()));
    let proxy_url = start_proxy(Proxy {
        upstream: moto.trim_end_matches('/').to_string(),
        http: reqwest::Client::new(),
        counter: counter.clone(),
    })
    .await?;
    let table = format!("latch-bench-{}", std::process::id());
    create_table(binary, moto, &table)?;
    let server = Server::start_with(
        binary,
        &[
            ("LATCH_STORE", "dynamodb"),
            ("LATCH_TABLE", &table),
            ("AWS_ENDPOINT_URL", &proxy_url),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    )?;
    eprintln!(
        "round trips: latch serve (pid {}) on DynamoDB at {moto}, via {proxy_url}",
        server.pid()
    );
    let driver = Driver {
        server: &server,
        http: reqwest::Client::new(),
        counter,
    };
    let result = count_flows(&driver).await;
    if result.is_err() {
        eprintln!("server log (tail):\n{}", server.log_tail());
    }
    Ok(RoundTrips {
        emulator: moto.to_string(),
        flows: result?,
    })
}

async fn count_flows(d: &Driver<'_>) -> anyhow::Result<Vec<Flow>> {
    let email = "round-trips@example.com";
    let mut flows = Vec::new();
    let login = |password: &str, session: bool| {
        let mut body = json!({"email": email, "password": password});
        if session {
            body["session_duration_minutes"] = json!(60);
        }
        body
    };
    let (signup, _) = d
        .flow(
            "signup",
            "`POST /v1/passwords` with a session",
            "/v1/passwords",
            json!({"email": email, "password": PASSWORD, "session_duration_minutes": 60}),
            Some(("1 write (one transaction)", 1)),
        )
        .await?;
    flows.push(signup);
    let (ok, answer) = d
        .flow(
            "login",
            "`POST /v1/passwords/authenticate` with a session",
            "/v1/passwords/authenticate",
            login(PASSWORD, true),
            Some(("1 read + 1 write (the session)", 2)),
        )
        .await?;
    flows.push(ok);
    let token = answer["session_token"].as_str().unwrap_or_default().to_string();
    let jwt = answer["session_jwt"].as_str().unwrap_or_default().to_string();
    let (no_session, _) = d
        .flow(
            "login without a session",
            "`POST /v1/passwords/authenticate`, no session asked",
            "/v1/passwords/authenticate",
            login(PASSWORD, false),
            None,
        )
        .await?;
    flows.push(no_session);
    let (failed, _) = d
        .flow(
            "failed login",
            "`POST /v1/passwords/authenticate`, wrong password",
            "/v1/passwords/authenticate",
            login("not the password at all 1", true),
            Some(("1 read + 1 atomic update", 2)),
        )
        .await?;
    flows.push(failed);
    let (unknown, _) = d
        .flow(
            "login, unknown email",
            "`POST /v1/passwords/authenticate`, no such user",
            "/v1/passwords/authenticate",
            json!({"email": "nobody@example.com", "password": PASSWORD}),
            None,
        )
        .await?;
    flows.push(unknown);
    flows.extend(
        count_session_authenticates(
            d,
            "/v1/sessions/authenticate",
            &token,
            &jwt,
            [
                ("session authenticate", "`POST /v1/sessions/authenticate` by token"),
                ("session authenticate by JWT", "`POST /v1/sessions/authenticate` by JWT"),
            ],
        )
        .await?,
    );
    flows.extend(count_member_flows(d).await?);
    let (start, _) = d
        .flow(
            "reset start",
            "`POST /v1/passwords/email/reset/start` (sends the email)",
            "/v1/passwords/email/reset/start",
            json!({"email": email}),
            None,
        )
        .await?;
    flows.push(start);
    let reset_token = reset_token(d.server.data_dir())?;
    let (reset, _) = d
        .flow(
            "reset",
            "`POST /v1/passwords/email/reset` with a session",
            "/v1/passwords/email/reset",
            json!({"token": reset_token, "password": NEW_PASSWORD, "session_duration_minutes": 60}),
            None,
        )
        .await?;
    flows.push(reset);
    // Every flow but the two failures must have been answered 200, or its count means nothing.
    for f in &flows {
        let expected = match f.name {
            "failed login" => 401,
            "login, unknown email" => 404,
            _ => 200,
        };
        if f.status != expected {
            bail!("{} was answered {} (expected {expected})", f.name, f.status);
        }
    }
    Ok(flows)
}

/// A sessions/authenticate route by session token and by JWT, each judged against the issue-20
/// target: one read, no write inside the touch interval. `flows` names each call and its request.
async fn count_session_authenticates(
    d: &Driver<'_>,
    path: &str,
    token: &str,
    jwt: &str,
    flows: [(&'static str, &'static str); 2],
) -> anyhow::Result<Vec<Flow>> {
    let bodies = [json!({"session_token": token}), json!({"session_jwt": jwt})];
    let mut counted = Vec::new();
    for ((name, request), body) in flows.into_iter().zip(bodies) {
        let (session, _) = d
            .flow(
                name,
                request,
                path,
                body,
                Some(("1 read (no write inside the touch interval)", 1)),
            )
            .await?;
        counted.push(session);
    }
    Ok(counted)
}

/// A member's login and session authenticates (B2B), after its organization and the member (an
/// imported hash, so no email) are created; those two are counted too, without a target.
async fn count_member_flows(d: &Driver<'_>) -> anyhow::Result<Vec<Flow>> {
    let mut flows = Vec::new();
    let (org, answer) = d
        .flow(
            "B2B organization create",
            "`POST /v1/b2b/organizations`",
            "/v1/b2b/organizations",
            json!({"organization_name": "Round trips", "organization_slug": "round-trips"}),
            None,
        )
        .await?;
    flows.push(org);
    let org_id = answer["organization"]["organization_id"]
        .as_str()
        .context("no organization_id in the answer")?
        .to_string();
    let email = "member@round-trips.example";
    let (import, _) = d
        .flow(
            "B2B member import",
            "`POST /v1/b2b/passwords/migrate` (argon2id hash)",
            "/v1/b2b/passwords/migrate",
            crate::hot_path::imported_member(&org_id, email, PASSWORD)?,
            None,
        )
        .await?;
    flows.push(import);
    let (login, answer) = d
        .flow(
            "B2B login",
            "`POST /v1/b2b/passwords/authenticate` with a session",
            "/v1/b2b/passwords/authenticate",
            json!({"organization_id": org_id, "email_address": email, "password": PASSWORD,
                "session_duration_minutes": 60}),
            None,
        )
        .await?;
    flows.push(login);
    let token = answer["session_token"].as_str().unwrap_or_default().to_string();
    let jwt = answer["session_jwt"].as_str().unwrap_or_default().to_string();
    flows.extend(
        count_session_authenticates(
            d,
            "/v1/b2b/sessions/authenticate",
            &token,
            &jwt,
            [
                (
                    "B2B session authenticate",
                    "`POST /v1/b2b/sessions/authenticate` by token",
                ),
                (
                    "B2B session authenticate by JWT",
                    "`POST /v1/b2b/sessions/authenticate` by JWT",
                ),
            ],
        )
        .await?,
    );
    Ok(flows)
}

/// "2: UpdateItem ×1, TransactWriteItems ×1", writes listed after reads.
pub fn describe(f: &Flow) -> String {
    let mut ops: Vec<(&String, &u32)> = f.operations.iter().collect();
    ops.sort_by_key(|(op, _)| (!READS.contains(&op.as_str()), op.as_str() != "UpdateItem"));
    let list: Vec<String> = ops.iter().map(|(op, n)| format!("{op} ×{n}")).collect();
    if list.is_empty() {
        "0".into()
    } else {
        format!("{}: {}", f.round_trips, list.join(", "))
    }
}

/// The report's section: every flow counted, and what the login's first request is.
pub fn section(r: &RoundTrips) -> String {
    let mut out = String::new();
    out.push_str(
        "Each flow is one HTTP request to `latch serve` on the DynamoDB backend; a counting proxy \
         between it and moto records every DynamoDB request it causes. Counted, not timed.\n\n",
    );
    out.push_str("| Flow | Request | Status | Reads | Writes | Round trips (by operation) | Target |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for f in &r.flows {
        let target = match &f.target {
            Some(t) => format!("{} — {}", t.text, if t.met { "PASS" } else { "MISS" }),
            None => "—".into(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            f.name,
            f.request,
            f.status,
            f.reads,
            f.writes,
            describe(f),
            target
        ));
    }
    out.push_str(
        "\nA login's first request is its read: an `UpdateItem` on the user's item (found by email) \
         that claims the attempt under the lockout rules and returns the user, so that racing \
         requests can never verify more passwords than the threshold allows (docs/security.md L2). A \
         wrong password writes nothing more, since the claim counted it; a right one resets the \
         count in the same `TransactWriteItems` as its session. Layout and conditions: \
         `docs/dynamodb.md`.\n\nA session authenticate reads the session, its user (and a member's \
         organization) in one `BatchGetItem`, consistently, on every call, so a revocation or a \
         change is seen at the next one; it writes only when something changed or \
         `last_accessed_at` is a minute old. That one read needs the process to know where the \
         items are: the session a token names and where its user's item is, which a process learns \
         from the login that made the session or from its own first lookup (the token's pointer and \
         the user's, 2–3 reads more, once per process per session; on Lambda, once per warm \
         container).\n",
    );
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fixture() -> RoundTrips {
        let flow = |name, ops: &[&str], max: Option<u32>| {
            let ops: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
            let (operations, reads, writes) = tally(&ops);
            Flow {
                name,
                request: "`POST /x`",
                status: 200,
                operations,
                reads,
                writes,
                round_trips: reads + writes,
                target: max.map(|m| Target {
                    text: match name {
                        "login" => "1 read + 1 write (the session)",
                        _ => "1 write (one transaction)",
                    },
                    round_trips: m,
                    met: reads + writes <= m,
                }),
            }
        };
        RoundTrips {
            emulator: "http://127.0.0.1:1".into(),
            flows: vec![
                flow("signup", &["TransactWriteItems", "GetItem"], Some(1)),
                flow("login", &["TransactWriteItems", "UpdateItem"], Some(2)),
                flow("reset", &["GetItem"], None),
            ],
        }
    }

    #[test]
    fn flows_are_described_reads_first_then_the_claim() {
        let r = fixture();
        assert_eq!(describe(&r.flows[1]), "2: UpdateItem ×1, TransactWriteItems ×1");
        assert_eq!(describe(&r.flows[0]), "2: GetItem ×1, TransactWriteItems ×1");
        let md = section(&r);
        assert!(
            md.contains("| reset | `POST /x` | 200 | 1 | 0 | 1: GetItem ×1 | — |"),
            "{md}"
        );
        assert!(md.contains("1 write (one transaction) — MISS"), "{md}");
    }

    #[test]
    fn operations_are_tallied_as_reads_and_writes() {
        let ops: Vec<String> = ["GetItem", "UpdateItem", "TransactWriteItems", "GetItem", "Query"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (by_op, reads, writes) = tally(&ops);
        assert_eq!(by_op["GetItem"], 2);
        assert_eq!(by_op["TransactWriteItems"], 1);
        assert_eq!((reads, writes), (3, 2));
    }

    #[test]
    fn the_reset_token_is_read_from_the_newest_email() {
        let dir = std::env::temp_dir().join(format!("latch-bench-outbox-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("outbox")).unwrap();
        std::fs::write(
            dir.join("outbox/1.eml"),
            "Subject: x\n\nhttps://example.com/r?stytch_token_type=reset_password&token=abc%2Bd\nhttps://example.com/l?stytch_token_type=magic_links&token=zzz\n",
        )
        .unwrap();
        assert_eq!(reset_token(&dir).unwrap(), "abc+d");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
