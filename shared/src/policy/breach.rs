//! The breach check: HaveIBeenPwned's range API with k-anonymity.
//!
//! Only the first five hex digits of the password's SHA-1 leave the process; the answer lists
//! every known suffix under that prefix (padded with count-0 rows, which are ignored). Answers
//! are cached per prefix, so a password is looked up at most once per cache lifetime.
//!
//! A breaker guards the lookups (docs/security.md B4): after `breaker_threshold` consecutive failed
//! lookups the service is not asked for a cool-down, and each lookup skipped meanwhile is
//! `Unknown`, exactly like a failed one, so fail-open and fail-closed keep their meaning. After
//! the cool-down one trial lookup goes out; while it runs the others are still skipped. An outage
//! thus costs a few timeouts per cool-down instead of one per request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha1::{Digest, Sha1};

use crate::clock::Clock;
use crate::config::BreachSettings;
use crate::domain::Password;

/// What the breach service said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachStatus {
    Breached,
    NotBreached,
    /// The service could not be asked (timeout, error, garbage); the caller applies its policy.
    Unknown,
}

#[async_trait::async_trait]
pub trait BreachCheck: Send + Sync {
    async fn check(&self, password: &Password) -> BreachStatus;
}

/// Upper-case hex SHA-1, split into the 5-character prefix sent and the 35-character suffix kept.
pub fn sha1_prefix_suffix(password: &str) -> (String, String) {
    let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
    let (prefix, suffix) = digest.split_at(5);
    (prefix.to_string(), suffix.to_string())
}

/// How many prefixes are kept before the cache is emptied (each holds ~800 suffixes).
const CACHE_PREFIXES: usize = 4096;

/// When a prefix was fetched, and the breached suffixes under it.
type CachedRange = (Instant, Arc<HashSet<String>>);

pub struct HibpClient {
    http: reqwest::Client,
    base_url: String,
    /// How long an answer is trusted: new breaches are published over time, and a login should
    /// learn of one without a restart.
    cache_ttl: Duration,
    cache: Mutex<HashMap<String, CachedRange>>,
    breaker: Breaker,
}

/// Whether the service is being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BreakerState {
    /// Asked; `failures` consecutive lookups have failed.
    Closed { failures: u32 },
    /// Not asked before `until`; the first lookup then is a trial, and the next trial is due a
    /// cool-down later (so a trial whose request is dropped midway cannot wedge the breaker).
    Open { until: DateTime<Utc> },
}

/// The circuit breaker in front of the service. The cool-down runs on the injected clock.
pub struct Breaker {
    threshold: u32,
    cooldown: chrono::Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<BreakerState>,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown: chrono::Duration::from_std(cooldown).unwrap_or(chrono::Duration::seconds(30)),
            clock,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    /// Whether a lookup may go out now.
    pub fn allow(&self) -> bool {
        let now = self.clock.now();
        let mut state = self.state.lock().expect("breaker poisoned");
        match *state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                // This lookup is the trial; the others wait for its outcome or the next trial.
                *state = BreakerState::Open {
                    until: now + self.cooldown,
                };
                true
            }
            BreakerState::Open { .. } => false,
        }
    }

    /// The outcome of a lookup that went out.
    pub fn record(&self, answered: bool) {
        let now = self.clock.now();
        let mut state = self.state.lock().expect("breaker poisoned");
        *state = match (*state, answered) {
            (BreakerState::Closed { .. }, true) => BreakerState::Closed { failures: 0 },
            (BreakerState::Open { .. }, true) => {
                tracing::info!("breach service answers again: lookups resume");
                BreakerState::Closed { failures: 0 }
            }
            (BreakerState::Closed { failures }, false) if failures + 1 >= self.threshold => {
                tracing::warn!(
                    failures = failures + 1,
                    cooldown_seconds = self.cooldown.num_seconds(),
                    "breach service failing: lookups skipped for the cool-down (passwords count as unchecked)"
                );
                BreakerState::Open {
                    until: now + self.cooldown,
                }
            }
            (BreakerState::Closed { failures }, false) => BreakerState::Closed { failures: failures + 1 },
            (BreakerState::Open { .. }, false) => {
                tracing::debug!("breach service trial lookup failed: skipping for another cool-down");
                BreakerState::Open {
                    until: now + self.cooldown,
                }
            }
        };
    }
}

