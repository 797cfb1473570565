//! Imported hashes (docs/security.md H4, H7; docs/migration.md): the accepted maximum of every kind,
//! timed against bcrypt cost 13 (the budget every kind is bounded by), and normal logins beside
//! parallel wrong logins at costly imported hashes (which verify on their own permits).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine as _;
use latch::hashing::budget;
use latch::hashing::imported::{self as limits, HashFields};
use latch::hashing::stored::{Pbkdf2Algorithm, StoredHash};
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::Server;
use crate::stats::Summary;

#[derive(Debug, Clone, Serialize)]
pub struct Maximum {
    pub kind: String,
    /// The parameters, as migrate takes them.
    pub parameters: String,
    /// The password's length in bytes (it matters for phpass only).
    pub password_bytes: usize,
    /// What `hashing::budget` estimates for it.
    pub estimated_ms: f64,
    pub verify_ms: Summary,
    /// Median verify ÷ bcrypt 13's median, measured here.
    pub ratio_to_budget: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Isolation {
    /// The costly imported hashes the wrong logins go to.
    pub accounts: Vec<String>,
    pub imported_workers: usize,
    pub imported_answers: usize,
    pub duration_s: f64,
    /// Normal (argon2) logins alone, one at a time.
    pub idle_ms: Summary,
    /// The same beside the wrong logins at imported hashes.
    pub loaded_ms: Summary,
    /// loaded p50 ÷ idle p50.
    pub p50_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedResults {
    pub budget_ms: f64,
    pub bcrypt13_ms: f64,
    pub maxima: Vec<Maximum>,
    pub isolation: Option<Isolation>,
}

/// Costly imported hashes of the isolation row, and the reference of the maxima: bcrypt 13 (a
/// syntactically valid hash; a wrong password costs the full 2^13 rounds whatever it holds).
const BCRYPT_13: &str = "$2b$13$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj.";
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn scrypt_body(n: u64, r: u64, p: u64) -> Value {
    json!({"hash_type": "scrypt", "hash": b64(&[3; 32]), "scrypt_config":
        {"salt": b64(b"saltsaltsaltsalt"), "n_parameter": n, "r_parameter": r, "p_parameter": p, "key_length": 32}})
}

/// The scrypt maximum in time: N = 2^14, r = 8 (Firebase's shape), p as high as the budget goes.
fn scrypt_time_max() -> (u64, u64, u64) {
    let (n, r) = (1u64 << 14, 8);
    (n, r, limits::SCRYPT_MAX_N_R_P / (n * r))
}

struct Case {
    kind: &'static str,
    parameters: String,
    migrate: Value,
    password_bytes: usize,
    estimated_ns: u64,
}

/// Every kind at the most it accepts, derived from the bounds in `latch::hashing`, so the bench
/// follows the code.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let cost = limits::bcrypt_max_cost();
    out.push(Case {
        kind: "bcrypt",
        parameters: format!("cost {cost}"),
        migrate: json!({"hash_type": "bcrypt", "hash": BCRYPT_13.replace("$13$", &format!("${cost:02}$"))}),
        password_bytes: 32,
        estimated_ns: budget::bcrypt_ns(cost),
    });
    let count = limits::phpass_max_count_log2();
    let long = budget::phpass_max_password_bytes(count).min(1024);
    out.push(Case {
        kind: "phpass",
        parameters: format!("2^{count} rounds, the longest password it verifies"),
        migrate: json!({"hash_type": "phpass",
            "hash": format!("$P${}LatchPL1eGaQ9vaazIU8n4g.FkPGN.", ITOA64[usize::from(count)] as char)}),
        password_bytes: long,
        estimated_ns: budget::phpass_ns(count, long),
    });
    for (name, algorithm, key, iteration_ns) in [
        (
            "sha256",
            Pbkdf2Algorithm::Sha256,
            32usize,
            budget::PBKDF2_SHA256_ITERATION_NS,
        ),
        (
            "sha512",
            Pbkdf2Algorithm::Sha512,
            64,
            budget::PBKDF2_SHA512_ITERATION_NS,
        ),
    ] {
        let iterations = limits::pbkdf2_max_iteration_blocks(algorithm);
        out.push(Case {
            kind: if key == 32 { "pbkdf_2 sha256" } else { "pbkdf_2 sha512" },
            parameters: format!("{iterations} iterations, {key}-byte key"),
            migrate: json!({"hash_type": "pbkdf_2", "hash": b64(&vec![5; key]), "pbkdf_2_config":
                {"salt": b64(b"p9aXQm2VfK4r"), "iteration_amount": iterations, "key_length": key, "algorithm": name}}),
            password_bytes: 32,
            estimated_ns: budget::pbkdf2_ns(iterations, key, key, iteration_ns),
        });
    }
    let (n, r, p) = scrypt_time_max();
    out.push(Case {
        kind: "scrypt (time)",
        parameters: format!("N=2^{}, r={r}, p={p}", n.trailing_zeros()),
        migrate: scrypt_body(n, r, p),
        password_bytes: 32,
        estimated_ns: budget::scrypt_ns(n, r, p),
    });
    // The most memory: N = 2^17 and the largest r within 128 MiB.
    let n = 1u64 << 17;
    let r = (1..64)
        .take_while(|&r| budget::scrypt_memory_bytes(n, r, 1) <= budget::MAX_MEMORY_BYTES)
        .last()
        .unwrap_or(1);
    out.push(Case {
        kind: "scrypt (memory)",
        parameters: format!(
            "N=2^17, r={r}, p=1 ({} MiB)",
            budget::scrypt_memory_bytes(n, r, 1) >> 20
        ),
        migrate: scrypt_body(n, r, 1),
        password_bytes: 32,
        estimated_ns: budget::scrypt_ns(n, r, 1),
    });
    let memory = limits::ARGON2_MAX_MEMORY_KIB;
    let iterations = limits::ARGON2_MAX_MEMORY_X_ITERATIONS / memory;
    out.push(Case {
        kind: "argon_2id",
        parameters: format!("m={memory} KiB, t={iterations}, p=1"),
        migrate: json!({"hash_type": "argon_2id", "hash": "ab".repeat(32), "argon_2_config":
            {"salt": "saltsaltsaltsalt", "iteration_amount": iterations, "memory": memory, "threads": 1, "key_length": 32}}),
        password_bytes: 32,
        estimated_ns: budget::argon2_ns(memory, iterations),
    });
    out.push(Case {
        kind: "sha_512 salted",
        parameters: "256-byte prepend and append salts".into(),
        migrate: json!({"hash_type": "sha_512", "hash": "0".repeat(128),
            "sha_512_config": {"prepend_salt": "p".repeat(256), "append_salt": "a".repeat(256)}}),
        password_bytes: 1024,
        estimated_ns: 0,
    });
    out
}

fn stored(case: &Case) -> anyhow::Result<StoredHash> {
    let fields: HashFields = serde_json::from_value(case.migrate.clone()).context("migrate body")?;
    fields
        .parse()
        .map_err(|e| anyhow::anyhow!("{} at its maximum ({}) is refused: {e}", case.kind, case.parameters))
}

/// Median of `runs` verifications of a wrong password, each on the blocking pool, one at a time.
async fn time_verify(hash: StoredHash, password_bytes: usize, runs: usize) -> anyhow::Result<Summary> {
    let hash = Arc::new(hash);
    let mut sample = Vec::new();
    for _ in 0..runs {
        let hash = hash.clone();
        let ms = tokio::task::spawn_blocking(move || {
            let password = vec![b'w'; password_bytes];
            let start = Instant::now();
            let matched = hash.verify(&password);
            (start.elapsed().as_secs_f64() * 1000.0, matched)
        })
        .await
        .context("verify thread")?;
        if ms.1 {
            bail!("a wrong password matched");
        }
        sample.push(ms.0);
    }
    Summary::of(&sample).context("no verification")
}

/// The accepted maximum of every kind, each `runs` times, against bcrypt 13 measured the same way.
pub async fn maxima(runs: usize) -> anyhow::Result<(f64, Vec<Maximum>)> {
    let reference: HashFields = serde_json::from_value(json!({"hash_type": "bcrypt", "hash": BCRYPT_13}))?;
    let reference = reference.parse().map_err(|e| anyhow::anyhow!("bcrypt 13: {e}"))?;
    let bcrypt13 = time_verify(reference, 32, runs).await?.median;
    eprintln!("imported: bcrypt 13 verify {bcrypt13:.1} ms (the budget's reference)");
    let mut out = Vec::new();
    for case in cases() {
        let hash = stored(&case)?;
        let summary = time_verify(hash, case.password_bytes, runs).await?;
        eprintln!(
            "imported: {} at its maximum ({}): {:.1} ms, {:.2} × bcrypt 13",
            case.kind,
            case.parameters,
            summary.median,
            summary.median / bcrypt13
        );
        out.push(Maximum {
            kind: case.kind.into(),
            parameters: case.parameters,
            password_bytes: case.password_bytes,
            estimated_ms: case.estimated_ns as f64 / 1e6,
            verify_ms: summary,
            ratio_to_budget: summary.median / bcrypt13,
        });
    }
    Ok((bcrypt13, out))
}

struct Client {
    http: reqwest::Client,
    base: String,
    project_id: String,
    secret: String,
}

impl Client {
    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<u16> {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.project_id, Some(&self.secret))
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = answer.status().as_u16();
        answer.bytes().await.context("answer")?;
        Ok(status)
    }

