//! The soak (issue 23): one `latch serve` (SQLite) under a mixed load for a fixed time —
//! password logins, session authenticates, strength checks and signups with fresh emails — from
//! [`CLIENTS`] clients; every answer but a 2xx counted by kind and status, and the server's memory
//! (`VmRSS`) after a warm-up, through the run and at its end, with its peak (`VmHWM`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::json;

use crate::hot_path::{field, post};
use crate::lambda::{mib, read_status};
use crate::report::ms;
use crate::server::Server;
use crate::stats::Summary;

/// Clients sending at once (the "about 6").
pub const CLIENTS: usize = 6;
/// The server's VmRSS at the end may exceed its VmRSS after the warm-up by the larger of this
/// share of the latter and [`RSS_GROWTH_MIB`].
pub const RSS_GROWTH_RATIO: f64 = 0.10;
pub const RSS_GROWTH_MIB: u64 = 16;

const PASSWORD: &str = "violet staple correct battery horse soak";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Login,
    Session,
    Strength,
    Signup,
}

const KINDS: [Kind; 4] = [Kind::Login, Kind::Session, Kind::Strength, Kind::Signup];

/// The requests in the order they are sent, over and over, each client taking the next from one
/// shared counter: half session authenticates (every page load of an app makes one), a quarter
/// strength checks (a signup form checks as it is typed in), an eighth each logins and signups
/// (one argon2 hash each: most of the CPU).
const MIX: [Kind; 8] = [
    Kind::Session,
    Kind::Login,
    Kind::Session,
    Kind::Strength,
    Kind::Session,
    Kind::Signup,
    Kind::Session,
    Kind::Strength,
];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Login => "login (`POST /v1/passwords/authenticate`, with a session)",
            Kind::Session => "session authenticate (`POST /v1/sessions/authenticate`, by token)",
            Kind::Strength => "strength check (`POST /v1/passwords/strength_check`)",
            Kind::Signup => "signup (`POST /v1/passwords`, a fresh email)",
        }
    }

    fn share(self) -> usize {
        MIX.iter().filter(|k| **k == self).count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct KindRow {
    pub kind: String,
    /// Sent, answered or not.
    pub requests: usize,
    /// Of the 2xx answers.
    pub latency_ms: Option<Summary>,
    /// The answers that were not 2xx, by status; 0 for none (the connection failed or timed out).
    pub errors: BTreeMap<u16, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SoakResults {
    pub clients: usize,
    /// The load before the run, not counted: the hashing buffers and the store's caches filled.
    pub warmup_s: f64,
    pub seconds: f64,
    /// Until the run's last request ended.
    pub elapsed_s: f64,
    /// The mix, e.g. "4 session authenticate : 2 strength check : 1 login : 1 signup".
    pub mix: String,
    pub kinds: Vec<KindRow>,
    /// The first request that had no answer, why.
    pub first_failure: Option<String>,
    /// VmRSS just after the warm-up, and just after the run, in KiB.
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    /// VmHWM after the run (the peak since the server started), in KiB.
    pub hwm_kib: u64,
    /// (seconds into the run, VmRSS in KiB), read through it.
    pub rss_samples: Vec<(f64, u64)>,
    pub rss_growth_ratio: f64,
    pub rss_growth_mib: u64,
}

impl SoakResults {
    pub fn requests(&self) -> usize {
        self.kinds.iter().map(|k| k.requests).sum()
    }

    fn errors_where(&self, which: impl Fn(u16) -> bool) -> usize {
        self.kinds
            .iter()
            .flat_map(|k| &k.errors)
            .filter(|(status, _)| which(**status))
            .map(|(_, n)| n)
            .sum()
    }

    /// Answers but a 2xx, and requests with no answer.
    pub fn errors(&self) -> usize {
        self.errors_where(|_| true)
    }

    pub fn server_errors(&self) -> usize {
        self.errors_where(|s| s >= 500)
    }

    pub fn unanswered(&self) -> usize {
        self.errors_where(|s| s == 0)
    }

    pub fn throughput_rps(&self) -> f64 {
        self.requests() as f64 / self.elapsed_s
    }

    /// How far VmRSS may grow over the run: the larger of the two bounds.
    pub fn rss_allowed_kib(&self) -> u64 {
        let share = (self.rss_start_kib as f64 * self.rss_growth_ratio).round() as u64;
        share.max(self.rss_growth_mib * 1024)
    }

    pub fn rss_growth_kib(&self) -> i64 {
        self.rss_end_kib as i64 - self.rss_start_kib as i64
    }

    /// PASS with no error at all (a 5xx is one).
    pub fn errors_verdict(&self) -> &'static str {
        if self.errors() == 0 {
            "PASS"
        } else {
            "MISS"
        }
    }

    pub fn rss_verdict(&self) -> &'static str {
        if self.rss_growth_kib() <= self.rss_allowed_kib() as i64 {
            "PASS"
        } else {
            "MISS"
        }
    }

    pub fn errors_figure(&self) -> String {
        format!(
            "{} of {} requests ({} 5xx, {} without an answer); {:.0} req/s",
            self.errors(),
            self.requests(),
            self.server_errors(),
            self.unanswered(),
            self.throughput_rps()
        )
    }

    pub fn rss_figure(&self) -> String {
        let growth = self.rss_growth_kib();
        format!(
            "{} → {} ({:+.1} MiB, {:+.1} %); peak VmHWM {}",
            mib(self.rss_start_kib),
            mib(self.rss_end_kib),
            growth as f64 / 1024.0,
            growth as f64 * 100.0 / self.rss_start_kib as f64,
            mib(self.hwm_kib)
        )
    }

    pub fn rss_target(&self) -> String {
        format!(
            "growth ≤ max({:.0} %, {} MiB) = {}",
            self.rss_growth_ratio * 100.0,
            self.rss_growth_mib,
            mib(self.rss_allowed_kib())
        )
    }
}

