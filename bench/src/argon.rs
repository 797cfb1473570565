//! argon2id at Latch's configured parameters: Latch's `Hasher` (through the blocking pool, as a
//! login uses it), its engine `latch-argon2` bare (reused memory, the backend this CPU picks), the
//! bare `argon2` crate (fresh and reused memory), the C reference
//! (argon2-cffi, in a Python subprocess) and the C reference's optimised implementation built
//! for this CPU (`native.c`, compiled by scripts/bench.sh). The batches alternate, round after
//! round, so whatever else the machine is doing hits every implementation alike.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use latch::config::{Env, HashSettings, Settings};
use latch::domain::Password;
use latch::hashing::Hasher;
use serde::{Deserialize, Serialize};

use crate::stats::Summary;

const PASSWORD: &str = "violet staple correct battery horse 42";
const SALT: [u8; 16] = *b"latch-bench-salt";
const REFERENCE_SCRIPT: &str = include_str!("reference.py");

/// How many rounds, and how many timed hashes of each implementation per round.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Plan {
    pub rounds: usize,
    pub per_round: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ArgonParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// `LATCH_HASH_CONCURRENCY`: hashes the server runs at once.
    pub concurrency: usize,
}

impl From<HashSettings> for ArgonParams {
    fn from(h: HashSettings) -> Self {
        Self {
            memory_kib: h.memory_kib,
            iterations: h.iterations,
            parallelism: h.parallelism,
            concurrency: h.concurrency,
        }
    }
}

/// The hashing settings `latch serve` would use here: its defaults, or the `LATCH_ARGON2_*`
/// variables when set, read by Latch's own configuration code.
pub fn configured() -> anyhow::Result<HashSettings> {
    let settings =
        Settings::from_source(&Env, "bench".into(), "bench".into(), vec![0; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(settings.hashing)
}

/// One implementation's timings.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub key: &'static str,
    pub label: &'static str,
    pub summary: Summary,
    pub raw_ms: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArgonResults {
    pub params: ArgonParams,
    pub plan: Plan,
    pub implementations: Vec<Measured>,
    /// Versions of the C reference and its Python, or why it was not measured.
    pub reference: BTreeMap<String, String>,
    pub fastest_key: &'static str,
    /// Median of Latch's hash ÷ median of the fastest hash measured.
    pub latch_hash_ratio: f64,
    /// Median of Latch's verify ÷ median of the fastest hash measured.
    pub latch_verify_ratio: f64,
    /// The bare engine on every core at once: what this machine's hashing really allows.
    pub parallel: Option<Parallel>,
    /// The implementation latch-argon2 runs on this CPU (`avx2`, `neon`, or the portable argon2 crate).
    pub latch_backend: &'static str,
}

/// `threads` threads each hashing with the bare engine (reused blocks) at once, once per round.
#[derive(Debug, Clone, Serialize)]
pub struct Parallel {
    pub threads: usize,
    pub hashes_per_thread: usize,
    /// Hashes per second, one figure per round.
    pub throughput_rps: Summary,
    /// Median throughput ÷ (threads ÷ the bare engine's single-thread median): 1.0 when hashes
    /// running side by side slow each other down not at all.
    pub ratio_to_limit: f64,
}

/// Hash `per_thread` times on each of `threads` threads at once; hashes per second.
fn parallel_batch(params: &Params, threads: usize, per_thread: usize) -> anyhow::Result<f64> {
    let start = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let engine = latch_argon2::Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                    let mut blocks = Vec::new();
                    let mut out = [0u8; 32];
                    for _ in 0..per_thread {
                        engine.hash_into(PASSWORD.as_bytes(), &SALT, &mut out, &mut blocks)?;
                    }
                    Ok::<(), argon2::Error>(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("a hashing thread panicked"))??;
        }
        Ok::<(), anyhow::Error>(())
    })?;
    Ok((threads * per_thread) as f64 / start.elapsed().as_secs_f64())
}

impl ArgonResults {
    pub fn get(&self, key: &str) -> Option<&Measured> {
        self.implementations.iter().find(|m| m.key == key)
    }

    /// Latch's engine bare ÷ the portable argon2 crate, both reusing blocks: on x86_64 the AVX2
    /// backend's gain, on an arm64 machine NEON's (issue 20).
    pub fn engine_over_portable(&self) -> Option<f64> {
        Some(self.get(ENGINE_REUSED)?.summary.median / self.get(CRATE_REUSED)?.summary.median)
    }