    async fn login(&self, email: &str, password: &str) -> anyhow::Result<u16> {
        self.post(
            "/v1/passwords/authenticate",
            &json!({"email": email, "password": password, "session_duration_minutes": 60}),
        )
        .await
    }
}

const NORMAL_EMAIL: &str = "normal-user@example.com";
const NORMAL_PASSWORD: &str = "violet staple correct battery horse";

/// Normal logins one after the other for `duration`: their latencies (ms).
async fn normal_logins(client: &Client, duration: Duration) -> anyhow::Result<Vec<f64>> {
    let deadline = Instant::now() + duration;
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let sent = Instant::now();
        let status = client.login(NORMAL_EMAIL, NORMAL_PASSWORD).await?;
        if status != 200 {
            bail!("a normal login answered {status}");
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

/// Normal logins alone, then beside `workers` parallel wrong logins at two costly imported
/// hashes (bcrypt 13 and scrypt at its time maximum), on a `latch serve` of its own.
pub async fn isolation(binary: &std::path::Path, workers: usize, duration: Duration) -> anyhow::Result<Isolation> {
    // The lockout would stop the wrong logins after 10; the bench needs them to go on.
    Server::measure(
        binary,
        &[("LATCH_LOCK_THRESHOLD", "1000")],
        "imported isolation",
        async |server| drive(server, workers, duration).await,
    )
    .await
}

async fn drive(server: &Server, workers: usize, duration: Duration) -> anyhow::Result<Isolation> {
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(workers + 2)
            .build()
            .context("HTTP client")?,
        base: server.base.clone(),
        project_id: server.project_id.clone(),
        secret: server.secret.clone(),
    });
    let created = client
        .post(
            "/v1/passwords",
            &json!({"email": NORMAL_EMAIL, "password": NORMAL_PASSWORD}),
        )
        .await?;
    if created != 200 {
        bail!("creating the normal user: {created}");
    }
    let (n, r, p) = scrypt_time_max();
    let imported = [
        ("bcrypt cost 13", json!({"hash_type": "bcrypt", "hash": BCRYPT_13})),
        ("scrypt at its time maximum", scrypt_body(n, r, p)),
    ];
    let mut emails = Vec::new();
    for (i, (name, hash)) in imported.iter().enumerate() {
        let email = format!("imported-{i}@example.com");
        let mut body = hash.clone();
        body["email"] = json!(email);
        let status = client.post("/v1/passwords/migrate", &body).await?;
        if status != 200 {
            bail!("migrating {name}: {status}");
        }
        emails.push(email);
    }
    // Warm up, then the idle figure.
    normal_logins(&client, Duration::from_secs(1)).await?;
    let idle = Summary::of(&normal_logins(&client, duration).await?).context("no idle login")?;
    eprintln!("imported: normal login alone, p50 {:.2} ms", idle.median);

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (client, stop, answers) = (client.clone(), stop.clone(), answers.clone());
            let email = emails[w % emails.len()].clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let status = client.login(&email, "a wrong password").await?;
                    if status != 401 {
                        bail!("a wrong login answered {status}");
                    }
                    answers.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    // Let the wrong logins fill the imported permits first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded = normal_logins(&client, duration).await;
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await.context("wrong-login worker")??;
    }
    let loaded = Summary::of(&loaded?).context("no loaded login")?;
    let ratio = loaded.median / idle.median;
    eprintln!(
        "imported: normal login beside {workers} wrong logins at imported hashes, p50 {:.2} ms ({ratio:.2} × idle), {} wrong logins answered",
        loaded.median,
        answers.load(Ordering::Relaxed)
    );
    Ok(Isolation {
        accounts: imported.iter().map(|(name, _)| name.to_string()).collect(),
        imported_workers: workers,
        imported_answers: answers.load(Ordering::Relaxed),
        duration_s: duration.as_secs_f64(),
        idle_ms: idle,
        loaded_ms: loaded,
        p50_ratio: ratio,
    })
}

/// Both parts; the isolation is left out (with the reason) when the server cannot be run.
pub async fn run(binary: &std::path::Path, quick: bool, notes: &mut Vec<String>) -> anyhow::Result<ImportedResults> {
    let (bcrypt13, maxima) = maxima(if quick { 1 } else { 3 }).await?;
    let duration = Duration::from_secs(if quick { 3 } else { 10 });
    let isolation = match isolation(binary, 8, duration).await {
        Ok(i) => Some(i),
        Err(e) => {
            notes.push(format!("imported-hash isolation not measured: {e:#}"));
            None
        }
    };
    Ok(ImportedResults {
        budget_ms: budget::BUDGET_NS as f64 / 1e6,
        bcrypt13_ms: bcrypt13,
        maxima,
        isolation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_maximum_is_accepted_and_within_the_budget() {
        for case in cases() {
            stored(&case).unwrap();
            assert!(budget::within(case.estimated_ns), "{}", case.kind);
        }
        assert_eq!(scrypt_time_max(), (1 << 14, 8, 13));
    }
}