pub async fn run(binary: &Path, seconds: f64) -> anyhow::Result<SoakResults> {
    Server::measure(binary, &[], "soak", async |server| drive(server, seconds).await).await
}

/// The warm-up before the run: a tenth of it, 2 to 10 s.
fn warmup_seconds(seconds: f64) -> f64 {
    (seconds / 10.0).clamp(2.0, 10.0)
}

#[derive(Default)]
struct Tally {
    requests: usize,
    latencies: Vec<f64>,
    errors: BTreeMap<u16, usize>,
}

#[derive(Default)]
struct Tallies {
    kinds: BTreeMap<Kind, Tally>,
    first_failure: Option<String>,
}

struct Load {
    http: reqwest::Client,
    base: String,
    project_id: String,
    secret: String,
    /// Each client's user: its email and session token.
    users: Vec<(String, String)>,
    next: AtomicUsize,
    tallies: Mutex<Tallies>,
}

impl Load {
    fn request(&self, client: usize, kind: Kind, n: usize) -> reqwest::RequestBuilder {
        let (email, token) = &self.users[client % self.users.len()];
        let (path, body) = match kind {
            Kind::Login => (
                "/v1/passwords/authenticate",
                json!({"email": email, "password": PASSWORD, "session_duration_minutes": 60}),
            ),
            Kind::Session => ("/v1/sessions/authenticate", json!({"session_token": token})),
            Kind::Strength => (
                "/v1/passwords/strength_check",
                json!({"password": format!("{n} soak strength {PASSWORD}")}),
            ),
            Kind::Signup => (
                "/v1/passwords",
                json!({"email": format!("soak-signup-{n}@example.com"), "password": format!("{PASSWORD} {n}")}),
            ),
        };
        self.http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.project_id, Some(&self.secret))
            .json(&body)
    }

    /// The next request of [`MIX`], sent and counted; whether it was answered with a 2xx.
    async fn send(&self, client: usize) -> bool {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let kind = MIX[n % MIX.len()];
        let sent = Instant::now();
        let answered = match self.request(client, kind, n).send().await {
            Ok(answer) => {
                let status = answer.status().as_u16();
                answer.bytes().await.map(|_| status)
            }
            Err(e) => Err(e),
        };
        let ms = sent.elapsed().as_secs_f64() * 1000.0;
        let mut tallies = self.tallies.lock().expect("soak tallies");
        let status = match answered {
            Ok(status) => status,
            Err(e) => {
                tallies.first_failure.get_or_insert_with(|| format!("{e:#}"));
                0
            }
        };
        let tally = tallies.kinds.entry(kind).or_default();
        tally.requests += 1;
        let ok = (200..300).contains(&status);
        if ok {
            tally.latencies.push(ms);
        } else {
            *tally.errors.entry(status).or_default() += 1;
        }
        ok
    }

    fn take(&self) -> Tallies {
        std::mem::take(&mut *self.tallies.lock().expect("soak tallies"))
    }
}

