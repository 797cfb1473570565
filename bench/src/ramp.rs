//! The concurrency ramp (issue 23): password logins on one `latch serve` (SQLite, its default
//! hashing settings) at rising concurrency, to find where its bounded hashing queue
//! (`LATCH_HASH_CONCURRENCY` hashes running, `LATCH_HASH_QUEUE` waiting) refuses a login at once
//! with 503, `Retry-After` and Stytch's envelope rather than letting the wait grow with the
//! connections, and whether the logins it admits beyond that point wait a bounded time.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use reqwest::header::RETRY_AFTER;
use serde::Serialize;
use serde_json::Value;

use crate::login::Target;
use crate::server::Server;
use crate::stats::Summary;

/// The top of the ramp by default: the concurrency doubles from 1 up to it.
pub const DEFAULT_MAX: usize = 512;
/// Beyond the first 503, a successful login's p99 may be this many times the wait of a login
/// admitted last into a full queue: 1.5 leaves room for noise and the refusals' own work, and is
/// below the 2 × that a queue without bound would give at twice its size.
pub const P99_SLACK: f64 = 1.5;
/// The longest a connection honours a 503's `Retry-After` for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// The phrase of the message a full hashing queue's 503 carries (`latch::Error::overloaded`):
/// a 503 without it was refused by something else (the store's busy timeout, say).
pub const HASHING_CAPACITY: &str = "password-hashing capacity";
/// Open files each process (the bench, the server) needs beyond one per connection.
const SPARE_FILES: u64 = 256;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Step {
    pub concurrency: usize,
    /// Until the step's last request ended.
    pub elapsed_s: f64,
    /// Successful (2xx) logins.
    pub logins: usize,
    pub throughput_rps: f64,
    /// Of the successful logins.
    pub latency_ms: Option<Summary>,
    /// 503 answers, and how many of them lacked `Retry-After` or the envelope with
    /// `service_unavailable`.
    pub shed: usize,
    pub shed_malformed: usize,
    /// The 503s' `error_message`s, each with its count: which limit refused them.
    pub shed_messages: BTreeMap<String, usize>,
    /// The answers neither 2xx nor 503, by status.
    pub other_errors: BTreeMap<u16, usize>,
    /// Requests without an answer: the connection failed, or no answer within the client timeout.
    pub connection_failures: usize,
    pub first_failure: Option<String>,
}

impl Step {
    /// What one login takes a permit at this step's throughput: `permits` are busy at once (or
    /// as many as there are connections, when fewer), so each serves one login every busy
    /// permits ÷ throughput.
    pub fn per_login_ms(&self, permits: usize) -> f64 {
        permits.min(self.concurrency) as f64 * 1000.0 / self.throughput_rps
    }

    fn other(&self) -> usize {
        self.other_errors.values().sum()
    }

    /// 503s whose message is not the full hashing queue's.
    fn shed_elsewhere(&self) -> usize {
        self.shed_messages
            .iter()
            .filter(|(message, _)| !message.contains(HASHING_CAPACITY))
            .map(|(_, n)| n)
            .sum()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RampResults {
    /// `LATCH_HASH_CONCURRENCY`: argon2 hashes at once.
    pub hash_concurrency: usize,
    /// `LATCH_HASH_QUEUE`: hashes that may wait beyond those.
    pub queue: usize,
    pub seconds_per_step: f64,
    /// One per connection at the top, each connection logging in as its own: more than
    /// `LATCH_LOCK_THRESHOLD` (10) logins at once to one account are refused 429 `user_locked`
    /// by design (each counts as a failure until it succeeds), which is not what is measured here.
    pub users: usize,
    pub client_timeout_s: f64,
    pub p99_slack: f64,
    pub steps: Vec<Step>,
}

/// The ramp's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    Pass,
    /// No step was answered 503: the ramp did not reach the queue's limit.
    NotReached,
    /// What failed, one line each.
    Miss(Vec<String>),
}

impl Judgement {
    pub fn verdict(&self) -> &'static str {
        match self {
            Judgement::Pass => "PASS",
            Judgement::NotReached => "—",
            Judgement::Miss(_) => "MISS",
        }
    }
}