impl HibpClient {
    /// A client for `settings.base_url`, its breaker's cool-down on `clock`.
    pub fn new(settings: &BreachSettings, clock: Arc<dyn Clock>) -> Result<Self, reqwest::Error> {
        let (base_url, timeout, cache_ttl) = (settings.base_url.as_str(), settings.timeout, settings.cache_ttl);
        // reqwest is built without a crypto provider of its own (Cargo.toml): it takes the
        // process default, aws-lc. Installing it again is refused harmlessly, hence the `let _`.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_millis(750)))
            .user_agent("latch-breach-check")
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            cache_ttl,
            cache: Mutex::new(HashMap::new()),
            breaker: Breaker::new(settings.breaker_threshold, settings.breaker_cooldown, clock),
        })
    }

    async fn fetch(&self, prefix: &str) -> Result<Arc<HashSet<String>>, RangeError> {
        let url = format!("{}/range/{prefix}", self.base_url);
        let response = self
            .http
            .get(&url)
            .header("Add-Padding", "true")
            .send()
            .await
            // Without the URL: its path holds a piece of the password's SHA-1 (docs/security.md H2).
            .map_err(|e| RangeError::Request(e.without_url()))?;
        if !response.status().is_success() {
            return Err(RangeError::Status(response.status()));
        }
        let body = response.text().await.map_err(|e| RangeError::Body(e.without_url()))?;
        parse_range(&body).map(Arc::new)
    }
}

/// Why the range API gave no usable answer (the check then reports `Unknown`).
#[derive(Debug, thiserror::Error)]
pub enum RangeError {
    #[error("request failed: {0}")]
    Request(#[source] reqwest::Error),
    #[error("answered {0}")]
    Status(reqwest::StatusCode),
    #[error("body unreadable: {0}")]
    Body(#[source] reqwest::Error),
    #[error("malformed {part} in {line:?}")]
    Malformed { part: &'static str, line: String },
    #[error("malformed count in {line:?}: {source}")]
    Count {
        line: String,
        source: std::num::ParseIntError,
    },
}

/// Parse `SUFFIX:COUNT` lines, keeping suffixes with a count above zero. Any malformed line
/// makes the whole answer untrusted.
pub fn parse_range(body: &str) -> Result<HashSet<String>, RangeError> {
    let mut suffixes = HashSet::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let malformed = |part: &'static str| RangeError::Malformed {
            part,
            line: line.to_string(),
        };
        let (suffix, count) = line.split_once(':').ok_or_else(|| malformed("line"))?;
        let count: u64 = count.trim().parse().map_err(|source| RangeError::Count {
            line: line.to_string(),
            source,
        })?;
        if suffix.len() != 35 || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("suffix"));
        }
        if count > 0 {
            suffixes.insert(suffix.to_ascii_uppercase());
        }
    }
    Ok(suffixes)
}

#[async_trait::async_trait]
impl BreachCheck for HibpClient {
    async fn check(&self, password: &Password) -> BreachStatus {
        let (prefix, suffix) = sha1_prefix_suffix(password.expose());
        let cached = self
            .cache
            .lock()
            .expect("breach cache poisoned")
            .get(&prefix)
            .filter(|(at, _)| at.elapsed() < self.cache_ttl)
            .map(|(_, set)| set.clone());
        let suffixes = match cached {
            Some(s) => s,
            None if !self.breaker.allow() => {
                tracing::debug!("breach check skipped: the service failed repeatedly");
                return BreachStatus::Unknown;
            }
            None => match self.fetch(&prefix).await.inspect(|_| self.breaker.record(true)) {
                Ok(s) => {
                    let mut cache = self.cache.lock().expect("breach cache poisoned");
                    if cache.len() >= CACHE_PREFIXES {
                        cache.clear();
                    }
                    cache.insert(prefix, (Instant::now(), s.clone()));
                    s
                }
                Err(why) => {
                    self.breaker.record(false);
                    tracing::warn!(%why, "breach check unavailable");
                    return BreachStatus::Unknown;
                }
            },
        };
        if suffixes.contains(&suffix) {
            BreachStatus::Breached
        } else {
            BreachStatus::NotBreached
        }
    }
}

