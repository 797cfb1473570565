//! The breach check: HaveIBeenPwned's range API with k-anonymity.
//!
//! Only the first five hex digits of the password's SHA-1 leave the process; the answer lists
//! every known suffix under that prefix (padded with count-0 rows, which are ignored). Answers
//! are cached per prefix, so a password is looked up at most once per process lifetime.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

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
}

impl HibpClient {
    pub fn new(base_url: &str, timeout: Duration, cache_ttl: Duration) -> Result<Self, reqwest::Error> {
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
        })
    }

    async fn fetch(&self, prefix: &str) -> Result<Arc<HashSet<String>>, String> {
        let url = format!("{}/range/{prefix}", self.base_url);
        let response = self
            .http
            .get(&url)
            .header("Add-Padding", "true")
            .send()
            .await
            // Without the URL: its path holds a piece of the password's SHA-1 (SECURITY.md H2).
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let body = response
            .text()
            .await
            .map_err(|e| format!("body unreadable: {}", e.without_url()))?;
        parse_range(&body).map(Arc::new)
    }
}

/// Parse `SUFFIX:COUNT` lines, keeping suffixes with a count above zero. Any malformed line
/// makes the whole answer untrusted.
pub fn parse_range(body: &str) -> Result<HashSet<String>, String> {
    let mut suffixes = HashSet::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (suffix, count) = line.split_once(':').ok_or_else(|| format!("malformed line {line:?}"))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| format!("malformed count in {line:?}"))?;
        if suffix.len() != 35 || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("malformed suffix in {line:?}"));
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
            None => match self.fetch(&prefix).await {
                Ok(s) => {
                    let mut cache = self.cache.lock().expect("breach cache poisoned");
                    if cache.len() >= CACHE_PREFIXES {
                        cache.clear();
                    }
                    cache.insert(prefix, (Instant::now(), s.clone()));
                    s
                }
                Err(why) => {
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
}