impl RampResults {
    /// Logins admitted at once (running or waiting) before the next is refused.
    pub fn capacity(&self) -> usize {
        self.hash_concurrency + self.queue
    }

    /// The p99 a step at or beyond the first 503 is judged by: [`P99_SLACK`] × the wait of a
    /// login admitted last into a full queue, (queue + permits) ÷ permits logins of the step's
    /// per-login time.
    pub fn p99_bound_ms(&self, step: &Step) -> f64 {
        self.p99_slack * self.capacity() as f64 / self.hash_concurrency as f64
            * step.per_login_ms(self.hash_concurrency)
    }

    /// Where the first 503 was answered.
    pub fn first_shed(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.shed > 0)
    }

    pub fn top(&self) -> usize {
        self.steps.last().map_or(0, |s| s.concurrency)
    }

    pub fn judge(&self) -> Judgement {
        let mut misses = Vec::new();
        for s in &self.steps {
            if s.shed_malformed > 0 {
                misses.push(format!(
                    "c={}: {} of {} 503s without Retry-After or the envelope",
                    s.concurrency, s.shed_malformed, s.shed
                ));
            }
            if s.shed_elsewhere() > 0 {
                misses.push(format!(
                    "c={}: {} 503s not from the hashing queue",
                    s.concurrency,
                    s.shed_elsewhere()
                ));
            }
            if s.other() > 0 {
                misses.push(format!(
                    "c={}: {} other errors ({})",
                    s.concurrency,
                    s.other(),
                    statuses(&s.other_errors)
                ));
            }
            if s.connection_failures > 0 {
                misses.push(format!(
                    "c={}: {} connection failures",
                    s.concurrency, s.connection_failures
                ));
            }
        }
        let Some(first) = self.first_shed() else {
            return if misses.is_empty() {
                Judgement::NotReached
            } else {
                Judgement::Miss(misses)
            };
        };
        for s in &self.steps[first..] {
            match &s.latency_ms {
                None => misses.push(format!("c={}: no login succeeded", s.concurrency)),
                Some(l) => {
                    let bound = self.p99_bound_ms(s);
                    // False for a NaN bound (no throughput): no bound met.
                    let within = l.p99 <= bound;
                    if !within {
                        misses.push(format!(
                            "c={}: p99 {} above the bound {}",
                            s.concurrency,
                            seconds(l.p99),
                            seconds(bound)
                        ));
                    }
                }
            }
        }
        if misses.is_empty() {
            Judgement::Pass
        } else {
            Judgement::Miss(misses)
        }
    }

    pub fn measure(&self) -> String {
        format!(
            "ramp: logins at 1 → {} connections against the hashing queue ({} running + {} waiting): \
             503 with Retry-After past it, the admitted logins' p99 bounded",
            self.top(),
            self.hash_concurrency,
            self.queue
        )
    }

    /// The summary's figure: where the 503s began, the p99 against its bound where it came
    /// closest, the 503s' form and the other failures.
    pub fn figure(&self) -> String {
        let shed: usize = self.steps.iter().map(|s| s.shed).sum();
        let malformed: usize = self.steps.iter().map(|s| s.shed_malformed).sum();
        let other: usize = self.steps.iter().map(Step::other).sum();
        let failures: usize = self.steps.iter().map(|s| s.connection_failures).sum();
        let tail = format!("{other} other errors, {failures} connection failures");
        let Some(first) = self.first_shed() else {
            return format!(
                "no 503 up to c={}: the ramp did not reach the queue's limit; {tail}",
                self.top()
            );
        };
        let form = if malformed == 0 {
            "all with Retry-After and the envelope".to_string()
        } else {
            format!("{malformed} without Retry-After or the envelope")
        };
        let closest = self.steps[first..]
            .iter()
            .filter_map(|s| Some((s, s.latency_ms?.p99 / self.p99_bound_ms(s))))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let p99 = match closest {
            Some((s, ratio)) => format!(
                "p99 {} ÷ bound {} = {ratio:.2} (c={})",
                seconds(s.latency_ms.map_or(f64::NAN, |l| l.p99)),
                seconds(self.p99_bound_ms(s)),
                s.concurrency
            ),
            None => "no login succeeded beyond it".into(),
        };
        format!(
            "first 503 at c={} ({shed} 503s, {form}); {p99}; {tail}",
            self.steps[first].concurrency
        )
    }

    pub fn target(&self) -> String {
        format!(
            "from the first 503 on: p99 ≤ {} × (queue + permits) ÷ permits × per-login time; every 503 \
             with Retry-After and the envelope; no other error, no connection failure",
            self.p99_slack
        )
    }
}