    /// One verify as Latch does it, the unit of the login ratios.
    pub fn latch_verify_ms(&self) -> f64 {
        self.get(LATCH_VERIFY).map(|m| m.summary.median).unwrap_or(f64::NAN)
    }
}

pub const LATCH_HASH: &str = "latch_hash";
pub const LATCH_VERIFY: &str = "latch_verify";
const ENGINE_REUSED: &str = "engine_reused";
const CRATE_FRESH: &str = "crate_fresh";
const CRATE_REUSED: &str = "crate_reused";
const C_HASH: &str = "c_reference_hash";
const C_VERIFY: &str = "c_reference_verify";
const C_NATIVE: &str = "c_native_hash";

fn label(key: &str) -> &'static str {
    match key {
        LATCH_HASH => "Latch `Hasher::hash` (blocking pool, PHC string)",
        LATCH_VERIFY => "Latch `Hasher::verify` (blocking pool, PHC string)",
        ENGINE_REUSED => "`latch-argon2` `hash_into` (reused blocks), Latch's engine bare",
        CRATE_FRESH => "`argon2` crate `hash_password_into` (fresh allocation)",
        CRATE_REUSED => "`argon2` crate `hash_password_into_with_memory` (reused blocks)",
        C_HASH => "C reference `hash_secret_raw` (argon2-cffi)",
        C_VERIFY => "C reference `verify_secret` (argon2-cffi)",
        C_NATIVE => "C reference, optimised `opt.c` built with `-O3 -march=native` (`argon2id_hash_raw`)",
        _ => "unknown",
    }
}

/// Keys that compute one hash, among which the fastest is the yardstick.
const HASH_KEYS: &[&str] = &[LATCH_HASH, ENGINE_REUSED, CRATE_FRESH, CRATE_REUSED, C_HASH, C_NATIVE];

#[derive(Deserialize)]
struct ReferenceRun {
    hash_ms: Vec<f64>,
    verify_ms: Vec<f64>,
    argon2_cffi: String,
    argon2_cffi_bindings: String,
    python: String,
}

#[derive(Deserialize)]
struct NativeRun {
    hash_ms: Vec<f64>,
}

