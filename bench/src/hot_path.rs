//! The session hot path (issue 20): `sessions/authenticate` — the call every page load and API
//! request of an app makes — against the trivial JWKS route, on one `latch serve` (SQLite), at
//! 16 connections, as ratios within the run; consumer and B2B, by session token and by JWT, and
//! the frontend SDK's refresh (`/sdk/v1/sessions/authenticate`, every 3 minutes per open tab).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::Server;
use crate::stats::Summary;

/// The connections each route is driven with (the measure).
pub const CONCURRENCY: usize = 16;
/// The goal: each session route at least this share of the trivial route's throughput.
pub const TARGET_RATIO: f64 = 0.5;

const PUBLIC_TOKEN: &str = "public-token-test-00000000-0000-4000-8000-000000000000";
const ORIGIN: &str = "http://localhost:3000";
const PASSWORD: &str = "violet staple correct battery horse";

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub route: String,
    pub requests: usize,
    pub errors: usize,
    pub throughput_rps: f64,
    pub latency_ms: Summary,
    /// Throughput ÷ the trivial route's.
    pub ratio: f64,
    /// Whether this row is judged against [`TARGET_RATIO`] (the trivial route itself is not).
    pub judged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HotPathResults {
    pub concurrency: usize,
    pub seconds_per_route: f64,
    pub target_ratio: f64,
    pub rows: Vec<Row>,
}

/// One request the workers send again and again.
#[derive(Clone)]
struct Call {
    label: &'static str,
    path: String,
    body: Option<Value>,
    /// `Authorization` and `Origin`, when not the project's secret.
    headers: Vec<(&'static str, String)>,
}

pub async fn run(binary: &Path, seconds: f64) -> anyhow::Result<HotPathResults> {
    Server::measure(
        binary,
        &[("LATCH_PUBLIC_TOKEN", PUBLIC_TOKEN), ("LATCH_SDK_ORIGINS", ORIGIN)],
        "hot path",
        async |server| drive(server, seconds).await,
    )
    .await
}

/// `POST path` with the project's secret; the answer's JSON, or an error for any status but 2xx.
pub(crate) async fn post(http: &reqwest::Client, server: &Server, path: &str, body: Value) -> anyhow::Result<Value> {
    let answer = http
        .post(format!("{}{path}", server.base))
        .basic_auth(&server.project_id, Some(&server.secret))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {path}"))?;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("POST {path}: {status} {body}");
    }
    Ok(body)
}

/// A string field of an answer.
pub(crate) fn field(body: &Value, name: &str) -> anyhow::Result<String> {
    body[name]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no {name} in {body}"))
}

/// The `POST /v1/b2b/passwords/migrate` body of a member whose password is `password`, hashed
/// here as a cheap argon2id (1 MiB, one pass) so that creating the member needs no email.
pub(crate) fn imported_member(org_id: &str, email: &str, password: &str) -> anyhow::Result<Value> {
    let (memory, iterations, salt) = (1024u32, 1u32, "bench-member-salt");
    let params = argon2::Params::new(memory, iterations, 1, Some(32)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut hash = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt.as_bytes(), &mut hash)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    Ok(
        json!({"organization_id": org_id, "email_address": email, "hash_type": "argon_2id", "hash": hex,
        "argon_2_config": {"salt": salt, "iteration_amount": iterations, "memory": memory, "threads": 1,
            "key_length": 32}}),
    )
}

/// A consumer session and a member session (the member's password imported as an argon2id hash,
/// so that setting it up needs no email).
async fn sessions(http: &reqwest::Client, server: &Server) -> anyhow::Result<(Value, Value)> {
    let consumer = post(
        http,
        server,
        "/v1/passwords",
        json!({"email": "hot-path@example.com", "password": PASSWORD, "session_duration_minutes": 600}),
    )
    .await?;
    let org = post(
        http,
        server,
        "/v1/b2b/organizations",
        json!({"organization_name": "Hot path", "organization_slug": "hot-path"}),
    )
    .await?;
    let org_id = field(&org["organization"], "organization_id")?;
    post(
        http,
        server,
        "/v1/b2b/passwords/migrate",
        imported_member(&org_id, "member@hot-path.example", PASSWORD)?,
    )
    .await?;
    let member = post(
        http,
        server,
        "/v1/b2b/passwords/authenticate",
        json!({"organization_id": org_id, "email_address": "member@hot-path.example", "password": PASSWORD,
            "session_duration_minutes": 600}),
    )
    .await?;
    Ok((consumer, member))
}