fn seconds(ms: f64) -> String {
    if !ms.is_finite() {
        "—".into()
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

/// "503 ×2, 500 ×1".
fn statuses(counts: &BTreeMap<u16, usize>) -> String {
    counts
        .iter()
        .map(|(status, n)| format!("{status} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// 1, 2, 4, … below `max`, then `max`.
pub fn levels(max: usize) -> Vec<usize> {
    let max = max.max(1);
    let mut levels: Vec<usize> = std::iter::successors(Some(1usize), |c| c.checked_mul(2))
        .take_while(|&c| c < max)
        .collect();
    levels.push(max);
    levels
}

/// `Retry-After` in whole seconds, as Latch sends it.
pub fn retry_after_secs(value: Option<&str>) -> Option<u64> {
    value?.trim().parse().ok()
}

/// Whether a 503 is the shedding answer Latch documents: `Retry-After` in seconds, and Stytch's
/// envelope (`status_code` 503, a `request_id`, `error_type` `service_unavailable`,
/// `error_message`, `error_url`).
pub fn is_shed_answer(retry_after: Option<&str>, body: &[u8]) -> bool {
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    retry_after_secs(retry_after).is_some()
        && envelope["status_code"] == 503
        && envelope["request_id"].as_str().is_some_and(|id| !id.is_empty())
        && envelope["error_type"] == "service_unavailable"
        && envelope["error_message"].is_string()
        && envelope["error_url"].is_string()
}

/// An answer's `error_message`, or what its body was when it has none.
pub fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(envelope) => match envelope["error_message"].as_str() {
            Some(message) => message.to_string(),
            None => "(no error_message)".into(),
        },
        Err(_) => "(not JSON)".into(),
    }
}

/// "Max open files" of a `/proc/<pid>/limits`, the soft limit; `None` when unlimited or absent.
pub fn open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Fails when this process (and so the server it starts, which inherits the limit) cannot open
/// a connection each at `connections`.
fn check_open_files(connections: usize) -> anyhow::Result<()> {
    let need = connections as u64 + SPARE_FILES;
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    match open_files_limit(&limits) {
        Some(limit) if limit < need => bail!(
            "{connections} connections need about {need} open files in the bench and as many in the \
             server, but the limit is {limit}: raise it (`ulimit -n {need}`) or lower --ramp-max"
        ),
        _ => Ok(()),
    }
}

pub async fn run(binary: &Path, seconds_per_step: f64, max: usize) -> anyhow::Result<RampResults> {
    check_open_files(max)?;
    // Told to the server as the bench reads them (the defaults unless set), so both agree.
    let hashing = crate::argon::configured()?;
    let (concurrency, queue) = (hashing.concurrency.to_string(), hashing.queue.to_string());
    Server::measure(
        binary,
        &[("LATCH_HASH_CONCURRENCY", &concurrency), ("LATCH_HASH_QUEUE", &queue)],
        "ramp",
        async |server| {
            let http = crate::load::client(max)?;
            crate::login::create_users(&http, server, max).await?;
            let target = Arc::new(Target::new(http, server));
            // The hashing buffers allocated and the store's caches filled before the first step.
            step(&target, hashing.concurrency, Duration::from_secs(1)).await?;
            let duration = Duration::from_secs_f64(seconds_per_step);
            let mut steps = Vec::new();
            for concurrency in levels(max) {
                let s = step(&target, concurrency, duration).await?;
                eprintln!(
                    "ramp: c={concurrency}: {:.1} logins/s, p99 {}, {} 503s ({} malformed), {} other errors, {} connection failures",
                    s.throughput_rps,
                    s.latency_ms.map_or("—".into(), |l| seconds(l.p99)),
                    s.shed,
                    s.shed_malformed,
                    s.other(),
                    s.connection_failures
                );
                for (message, n) in &s.shed_messages {
                    eprintln!("ramp:   503 ×{n}: {message}");
                }
                steps.push(s);
            }
            Ok(RampResults {
                hash_concurrency: hashing.concurrency,
                queue: hashing.queue,
                seconds_per_step,
                users: max,
                client_timeout_s: crate::load::CLIENT_TIMEOUT.as_secs_f64(),
                p99_slack: P99_SLACK,
                steps,
            })
        },
    )
    .await
}

/// `concurrency` connections log in back to back for `duration` (`load::burst`); after a 503
/// each waits what `Retry-After` says (at most [`MAX_RETRY_AFTER`], and not past the step).
async fn step(target: &Arc<Target>, concurrency: usize, duration: Duration) -> anyhow::Result<Step> {
    let tally = Arc::new(Mutex::new(Step {
        concurrency,
        ..Step::default()
    }));
    let deadline = Instant::now() + duration;
    let (target, counts) = (target.clone(), tally.clone());
    let (latencies, _, elapsed) = crate::load::burst(concurrency, duration, move |connection| {
        let (target, tally) = (target.clone(), counts.clone());
        async move {
            let answered = match target.send(connection).await {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let retry_after = answer
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    answer.bytes().await.map(|body| (status, retry_after, body))
                }
                Err(e) => Err(e),
            };
            let (status, retry_after, body) = match answered {
                Ok(answer) => answer,
                Err(e) => {
                    let mut t = tally.lock().expect("ramp tally");
                    t.connection_failures += 1;
                    t.first_failure.get_or_insert_with(|| format!("{e:#}"));
                    return Ok(false);
                }
            };
            if (200..300).contains(&status) {
                return Ok(true);
            }
            if status == 503 {
                {
                    let mut t = tally.lock().expect("ramp tally");
                    t.shed += 1;
                    if !is_shed_answer(retry_after.as_deref(), &body) {
                        t.shed_malformed += 1;
                    }
                    *t.shed_messages.entry(error_message(&body)).or_default() += 1;
                }
                let wait = retry_after_secs(retry_after.as_deref()).map_or(Duration::from_secs(1), Duration::from_secs);
                tokio::time::sleep(
                    wait.min(MAX_RETRY_AFTER)
                        .min(deadline.saturating_duration_since(Instant::now())),
                )
                .await;
            } else {
                *tally
                    .lock()
                    .expect("ramp tally")
                    .other_errors
                    .entry(status)
                    .or_default() += 1;
            }
            Ok(false)
        }
    })
    .await?;
    let mut step = tally.lock().expect("ramp tally").clone();
    step.elapsed_s = elapsed;
    step.logins = latencies.len();
    step.throughput_rps = latencies.len() as f64 / elapsed;
    step.latency_ms = Summary::of(&latencies);
    Ok(step)
}

/// The report's section: every step, where the 503s began, the bound, the verdict.
pub fn section(r: &RampResults) -> String {
    let (n, q) = (r.hash_concurrency, r.queue);
    let mut out = format!(
        "`POST /v1/passwords/authenticate` (with a session), each connection as its own user ({} users: \
         more than the lockout threshold's logins at once to one account are refused 429 `user_locked` by \
         design, each counting as a failure until it succeeds), on `latch serve` (SQLite) with its default \
         hashing settings: {n} hashes at once (`LATCH_HASH_CONCURRENCY`), {q} more waiting \
         (`LATCH_HASH_QUEUE`); past {} logins admitted, the next is answered 503 `service_unavailable` \
         with `Retry-After` at once. The concurrency doubles from 1 to {}, {:.0} s a step, closed loop: each \
         connection sends its next login as soon as its answer is in; after a 503 it waits what \
         `Retry-After` says (at most {} s, not past the step), as a client should. Client timeout {:.0} s. \
         Latencies are the successful logins'.\n\n\
         Per-login time at a step = {n} ÷ its throughput (each of the {n} permits serves one login in \
         that time; below {n} connections, connections ÷ throughput). A login admitted last into a full queue waits ({q} + {n}) ÷ {n} of them, so from \
         the first 503 on the p99 is judged against {} × ({q} + {n}) ÷ {n} × the per-login time; a queue \
         without bound would make the wait grow with the connections (c ÷ throughput) instead.\n\n\
         | Connections | Logins | Logins/s | p50 | p99 | Per-login time | p99 bound | 503s | 503s with Retry-After and the envelope | Other errors | Connection failures |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        r.users,
        r.capacity(),
        r.top(),
        r.seconds_per_step,
        MAX_RETRY_AFTER.as_secs(),
        r.client_timeout_s,
        r.p99_slack
    );
    let first = r.first_shed();
    for (i, s) in r.steps.iter().enumerate() {
        let (p50, p99) = match &s.latency_ms {
            Some(l) => (seconds(l.median), seconds(l.p99)),
            None => ("—".into(), "—".into()),
        };
        let bound = match first {
            Some(f) if i >= f => seconds(r.p99_bound_ms(s)),
            _ => "—".into(),
        };
        let other = if s.other() == 0 {
            "0".to_string()
        } else {
            format!("{}: {}", s.other(), statuses(&s.other_errors))
        };
        out.push_str(&format!(
            "| {} | {} | {:.1} | {p50} | {p99} | {} | {bound} | {} | {} | {other} | {} |\n",
            s.concurrency,
            s.logins,
            s.throughput_rps,
            seconds(s.per_login_ms(n)),
            s.shed,
            s.shed - s.shed_malformed,
            s.connection_failures
        ));
    }
    if let Some(why) = r.steps.iter().find_map(|s| s.first_failure.as_ref()) {
        out.push_str(&format!(
            "\nThe first request without an answer: {}.\n",
            crate::report::cell(why)
        ));
    }
    let mut messages: BTreeMap<&str, usize> = BTreeMap::new();
    for (message, n) in r.steps.iter().flat_map(|s| &s.shed_messages) {
        *messages.entry(message).or_default() += n;
    }
    if !messages.is_empty() {
        let each: Vec<String> = messages
            .iter()
            .map(|(m, n)| format!("“{}” ×{n}", crate::report::cell(m)))
            .collect();
        out.push_str(&format!("\nThe 503s' messages: {}.\n", each.join(", ")));
    }
    match first {
        Some(f) => out.push_str(&format!("\nFirst 503 at c={}.", r.steps[f].concurrency)),
        None => out.push_str(&format!(
            "\nNo step was answered 503 up to c={}: the ramp did not reach the queue's limit ({} logins \
             admitted), so the shedding is not judged.",
            r.top(),
            r.capacity()
        )),
    }
    match r.judge() {
        Judgement::Pass => out.push_str(&format!(" Verdict: PASS ({}).\n", r.figure())),
        Judgement::NotReached => out.push_str(" Verdict: — (not reached).\n"),
        Judgement::Miss(why) => out.push_str(&format!(" Verdict: MISS: {}.\n", why.join("; "))),
    }
    out
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A step at `c` connections with `rps` logins/s, a p99 of `p99_ms`, `shed` 503s.
    pub fn step(c: usize, rps: f64, p99_ms: f64, shed: usize) -> Step {
        Step {
            concurrency: c,
            elapsed_s: 5.0,
            logins: (rps * 5.0) as usize,
            throughput_rps: rps,
            latency_ms: Summary::of(&[p99_ms / 2.0]).map(|mut s| {
                s.p99 = p99_ms;
                s.max = p99_ms;
                s
            }),
            shed,
            shed_messages: if shed > 0 {
                BTreeMap::from([(OVERLOADED.to_string(), shed)])
            } else {
                BTreeMap::new()
            },
            ..Step::default()
        }
    }

    const OVERLOADED: &str =
        "Latch is at its password-hashing capacity; nothing was changed. Retry the request shortly.";

    /// Two permits and a queue of 256 (a full queue: 258 logins admitted), at 80 logins/s: the
    /// per-login time is 25 ms and the bound 1.5 × 129 × 25 ms = 4.8375 s.
    pub fn fixture(top_p99_ms: f64, top_shed: usize) -> RampResults {
        RampResults {
            hash_concurrency: 2,
            queue: 256,
            seconds_per_step: 5.0,
            users: 512,
            client_timeout_s: 120.0,
            p99_slack: P99_SLACK,
            steps: vec![
                step(1, 40.0, 26.0, 0),
                step(256, 80.0, 3300.0, 0),
                step(512, 80.0, top_p99_ms, top_shed),
            ],
        }
    }

    #[test]
    fn the_ramp_doubles_to_its_top() {
        assert_eq!(levels(512), vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(levels(300), vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(levels(1), vec![1]);
        assert_eq!(levels(0), vec![1]);
    }

    #[test]
    fn shedding_with_a_bounded_wait_passes() {
        let r = fixture(3400.0, 1270);
        assert_eq!(r.capacity(), 258);
        assert!((r.steps[2].per_login_ms(2) - 25.0).abs() < 1e-9);
        assert!((r.p99_bound_ms(&r.steps[2]) - 4837.5).abs() < 1e-9);
        assert_eq!(r.judge(), Judgement::Pass);
        assert_eq!(
            r.figure(),
            "first 503 at c=512 (1270 503s, all with Retry-After and the envelope); p99 3.40 s ÷ bound 4.84 s \
             = 0.70 (c=512); 0 other errors, 0 connection failures"
        );
        let md = section(&r);
        assert!(
            md.contains("| 512 | 400 | 80.0 | 1.70 s | 3.40 s | 25.0 ms | 4.84 s | 1270 | 1270 | 0 | 0 |"),
            "{md}"
        );
        // Before the first 503 the wait is not judged: it grows with the connections by design.
        assert!(
            md.contains("| 256 | 400 | 80.0 | 1.65 s | 3.30 s | 25.0 ms | — | 0 | 0 | 0 | 0 |"),
            "{md}"
        );
        assert!(md.contains("First 503 at c=512. Verdict: PASS ("), "{md}");
    }

    #[test]
    fn a_wait_that_grows_past_the_queue_misses() {
        // 512 connections all queued: 256 logins' wait at 25 ms, twice the queue's.
        let r = fixture(6400.0, 10);
        assert_eq!(
            r.judge(),
            Judgement::Miss(vec!["c=512: p99 6.40 s above the bound 4.84 s".into()])
        );
        assert!(section(&r).contains("Verdict: MISS: c=512: p99 6.40 s above the bound 4.84 s."));
        // No login at all past the first 503 is no bounded wait either.
        let mut r = fixture(3400.0, 10);
        r.steps[2].latency_ms = None;
        r.steps[2].throughput_rps = 0.0;
        assert_eq!(r.judge(), Judgement::Miss(vec!["c=512: no login succeeded".into()]));
        assert!(r.figure().contains("no login succeeded beyond it"), "{}", r.figure());
    }

    #[test]
    fn a_503_without_retry_after_or_envelope_and_any_other_failure_misses() {
        let mut r = fixture(3400.0, 100);
        r.steps[2].shed_malformed = 3;
        r.steps[1].other_errors = BTreeMap::from([(500, 2)]);
        r.steps[0].connection_failures = 1;
        r.steps[0].first_failure = Some("error sending request".into());
        assert_eq!(
            r.judge(),
            Judgement::Miss(vec![
                "c=1: 1 connection failures".into(),
                "c=256: 2 other errors (500 ×2)".into(),
                "c=512: 3 of 100 503s without Retry-After or the envelope".into(),
            ])
        );
        assert!(r.figure().contains("(100 503s, 3 without Retry-After or the envelope)"));
        let md = section(&r);
        assert!(md.contains("| 2: 500 ×2 |"), "{md}");
        assert!(
            md.contains("The first request without an answer: error sending request."),
            "{md}"
        );
    }

    #[test]
    fn a_503_from_elsewhere_than_the_hashing_queue_misses() {
        let mut r = fixture(3400.0, 100);
        r.steps[2].shed_messages = BTreeMap::from([
            (OVERLOADED.to_string(), 90),
            ("the database stayed locked for 5s".to_string(), 10),
        ]);
        assert_eq!(
            r.judge(),
            Judgement::Miss(vec!["c=512: 10 503s not from the hashing queue".into()])
        );
        assert!(section(&r).contains(
            "The 503s' messages: “Latch is at its password-hashing capacity; nothing was changed. Retry the \
             request shortly.” ×90, “the database stayed locked for 5s” ×10."
        ));
    }

    #[test]
    fn a_ramp_without_503_is_not_reached_rather_than_passed() {
        let r = fixture(3400.0, 0);
        assert_eq!(r.judge(), Judgement::NotReached);
        assert_eq!(r.judge().verdict(), "—");
        assert_eq!(
            r.figure(),
            "no 503 up to c=512: the ramp did not reach the queue's limit; 0 other errors, 0 connection failures"
        );
        assert!(section(&r).contains("the ramp did not reach the queue's limit (258 logins admitted)"));
        // ... unless something else failed.
        let mut r = r;
        r.steps[2].other_errors = BTreeMap::from([(429, 1)]);
        assert_eq!(r.judge().verdict(), "MISS");
    }

    #[test]
    fn only_latch_s_shedding_answer_counts_as_well_formed() {
        let body = br#"{"status_code":503,"request_id":"request-id-test-1","error_type":"service_unavailable",
            "error_message":"busy","error_url":"https://stytch.com/docs/api-reference/consumer/api/errors/503#service_unavailable"}"#;
        assert!(is_shed_answer(Some("1"), body));
        assert!(!is_shed_answer(None, body), "no Retry-After");
        assert!(!is_shed_answer(Some("soon"), body), "not seconds");
        let other = String::from_utf8_lossy(body).replace("service_unavailable\",", "internal_server_error\",");
        assert!(!is_shed_answer(Some("1"), other.as_bytes()), "another error type");
        assert!(!is_shed_answer(Some("1"), b"Service Unavailable"), "no envelope");
        assert!(!is_shed_answer(
            Some("1"),
            br#"{"status_code":503,"error_type":"service_unavailable"}"#
        ));
        assert_eq!(retry_after_secs(Some(" 2 ")), Some(2));
        assert_eq!(error_message(body), "busy");
        assert_eq!(error_message(b"Service Unavailable"), "(not JSON)");
    }

    #[test]
    fn the_open_files_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(open_files_limit(limits), Some(1024));
        assert_eq!(open_files_limit("Max open files unlimited unlimited files"), None);
        assert_eq!(open_files_limit(""), None);
    }
}
