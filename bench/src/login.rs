//! Login over HTTP: `POST /v1/passwords/authenticate` on a `latch serve` (SQLite) at several
//! concurrency levels, each for a fixed time, with the ratios to the hashing limit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use serde_json::json;

use crate::server::Server;
use crate::stats::Summary;

#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub concurrency: usize,
    pub requests: usize,
    pub errors: usize,
    pub elapsed_s: f64,
    pub throughput_rps: f64,
    pub latency_ms: Summary,
    /// Throughput ÷ (cores ÷ one verify).
    pub throughput_ratio: f64,
    /// p50 latency ÷ one verify.
    pub p50_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoginResults {
    pub binary: String,
    pub users: usize,
    pub duration_per_level_s: f64,
    pub warmup_per_level_s: f64,
    pub verify_ms: f64,
    pub cores: usize,
    /// cores ÷ one verify, in logins per second.
    pub hashing_limit_rps: f64,
    pub request: serde_json::Value,
    pub levels: Vec<Level>,
}

pub struct Plan {
    pub levels: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
}

fn email(i: usize) -> String {
    format!("bench-user-{i}@example.com")
}

fn password(i: usize) -> String {
    format!("violet staple correct battery horse {i}")
}

/// Every login asks for a session, as a sign-in does (the session row and its JWT are part of
/// the cost).
fn login_body(i: usize) -> serde_json::Value {
    json!({"email": email(i), "password": password(i), "session_duration_minutes": 60})
}

pub async fn run(binary: &Path, plan: &Plan, verify_ms: f64, cores: usize) -> anyhow::Result<LoginResults> {
    let mut results = Server::measure(binary, &[], "login", async |server| {
        drive(server, plan, verify_ms, cores).await
    })
    .await?;
    results.binary = binary.display().to_string();
    Ok(results)
}

async fn drive(server: &Server, plan: &Plan, verify_ms: f64, cores: usize) -> anyhow::Result<LoginResults> {
    let users = plan.levels.iter().copied().max().unwrap_or(1);
    let http = crate::load::client(users)?;
    create_users(&http, server, users).await?;
    let target = Arc::new(Target::new(http, server));
    let limit = cores as f64 * 1000.0 / verify_ms;
    let mut levels = Vec::new();
    for &concurrency in &plan.levels {
        burst(&target, concurrency, plan.warmup).await?;
        let (latencies, errors, elapsed) = burst(&target, concurrency, plan.duration).await?;
        let latency = Summary::of(&latencies).context("no login completed")?;
        let throughput = latencies.len() as f64 / elapsed;
        eprintln!(
            "login: concurrency {concurrency}: {:.1}/s, p50 {:.2} ms, p99 {:.2} ms, {errors} errors",
            throughput, latency.median, latency.p99
        );
        levels.push(Level {
            concurrency,
            requests: latencies.len(),
            errors,
            elapsed_s: elapsed,
            throughput_rps: throughput,
            latency_ms: latency,
            throughput_ratio: throughput / limit,
            p50_ratio: latency.median / verify_ms,
        });
    }
    Ok(LoginResults {
        binary: String::new(),
        users,
        duration_per_level_s: plan.duration.as_secs_f64(),
        warmup_per_level_s: plan.warmup.as_secs_f64(),
        verify_ms,
        cores,
        hashing_limit_rps: limit,
        request: login_body(0),
        levels,
    })
}

/// Creates the users `0..n` (their email and password as the logins send them) through
/// `POST /v1/passwords`, one after another.
pub(crate) async fn create_users(http: &reqwest::Client, server: &Server, n: usize) -> anyhow::Result<()> {
    for i in 0..n {
        let body = json!({"email": email(i), "password": password(i)});
        crate::hot_path::post(http, server, "/v1/passwords", body)
            .await
            .with_context(|| format!("creating {}", email(i)))?;
    }
    Ok(())
}

/// Where the logins go, and as whom.
pub(crate) struct Target {
    http: reqwest::Client,
    url: String,
    project_id: String,
    secret: String,
}

impl Target {
    pub(crate) fn new(http: reqwest::Client, server: &Server) -> Self {
        Self {
            http,
            url: format!("{}/v1/passwords/authenticate", server.base),
            project_id: server.project_id.clone(),
            secret: server.secret.clone(),
        }
    }

    /// One login of `user` (of [`create_users`]), sent; its answer, whatever the status.
    pub(crate) async fn send(&self, user: usize) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(&self.url)
            .basic_auth(&self.project_id, Some(&self.secret))
            .json(&login_body(user))
            .send()
            .await
    }

    /// One login; `Ok(false)` when the server answered but not with 200.
    async fn login(&self, user: usize) -> anyhow::Result<bool> {
        let answer = self.send(user).await.context("login request")?;
        let ok = answer.status().is_success();
        answer.bytes().await.context("login answer")?;
        Ok(ok)
    }
}

/// `concurrency` workers log in back to back until `duration` has passed (`load::burst`).
async fn burst(target: &Arc<Target>, concurrency: usize, duration: Duration) -> anyhow::Result<(Vec<f64>, usize, f64)> {
    let target = target.clone();
    crate::load::burst(concurrency, duration, move |user| {
        let target = target.clone();
        async move { target.login(user).await }
    })
    .await
}
