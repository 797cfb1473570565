//! Reset start's timing must not tell who has an account (issue 17): `POST
//! /v1/passwords/email/reset/start` on a fresh `latch serve` (SQLite, outbox), known and unknown
//! addresses alternating from the process's first reset start on, the medians compared.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::json;

use crate::server::Server;
use crate::stats::Summary;

/// Requests per kind.
pub const REQUESTS: usize = 200;
/// The ratio (unknown median ÷ known median) must lie in this band.
pub const RATIO_BAND: (f64, f64) = (0.9, 1.1);

const KNOWN: &str = "bench-reset-known@example.com";
const PASSWORD: &str = "violet staple correct battery horse reset";

#[derive(Debug, Clone, Serialize)]
pub struct ResetTiming {
    pub requests_per_kind: usize,
    pub known_ms: Summary,
    pub unknown_ms: Summary,
    /// Unknown median ÷ known median.
    pub ratio: f64,
    /// The first reset start of the process, of each kind (the first known one is the very first).
    pub first_known_ms: f64,
    pub first_unknown_ms: f64,
    pub statuses: String,
}

/// The `i`-th unknown address: each is new, so the per-address limit never answers 429 for it.
fn unknown(i: usize) -> String {
    format!("bench-reset-nobody-{i}@example.com")
}

pub async fn run(binary: &Path) -> anyhow::Result<ResetTiming> {
    // The known address is asked 200 times within the hour: lift the per-address limit (L4) so
    // no answer is a 429 (which would be a third, cheaper path).
    Server::measure(
        binary,
        &[("LATCH_RESET_START_LIMIT", "10000")],
        "reset timing",
        async |server| drive(server).await,
    )
    .await
}

async fn drive(server: &Server) -> anyhow::Result<ResetTiming> {
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", server.base))
            .basic_auth(&server.project_id, Some(&server.secret))
            .json(&body)
            .send()
    };
    let created = post("/v1/passwords", json!({"email": KNOWN, "password": PASSWORD}))
        .await
        .context("creating the known user")?;
    if !created.status().is_success() {
        bail!("creating {KNOWN}: {}", created.status());
    }
    let (mut known, mut unknown_ms) = (Vec::new(), Vec::new());
    for i in 0..REQUESTS {
        for (email, expect, into) in [(KNOWN.to_string(), 200, &mut known), (unknown(i), 404, &mut unknown_ms)] {
            let sent = Instant::now();
            let answer = post("/v1/passwords/email/reset/start", json!({"email": email}))
                .await
                .context("reset start")?;
            let status = answer.status().as_u16();
            answer.bytes().await.context("reset start answer")?;
            let took = sent.elapsed().as_secs_f64() * 1000.0;
            if status != expect {
                bail!("reset start for {email}: {status}, expected {expect}");
            }
            into.push(took);
        }
    }
    let (k, u) = (
        Summary::of(&known).context("no known sample")?,
        Summary::of(&unknown_ms).context("no unknown sample")?,
    );
    let timing = ResetTiming {
        requests_per_kind: REQUESTS,
        ratio: u.median / k.median,
        first_known_ms: known[0],
        first_unknown_ms: unknown_ms[0],
        known_ms: k,
        unknown_ms: u,
        statuses: "known 200, unknown 404 `email_not_found`".into(),
    };
    eprintln!(
        "reset timing: known median {:.2} ms, unknown median {:.2} ms, ratio {:.3} (first: {:.2} / {:.2} ms)",
        timing.known_ms.median, timing.unknown_ms.median, timing.ratio, timing.first_known_ms, timing.first_unknown_ms
    );
    Ok(timing)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn fixture(known: f64, unknown: f64) -> ResetTiming {
        let s = |m: f64| Summary::of(&[m * 0.95, m, m * 1.05]).unwrap();
        ResetTiming {
            requests_per_kind: REQUESTS,
            known_ms: s(known),
            unknown_ms: s(unknown),
            ratio: unknown / known,
            first_known_ms: known,
            first_unknown_ms: unknown,
            statuses: String::new(),
        }
    }

    #[test]
    fn unknown_addresses_are_all_distinct() {
        let all: std::collections::HashSet<_> = (0..REQUESTS).map(unknown).collect();
        assert_eq!(all.len(), REQUESTS);
        assert!(!all.contains(KNOWN));
    }
}