async fn drive(server: &Server, seconds: f64) -> anyhow::Result<HotPathResults> {
    let http = crate::load::client(CONCURRENCY)?;
    let (consumer, member) = sessions(&http, server).await?;
    let secret = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", server.project_id, server.secret))
    );
    let backend = |label, path: &str, body: Value| Call {
        label,
        path: path.to_string(),
        body: Some(body),
        headers: vec![("authorization", secret.clone())],
    };
    let sdk_auth = format!(
        "Basic {}",
        STANDARD.encode(format!("{PUBLIC_TOKEN}:{}", field(&consumer, "session_token")?))
    );
    let calls = vec![
        Call {
            label: "GET /v1/sessions/jwks/{project} (trivial)",
            path: format!("/v1/sessions/jwks/{}", server.project_id),
            body: None,
            headers: vec![("authorization", secret.clone())],
        },
        backend(
            "sessions/authenticate, consumer, by token",
            "/v1/sessions/authenticate",
            json!({"session_token": field(&consumer, "session_token")?}),
        ),
        backend(
            "sessions/authenticate, consumer, by JWT",
            "/v1/sessions/authenticate",
            json!({"session_jwt": field(&consumer, "session_jwt")?}),
        ),
        backend(
            "b2b/sessions/authenticate, by token",
            "/v1/b2b/sessions/authenticate",
            json!({"session_token": field(&member, "session_token")?}),
        ),
        backend(
            "b2b/sessions/authenticate, by JWT",
            "/v1/b2b/sessions/authenticate",
            json!({"session_jwt": field(&member, "session_jwt")?}),
        ),
        Call {
            label: "/sdk/v1/sessions/authenticate (the SDK's refresh)",
            path: "/sdk/v1/sessions/authenticate".into(),
            body: Some(json!({})),
            headers: vec![("authorization", sdk_auth), ("origin", ORIGIN.into())],
        },
    ];
    let http = Arc::new(http);
    let duration = Duration::from_secs_f64(seconds);
    let warmup = Duration::from_secs_f64((seconds / 5.0).clamp(0.2, 1.0));
    let mut rows: Vec<Row> = Vec::new();
    for call in calls {
        let call = Arc::new(call);
        burst(&http, &server.base, &call, warmup).await?;
        let (latencies, errors, elapsed) = burst(&http, &server.base, &call, duration).await?;
        let latency = Summary::of(&latencies).with_context(|| format!("{}: no request succeeded", call.label))?;
        let throughput = latencies.len() as f64 / elapsed;
        let trivial = rows.first().map_or(throughput, |r| r.throughput_rps);
        eprintln!(
            "hot path: {}: {throughput:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {errors} errors",
            call.label, latency.median, latency.p99
        );
        rows.push(Row {
            route: call.label.to_string(),
            requests: latencies.len(),
            errors,
            throughput_rps: throughput,
            latency_ms: latency,
            ratio: throughput / trivial,
            judged: !rows.is_empty(),
        });
    }
    Ok(HotPathResults {
        concurrency: CONCURRENCY,
        seconds_per_route: seconds,
        target_ratio: TARGET_RATIO,
        rows,
    })
}

/// [`CONCURRENCY`] workers send `call` back to back until `duration` has passed (`load::burst`).
async fn burst(
    http: &Arc<reqwest::Client>,
    base: &str,
    call: &Arc<Call>,
    duration: Duration,
) -> anyhow::Result<(Vec<f64>, usize, f64)> {
    let (http, call, url) = (http.clone(), call.clone(), format!("{base}{}", call.path));
    crate::load::burst(CONCURRENCY, duration, move |_| {
        let mut request = match &call.body {
            Some(body) => http.post(&url).json(body),
            None => http.get(&url),
        };
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        async move {
            let answer = request.send().await.context("hot path request")?;
            let ok = answer.status().is_success();
            answer.bytes().await.context("hot path answer")?;
            Ok(ok)
        }
    })
    .await
}

/// The report's section: each route's throughput, p50 and p99, its ratio to the trivial route,
/// and the goal beside it.
pub fn section(r: &HotPathResults) -> String {
    let mut out = format!(
        "`latch serve` (SQLite), {} connections, {:.0} s per route; goal: every \
         session route ≥ {:.2} × the trivial route's throughput (issue 20). Where the time goes (a \
         perf profile of this measure): docs/reference/performance-facts.md, \"The session hot path\".\n\n\
         | route | req/s | p50 ms | p99 ms | × trivial | goal |\n|---|---|---|---|---|---|\n",
        r.concurrency, r.seconds_per_route, r.target_ratio
    );
    for row in &r.rows {
        let goal = if !row.judged {
            "—".to_string()
        } else if row.ratio >= r.target_ratio {
            format!("≥ {:.2}: PASS", r.target_ratio)
        } else {
            format!("≥ {:.2}: MISS", r.target_ratio)
        };
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {goal} |\n",
            row.route, row.throughput_rps, row.latency_ms.median, row.latency_ms.p99, row.ratio
        ));
        if row.errors > 0 {
            out.push_str(&format!(
                "| ↳ {} answers with an error status, not in the figures | | | | | |\n",
                row.errors
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(route: &str, rps: f64, ratio: f64, judged: bool) -> Row {
        let latency = Summary::of(&[1.0, 2.0, 3.0]).unwrap();
        Row {
            route: route.into(),
            requests: 3,
            errors: 0,
            throughput_rps: rps,
            latency_ms: latency,
            ratio,
            judged,
        }
    }

    #[test]
    fn the_section_judges_each_session_route_against_the_trivial_one() {
        let r = HotPathResults {
            concurrency: 16,
            seconds_per_route: 5.0,
            target_ratio: TARGET_RATIO,
            rows: vec![
                row("trivial", 1000.0, 1.0, false),
                row("fast", 600.0, 0.6, true),
                row("slow", 100.0, 0.1, true),
            ],
        };
        let s = section(&r);
        assert!(s.contains("| trivial | 1000 | 2.00 | 2.98 | 1.00 | — |"), "{s}");
        assert!(s.contains("| fast | 600 | 2.00 | 2.98 | 0.60 | ≥ 0.50: PASS |"), "{s}");
        assert!(s.contains("| slow | 100 | 2.00 | 2.98 | 0.10 | ≥ 0.50: MISS |"), "{s}");
    }
}