/// The breach check when it is switched off.
pub struct NoBreachCheck;

#[async_trait::async_trait]
impl BreachCheck for NoBreachCheck {
    async fn check(&self, _: &Password) -> BreachStatus {
        BreachStatus::NotBreached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sha1_as_hibp_expects() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
        let (p, s) = sha1_prefix_suffix("password");
        assert_eq!(p, "5BAA6");
        assert_eq!(s, "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    #[test]
    fn padding_rows_are_ignored_and_garbage_is_refused() {
        let body = "1E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\r\n0000000000000000000000000000000000A:0\r\n";
        let set = parse_range(body).unwrap();
        assert!(set.contains("1E4C9B93F3F0682250B6CF8331B7EE68FD8"));
        assert_eq!(set.len(), 1);
        assert!(parse_range("<html>oops</html>").is_err());
        assert!(parse_range("ABC:1").is_err());
    }

    fn breaker(threshold: u32) -> (Breaker, Arc<crate::clock::ManualClock>) {
        let clock = Arc::new(crate::clock::ManualClock::new(Utc::now()));
        (Breaker::new(threshold, Duration::from_secs(30), clock.clone()), clock)
    }

    /// SECURITY B4: `threshold` consecutive failures open the breaker for the cool-down.
    #[test]
    fn b4_consecutive_failures_open_the_breaker_for_the_cooldown() {
        let (b, clock) = breaker(3);
        for _ in 0..2 {
            assert!(b.allow());
            b.record(false);
        }
        // A success in between starts the count again.
        assert!(b.allow());
        b.record(true);
        for _ in 0..3 {
            assert!(b.allow());
            b.record(false);
        }
        assert!(!b.allow(), "open after three consecutive failures");
        clock.advance(chrono::Duration::seconds(29));
        assert!(!b.allow(), "still open within the cool-down");
    }

    /// SECURITY B4: after the cool-down, one trial at a time; a failed trial re-arms the
    /// cool-down, a successful one closes the breaker.
    #[test]
    fn b4_one_trial_after_the_cooldown_decides() {
        let (b, clock) = breaker(1);
        assert!(b.allow());
        b.record(false);
        assert!(!b.allow());
        clock.advance(chrono::Duration::seconds(30));
        assert!(b.allow(), "the trial");
        assert!(!b.allow(), "only one trial at a time");
        b.record(false);
        clock.advance(chrono::Duration::seconds(29));
        assert!(!b.allow(), "a failed trial starts another cool-down");
        clock.advance(chrono::Duration::seconds(1));
        assert!(b.allow(), "the next trial");
        b.record(true);
        assert!(b.allow() && b.allow(), "closed after a successful trial");
    }

    /// SECURITY B4: a trial whose lookup never reports (its request was dropped) does not keep
    /// the breaker open for good: another trial is due a cool-down later.
    #[test]
    fn b4_a_lost_trial_does_not_wedge_the_breaker() {
        let (b, clock) = breaker(1);
        b.record(false);
        clock.advance(chrono::Duration::seconds(30));
        assert!(b.allow());
        clock.advance(chrono::Duration::seconds(30));
        assert!(b.allow());
    }

    /// SECURITY B4: against a service that accepts connections and never answers, a client with
    /// the breaker asks `threshold` times and then skips, answering `Unknown` throughout.
    #[tokio::test]
    async fn b4_the_client_stops_asking_a_hanging_service() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            let mut held = vec![];
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(stream);
            }
        });
        let settings = BreachSettings {
            on_create: true,
            on_authenticate: true,
            base_url: url,
            timeout: Duration::from_millis(100),
            on_failure: crate::config::BreachFailure::Open,
            cache_ttl: Duration::ZERO,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(30),
        };
        let clock = Arc::new(crate::clock::ManualClock::new(Utc::now()));
        let client = HibpClient::new(&settings, clock).unwrap();
        let password = Password::parse("a password for the hanging service".into()).unwrap();
        for _ in 0..10 {
            assert_eq!(client.check(&password).await, BreachStatus::Unknown);
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