pub async fn run(
    settings: HashSettings,
    plan: Plan,
    python: Option<&Path>,
    native: Option<&Path>,
    cores: usize,
) -> anyhow::Result<ArgonResults> {
    let hasher = Hasher::new(settings).context("argon2 parameters")?;
    let password = Password::parse(PASSWORD.to_string()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let stored = hasher.hash(&password).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, Some(32))
        .context("argon2 parameters")?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut blocks = vec![Block::default(); params.block_count()];
    let engine = latch_argon2::Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut engine_blocks = Vec::new();

    let mut raw: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut raw_parallel = Vec::new();
    let mut reference = BTreeMap::new();
    let mut python = python.map(Path::to_path_buf);
    if python.is_none() {
        reference.insert("skipped".into(), "no Python with argon2-cffi given (--python)".into());
    }
    let mut native = native.map(Path::to_path_buf);
    if native.is_none() {
        reference.insert(
            "native skipped".into(),
            "no optimised C build given (--native-c; scripts/bench.sh builds it with gcc)".into(),
        );
    }
    for round in 0..plan.rounds {
        // Rotate the order so no implementation always runs first after the Python batch.
        let mut order = [LATCH_HASH, LATCH_VERIFY, ENGINE_REUSED, CRATE_FRESH, CRATE_REUSED];
        let len = order.len();
        order.rotate_left(round % len);
        for key in order {
            let times = raw.entry(key).or_default();
            for _ in 0..plan.per_round {
                let start = Instant::now();
                match key {
                    LATCH_HASH => {
                        hasher.hash(&password).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    }
                    LATCH_VERIFY => {
                        let v = hasher
                            .verify(&password, &stored)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                        if v != (latch::hashing::Verified::Match { upgrade: None }) {
                            bail!("Latch's verify did not match its own hash: {v:?}");
                        }
                    }
                    ENGINE_REUSED => {
                        let mut out = [0u8; 32];
                        engine.hash_into(PASSWORD.as_bytes(), &SALT, &mut out, &mut engine_blocks)?;
                    }
                    CRATE_FRESH => {
                        let mut out = [0u8; 32];
                        argon2.hash_password_into(PASSWORD.as_bytes(), &SALT, &mut out)?;
                    }
                    _ => {
                        let mut out = [0u8; 32];
                        argon2.hash_password_into_with_memory(PASSWORD.as_bytes(), &SALT, &mut out, &mut blocks)?;
                    }
                }
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if let Some(py) = python.clone() {
            match reference_batch(&py, settings, plan.per_round) {
                Ok(run) => {
                    raw.entry(C_HASH).or_default().extend(run.hash_ms);
                    raw.entry(C_VERIFY).or_default().extend(run.verify_ms);
                    reference.insert("argon2-cffi".into(), run.argon2_cffi);
                    reference.insert("argon2-cffi-bindings".into(), run.argon2_cffi_bindings);
                    reference.insert("python".into(), run.python);
                }
                Err(e) => {
                    eprintln!("C reference not measured: {e:#}");
                    reference.insert("skipped".into(), format!("the Python subprocess failed: {e:#}"));
                    raw.remove(C_HASH);
                    raw.remove(C_VERIFY);
                    python = None;
                }
            }
        }
        raw_parallel.push(parallel_batch(&params, cores, plan.per_round)?);
        if let Some(bin) = native.clone() {
            match native_batch(&bin, settings, plan.per_round) {
                Ok(run) => raw.entry(C_NATIVE).or_default().extend(run.hash_ms),
                Err(e) => {
                    eprintln!("optimised C not measured: {e:#}");
                    reference.insert("native skipped".into(), format!("the optimised C build failed: {e:#}"));
                    raw.remove(C_NATIVE);
                    native = None;
                }
            }
        }
        eprintln!("argon2: round {}/{} done", round + 1, plan.rounds);
    }

    let implementations: Vec<Measured> = [
        LATCH_HASH,
        LATCH_VERIFY,
        ENGINE_REUSED,
        CRATE_FRESH,
        CRATE_REUSED,
        C_HASH,
        C_VERIFY,
        C_NATIVE,
    ]
    .into_iter()
    .filter_map(|key| {
        let times = raw.remove(key)?;
        Some(Measured {
            key,
            label: label(key),
            summary: Summary::of(&times)?,
            raw_ms: times,
        })
    })
    .collect();
    let fastest = implementations
        .iter()
        .filter(|m| HASH_KEYS.contains(&m.key))
        .min_by(|a, b| a.summary.median.total_cmp(&b.summary.median))
        .context("no hash measured")?;
    let (fastest_key, fastest_median) = (fastest.key, fastest.summary.median);
    let ratio = |key: &str| {
        implementations
            .iter()
            .find(|m| m.key == key)
            .map_or(f64::NAN, |m| m.summary.median / fastest_median)
    };
    let (latch_hash_ratio, latch_verify_ratio) = (ratio(LATCH_HASH), ratio(LATCH_VERIFY));
    let single_ms = implementations
        .iter()
        .find(|m| m.key == ENGINE_REUSED)
        .map_or(f64::NAN, |m| m.summary.median);
    let parallel = Summary::of(&raw_parallel).map(|throughput_rps| Parallel {
        threads: cores,
        hashes_per_thread: plan.per_round,
        ratio_to_limit: throughput_rps.median / (cores as f64 * 1000.0 / single_ms),
        throughput_rps,
    });
    Ok(ArgonResults {
        params: settings.into(),
        plan,
        implementations,
        reference,
        fastest_key,
        latch_hash_ratio,
        latch_verify_ratio,
        parallel,
        latch_backend: engine.backend().name(),
    })
}

fn reference_batch(python: &Path, s: HashSettings, iterations: usize) -> anyhow::Result<ReferenceRun> {
    let mut command = Command::new(python);
    command.arg("-c").arg(REFERENCE_SCRIPT);
    batch(command, s, iterations).context("the reference")
}

fn native_batch(binary: &Path, s: HashSettings, iterations: usize) -> anyhow::Result<NativeRun> {
    batch(Command::new(binary), s, iterations).context("the optimised C build")
}

/// Run a subprocess batch: `M_KIB T P N PASSWORD SALT_HEX` in, one JSON object out.
fn batch<T: serde::de::DeserializeOwned>(
    mut command: Command,
    s: HashSettings,
    iterations: usize,
) -> anyhow::Result<T> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command
        .args([
            s.memory_kib.to_string(),
            s.iterations.to_string(),
            s.parallelism.to_string(),
            iterations.to_string(),
            PASSWORD.to_string(),
            SALT.iter().map(|b| format!("{b:02x}")).collect(),
        ])
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    serde_json::from_slice(&out.stdout).context("parsing its JSON")
}