/// VmRSS and VmHWM of `pid`, in KiB.
fn memory(pid: u32) -> anyhow::Result<(u64, u64)> {
    match read_status(pid)? {
        (Some(rss), Some(hwm)) => Ok((rss, hwm)),
        _ => bail!("no VmRSS or VmHWM in /proc/{pid}/status"),
    }
}

/// VmRSS of `pid` every `every` until `duration` has passed.
async fn sample(pid: u32, duration: Duration, every: Duration) -> Vec<(f64, u64)> {
    let start = Instant::now();
    let mut samples = Vec::new();
    loop {
        tokio::time::sleep(every).await;
        let at = start.elapsed();
        if at > duration {
            return samples;
        }
        if let Ok((Some(rss), _)) = read_status(pid) {
            samples.push((at.as_secs_f64(), rss));
        }
    }
}

async fn burst(load: &Arc<Load>, duration: Duration) -> anyhow::Result<f64> {
    let load = load.clone();
    let (_, _, elapsed) = crate::load::burst(CLIENTS, duration, move |client| {
        let load = load.clone();
        async move { Ok(load.send(client).await) }
    })
    .await?;
    Ok(elapsed)
}

async fn drive(server: &Server, seconds: f64) -> anyhow::Result<SoakResults> {
    let http = crate::load::client(CLIENTS)?;
    let mut users = Vec::new();
    for client in 0..CLIENTS {
        let email = format!("soak-client-{client}@example.com");
        let created = post(
            &http,
            server,
            "/v1/passwords",
            json!({"email": email, "password": PASSWORD, "session_duration_minutes": 600}),
        )
        .await?;
        users.push((email, field(&created, "session_token")?));
    }
    let load = Arc::new(Load {
        http,
        base: server.base.clone(),
        project_id: server.project_id.clone(),
        secret: server.secret.clone(),
        users,
        next: AtomicUsize::new(0),
        tallies: Mutex::new(Tallies::default()),
    });
    let warmup = warmup_seconds(seconds);
    burst(&load, Duration::from_secs_f64(warmup)).await?;
    load.take();
    let pid = server.pid();
    let (rss_start, _) = memory(pid)?;
    let duration = Duration::from_secs_f64(seconds);
    let sampler = tokio::spawn(sample(
        pid,
        duration,
        Duration::from_secs_f64((seconds / 12.0).clamp(1.0, 10.0)),
    ));
    let elapsed = burst(&load, duration).await?;
    let (rss_end, hwm) = memory(pid)?;
    let rss_samples = sampler.await.context("VmRSS sampler")?;
    let mut tallies = load.take();
    let kinds = KINDS
        .iter()
        .map(|&kind| {
            let tally = tallies.kinds.remove(&kind).unwrap_or_default();
            KindRow {
                kind: kind.label().to_string(),
                requests: tally.requests,
                latency_ms: Summary::of(&tally.latencies),
                errors: tally.errors,
            }
        })
        .collect();
    let mut mix: Vec<Kind> = KINDS.to_vec();
    mix.sort_by_key(|k| std::cmp::Reverse(k.share()));
    let results = SoakResults {
        clients: CLIENTS,
        warmup_s: warmup,
        seconds,
        elapsed_s: elapsed,
        mix: mix
            .iter()
            .map(|k| format!("{} {}", k.share(), k.label().split(" (").next().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" : "),
        kinds,
        first_failure: tallies.first_failure,
        rss_start_kib: rss_start,
        rss_end_kib: rss_end,
        hwm_kib: hwm,
        rss_samples,
        rss_growth_ratio: RSS_GROWTH_RATIO,
        rss_growth_mib: RSS_GROWTH_MIB,
    };
    eprintln!(
        "soak: {:.0} s: {}; VmRSS {}",
        seconds,
        results.errors_figure(),
        results.rss_figure()
    );
    Ok(results)
}

/// "0", or the count and each status's share ("3: 503 ×2, no answer ×1").
fn errors_cell(errors: &BTreeMap<u16, usize>) -> String {
    let total: usize = errors.values().sum();
    if total == 0 {
        return "0".into();
    }
    let each: Vec<String> = errors
        .iter()
        .map(|(status, n)| match status {
            0 => format!("no answer ×{n}"),
            s => format!("{s} ×{n}"),
        })
        .collect();
    format!("{total}: {}", each.join(", "))
}

/// The report's section: each kind's requests, rate, latency and errors, the memory, the verdicts.
pub fn section(s: &SoakResults) -> String {
    let mut out = format!(
        "`latch serve` (SQLite, breach checks off) under a mixed load from {} clients for {:.0} s, after \
         {:.0} s of the same load not counted; closed loop: each client sends its next request as soon as \
         its answer is in. The requests go round in the proportions {}: logins and session \
         authenticates as the client's own user (created with a session before the load), every signup \
         with a fresh email, so the store grows through the run. An error is any answer but a 2xx, or \
         none (a failed or timed-out connection); latencies are of the 2xx answers. Target: no error, \
         no 5xx, and VmRSS at the end within the bound of VmRSS after the warm-up.\n\n\
         | Kind | Requests | req/s | p50 | p99 | Errors |\n|---|---|---|---|---|---|\n",
        s.clients, s.seconds, s.warmup_s, s.mix
    );
    for k in &s.kinds {
        let (p50, p99) = match &k.latency_ms {
            Some(l) => (ms(l.median), ms(l.p99)),
            None => ("—".into(), "—".into()),
        };
        out.push_str(&format!(
            "| {} | {} | {:.1} | {p50} | {p99} | {} |\n",
            k.kind,
            k.requests,
            k.requests as f64 / s.elapsed_s,
            errors_cell(&k.errors)
        ));
    }
    out.push_str(&format!(
        "| all | {} | {:.1} | | | {} ({} 5xx) |\n",
        s.requests(),
        s.throughput_rps(),
        s.errors(),
        s.server_errors()
    ));
    if let Some(why) = &s.first_failure {
        out.push_str(&format!(
            "\nThe first request without an answer: {}.\n",
            crate::report::cell(why)
        ));
    }
    let samples: Vec<String> = s
        .rss_samples
        .iter()
        .map(|(at, kib)| format!("{at:.0} s: {:.1}", *kib as f64 / 1024.0))
        .collect();
    out.push_str(&format!(
        "\nServer memory (`/proc/<pid>/status`): VmRSS {} just after the warm-up, {} just after the run \
         ({:+.1} MiB; target {}); peak VmHWM {} (since the server started, the setup and warm-up included). \
         VmRSS through the run, MiB: {}.\n\nVerdicts: errors {}, memory {}.\n",
        mib(s.rss_start_kib),
        mib(s.rss_end_kib),
        s.rss_growth_kib() as f64 / 1024.0,
        s.rss_target(),
        mib(s.hwm_kib),
        if samples.is_empty() {
            "not read".to_string()
        } else {
            samples.join(", ")
        },
        s.errors_verdict(),
        s.rss_verdict()
    ));
    out
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A soak of 60 s with no error, VmRSS from `start` to `end` MiB.
    pub fn fixture(start_mib: u64, end_mib: u64) -> SoakResults {
        let row = |kind: Kind, requests: usize| KindRow {
            kind: kind.label().into(),
            requests,
            latency_ms: Summary::of(&[1.0, 2.0, 3.0]),
            errors: BTreeMap::new(),
        };
        SoakResults {
            clients: CLIENTS,
            warmup_s: 6.0,
            seconds: 60.0,
            elapsed_s: 60.0,
            mix: "4 session authenticate : 2 strength check : 1 login : 1 signup".into(),
            kinds: vec![
                row(Kind::Login, 600),
                row(Kind::Session, 2400),
                row(Kind::Strength, 1200),
                row(Kind::Signup, 600),
            ],
            first_failure: None,
            rss_start_kib: start_mib * 1024,
            rss_end_kib: end_mib * 1024,
            hwm_kib: (end_mib + 40) * 1024,
            rss_samples: vec![(5.0, start_mib * 1024), (10.0, end_mib * 1024)],
            rss_growth_ratio: RSS_GROWTH_RATIO,
            rss_growth_mib: RSS_GROWTH_MIB,
        }
    }

    #[test]
    fn the_mix_sends_every_kind() {
        assert_eq!(KINDS.iter().map(|k| k.share()).sum::<usize>(), MIX.len());
        assert!(KINDS.iter().all(|k| k.share() > 0));
    }

    #[test]
    fn a_clean_soak_within_the_memory_bound_passes() {
        let s = fixture(40, 50);
        assert_eq!(s.requests(), 4800);
        assert_eq!((s.errors_verdict(), s.rss_verdict()), ("PASS", "PASS"));
        assert_eq!(
            s.errors_figure(),
            "0 of 4800 requests (0 5xx, 0 without an answer); 80 req/s"
        );
        assert_eq!(
            s.rss_figure(),
            "40.0 MiB → 50.0 MiB (+10.0 MiB, +25.0 %); peak VmHWM 90.0 MiB"
        );
        let md = section(&s);
        assert!(
            md.contains(
                "| login (`POST /v1/passwords/authenticate`, with a session) | 600 | 10.0 | 2.00 ms | 2.98 ms | 0 |"
            ),
            "{md}"
        );
        assert!(md.contains("| all | 4800 | 80.0 | | | 0 (0 5xx) |"), "{md}");
        assert!(md.contains("Verdicts: errors PASS, memory PASS."), "{md}");
        assert!(
            md.contains("VmRSS through the run, MiB: 5 s: 40.0, 10 s: 50.0."),
            "{md}"
        );
    }

    #[test]
    fn the_memory_bound_is_the_larger_of_the_share_and_the_floor() {
        // Small: 16 MiB is the bound; 40 → 56 is at it, 40 → 57 beyond.
        assert_eq!(fixture(40, 56).rss_verdict(), "PASS");
        assert_eq!(fixture(40, 57).rss_verdict(), "MISS");
        assert_eq!(fixture(40, 57).rss_target(), "growth ≤ max(10 %, 16 MiB) = 16.0 MiB");
        // Large: 10 % of 400 MiB (40 MiB) is the bound.
        assert_eq!(fixture(400, 440).rss_verdict(), "PASS");
        assert_eq!(fixture(400, 441).rss_verdict(), "MISS");
        assert_eq!(fixture(400, 441).rss_target(), "growth ≤ max(10 %, 16 MiB) = 40.0 MiB");
        // Shrinking is within any bound.
        assert_eq!(fixture(50, 40).rss_verdict(), "PASS");
        assert!(section(&fixture(40, 57)).contains("Verdicts: errors PASS, memory MISS."));
    }

    #[test]
    fn any_error_misses_and_5xx_and_unanswered_are_told_apart() {
        let mut s = fixture(40, 41);
        s.kinds[0].errors = BTreeMap::from([(503, 2), (0, 1)]);
        s.kinds[3].errors = BTreeMap::from([(400, 1)]);
        s.first_failure = Some("error sending request | reset".into());
        assert_eq!((s.errors(), s.server_errors(), s.unanswered()), (4, 2, 1));
        assert_eq!(s.errors_verdict(), "MISS");
        assert_eq!(s.rss_verdict(), "PASS");
        let md = section(&s);
        assert!(md.contains("| 3: no answer ×1, 503 ×2 |"), "{md}");
        assert!(md.contains("| all | 4800 | 80.0 | | | 4 (2 5xx) |"), "{md}");
        assert!(md.contains("error sending request \\| reset"), "{md}");
        assert!(md.contains("Verdicts: errors MISS, memory PASS."), "{md}");
        // A 4xx alone is an error too.
        s.kinds[0].errors.clear();
        assert_eq!((s.errors(), s.server_errors(), s.errors_verdict()), (1, 0, "MISS"));
    }
}
