//! `latch calibrate`: find argon2id parameters whose verify meets a target time on this machine,
//! and say what they mean for memory and for Lambda memory sizes (docs/performance.md).
//!
//! Every timing goes through `latch::hashing::Hasher::verify`, the code a login runs: the stored
//! PHC string is parsed, the verify runs on Tokio's blocking pool under a permit and hashes into
//! a reused buffer (the first hash of each candidate faults the buffer in and is not timed).
//!
//! The search never goes below OWASP's argon2id minimums (m=19456 KiB t=2, or m=47104 KiB t=1;
//! p=1). It raises memory first, since memory is what makes the hash expensive for an attacker's
//! hardware, and iterations only once memory reaches `--max-memory-kib`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use latch::config::HashSettings;
use latch::domain::Password;
use latch::hashing::Hasher;
use serde::Serialize;

/// OWASP Password Storage Cheat Sheet, argon2id: m=19456 KiB (19 MiB), t=2, p=1 ...
pub const OWASP_MIN_MEMORY_KIB: u32 = 19_456;
/// ... or the equivalent m=47104 KiB (46 MiB), t=1, p=1.
pub const OWASP_ONE_PASS_MEMORY_KIB: u32 = 47_104;
/// The most `LATCH_ARGON2_MEMORY_KIB` accepts (shared/src/config.rs).
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// The most `LATCH_ARGON2_ITERATIONS` accepts.
const MAX_ITERATIONS: u32 = 64;
/// Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion below (AWS Lambda
/// developer guide, "Configure Lambda function memory").
const LAMBDA_FULL_VCPU_MB: u32 = 1_769;
/// The template's bounds for HeavyFunctionMemory (infra/template.yaml).
const HEAVY_FUNCTION_MEMORY_MIN_MB: u32 = 256;
const HEAVY_FUNCTION_MEMORY_DEFAULT_MB: u32 = 1_769;
/// The share of the target a verify on Lambda is sized for.
const LAMBDA_HEADROOM: f64 = 0.9;
/// The memory sizes the Lambda table shows besides the suggestion.
const LAMBDA_TABLE_MB: [u32; 4] = [512, 1_024, 1_536, 1_769];
/// Candidates measured at most: keeps a run to seconds at the default target.
const MAX_CANDIDATES: usize = 8;
/// Predictions aim a little under the target, so that the next candidate lands inside it ...
const AIM: f64 = 0.95;
/// ... and a candidate within this share of the target ends the search.
const CLOSE_ENOUGH: f64 = 0.90;
/// Memory candidates are whole MiB.
const MEMORY_STEP_KIB: u32 = 1_024;
/// The password hashed and verified (its length does not change argon2's cost).
const PASSWORD: &str = "calibrate: correct horse battery staple";

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The verify time to stay within, in milliseconds, on this machine. The default, 50 ms,
    /// keeps a login (one verify) well under the ~100 ms people notice and lets one core serve
    /// 20 logins a second, while leaving room above OWASP's minimum on a current server core.
    #[arg(long, default_value_t = 50.0, value_parser = parse_target_ms)]
    pub target_ms: f64,
    /// The least memory per hash, in KiB: the search starts there. Never below OWASP's minimum,
    /// 19456 KiB (with t=2; from 47104 KiB, t=1 is allowed).
    #[arg(long, default_value_t = OWASP_MIN_MEMORY_KIB,
          value_parser = clap::value_parser!(u32).range(OWASP_MIN_MEMORY_KIB as i64..=MAX_MEMORY_KIB as i64))]
    pub min_memory_kib: u32,
    /// The most memory per hash, in KiB; iterations rise only once memory has reached it. The
    /// server holds the chosen memory × LATCH_HASH_CONCURRENCY, so this bounds that too.
    #[arg(long, default_value_t = 65_536,
          value_parser = clap::value_parser!(u32).range(OWASP_MIN_MEMORY_KIB as i64..=MAX_MEMORY_KIB as i64))]
    pub max_memory_kib: u32,
    /// argon2 lanes (LATCH_ARGON2_PARALLELISM). Latch's argon2 crate computes the lanes one after
    /// another, so more than 1 uses no more cores and does not make a verify faster: keep 1.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallelism: u32,
    /// Timed verifies per candidate; the median counts.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub samples: u32,
    /// Hashes at once on the server, for the memory figure (default: LATCH_HASH_CONCURRENCY if
    /// set, else this machine's cores, as for Latch itself).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub hash_concurrency: Option<u32>,
    /// Memory a Lambda function needs besides the hash (runtime, binary, clients, strength
    /// dictionaries), in MB, for the Lambda memory suggestion.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub lambda_baseline_mb: u32,
    /// Print one JSON document instead of the report (progress still goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn parse_target_ms(raw: &str) -> Result<f64, String> {
    let v: f64 = raw
        .trim()
        .parse()
        .map_err(|e| format!("not a number of milliseconds: {e}"))?;
    if !v.is_finite() || v <= 0.0 || v > 10_000.0 {
        return Err(format!("{raw} is outside 0 < ms <= 10000"));
    }
    Ok(v)
}

impl CalibrateArgs {
    /// What clap cannot check on one argument alone; fills `hash_concurrency` from
    /// LATCH_HASH_CONCURRENCY when not given (read as Latch reads it: empty means unset).
    pub fn validate(&mut self) -> Result<(), String> {
        if self.min_memory_kib > self.max_memory_kib {
            return Err(format!(
                "--min-memory-kib {} is above --max-memory-kib {}",
                self.min_memory_kib, self.max_memory_kib
            ));
        }
        if self.hash_concurrency.is_none() {
            let var = latch::config::vars::HASH_CONCURRENCY;
            if let Some(raw) = latch::config::Source::get(&latch::config::Env, var) {
                match raw.trim().parse::<u32>() {
                    Ok(n) if (1..=1024).contains(&n) => self.hash_concurrency = Some(n),
                    _ => return Err(format!("{var}={raw:?} is not a number in 1..=1024")),
                }
            }
        }
        Ok(())
    }
}

/// The least iterations OWASP's minimums allow at `memory_kib` (which is at least 19456).
fn iteration_floor(memory_kib: u32) -> u32 {
    if memory_kib >= OWASP_ONE_PASS_MEMORY_KIB {
        1
    } else {
        2
    }
}

fn meets_owasp(memory_kib: u32, iterations: u32) -> bool {
    (memory_kib >= OWASP_ONE_PASS_MEMORY_KIB && iterations >= 1)
        || (memory_kib >= OWASP_MIN_MEMORY_KIB && iterations >= 2)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Debug, Clone, Serialize)]
struct Candidate {
    /// `floor` (OWASP's minimum within the bounds), `memory` or `iterations`.
    phase: &'static str,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    samples_ms: Vec<f64>,
    within_target: bool,
}

#[derive(Debug, Serialize)]
struct Machine {
    arch: &'static str,
    os: &'static str,
    cores: usize,
    /// The argon2 implementation the measurements ran (`avx2`, `neon` or the portable crate).
    argon2_backend: &'static str,
    /// The 1-minute load average before and after the run (Linux; null elsewhere): other work
    /// on the cores makes every figure slower.
    load_before: Option<f64>,
    load_after: Option<f64>,
}

/// The 1-minute load average from /proc/loadavg, where there is one.
fn load_1min() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[derive(Debug, Clone, Copy, Serialize)]
struct Chosen {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct ServerMemory {
    per_hash_mib: f64,
    hash_concurrency: u32,
    /// Working memory of the hashes in flight at most: per hash × concurrency.
    hashing_mib: f64,
}

#[derive(Debug, Serialize)]
struct LambdaEstimate {
    memory_mb: u32,
    verify_ms: f64,
    within_target: bool,
    /// Whether this size holds the hash's memory plus the baseline.
    fits: bool,
}

#[derive(Debug, Serialize)]
struct Lambda {
    full_vcpu_mb: u32,
    /// A Lambda instance serves one request at a time, so at most one hash runs in it.
    hash_concurrency: u32,
    hash_memory_mb: u32,
    baseline_mb: u32,
    /// Memory for the hash and the baseline.
    memory_needed_mb: u32,
    /// The least memory (in steps of 64 MB) whose CPU share keeps a verify within 90% of the
    /// target, at most one full vCPU (null if even that is over the target: a one-lane verify
    /// gets no faster above it).
    cpu_for_target_mb: Option<u32>,
    /// HeavyFunctionMemory to deploy with (null if the target cannot be met on Lambda).
    suggested_heavy_function_memory_mb: Option<u32>,
    estimates: Vec<LambdaEstimate>,
    assumption: &'static str,
}

#[derive(Debug, Serialize)]
struct Report {
    target_ms: f64,
    samples: u32,
    min_memory_kib: u32,
    max_memory_kib: u32,
    measured_with: &'static str,
    machine: Machine,
    candidates: Vec<Candidate>,
    chosen: Chosen,
    met_target: bool,
    meets_owasp_minimum: bool,
    env: std::collections::BTreeMap<&'static str, String>,
    server_memory: ServerMemory,
    lambda: Lambda,
}

/// Times `samples` verifies of one stored hash at these parameters through Latch's Hasher.
async fn measure(
    phase: &'static str,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    args: &CalibrateArgs,
) -> anyhow::Result<Candidate> {
    let hasher: Arc<Hasher> = Hasher::new(HashSettings {
        memory_kib,
        iterations,
        parallelism,
        concurrency: 1,
        imported_concurrency: 1,
        queue: 0,
    })
    .map_err(|e| anyhow::anyhow!("argon2 parameters m={memory_kib} t={iterations} p={parallelism}: {e}"))?;
    let password = Password::parse(PASSWORD.to_string()).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Untimed: allocates and faults in the buffer the verifies then reuse.
    let stored = hasher
        .hash(&password)
        .await
        .map_err(|e| anyhow::anyhow!("hashing at m={memory_kib} t={iterations} p={parallelism}: {e}"))?;
    let mut samples_ms = Vec::with_capacity(args.samples as usize);
    for _ in 0..args.samples {
        let start = Instant::now();
        let verified = hasher
            .verify(&password, &stored)
            .await
            .map_err(|e| anyhow::anyhow!("verifying at m={memory_kib} t={iterations} p={parallelism}: {e}"))?;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(verified.matched(), "the hash just made did not verify");
        samples_ms.push(elapsed);
    }
    let mut sorted = samples_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let median = round2(median);
    let candidate = Candidate {
        phase,
        memory_kib,
        iterations,
        parallelism,
        median_ms: median,
        min_ms: round2(sorted[0]),
        max_ms: round2(sorted[n - 1]),
        samples_ms: samples_ms.into_iter().map(round2).collect(),
        within_target: median <= args.target_ms,
    };
    if !args.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "  m={:>7} KiB t={:>2} p={}: median {:>8.2} ms ({})",
            memory_kib,
            iterations,
            parallelism,
            candidate.median_ms,
            if candidate.within_target {
                "within target"
            } else {
                "over target"
            }
        );
    }
    Ok(candidate)
}

/// The search: OWASP's floor, then memory at the floor's iterations, then iterations at the
/// memory ceiling. Returns every candidate and the index of the chosen one.
async fn search(args: &CalibrateArgs) -> anyhow::Result<(Vec<Candidate>, usize)> {
    let p = args.parallelism;
    let target = args.target_ms;
    let aim = target * AIM;
    let mut tried: Vec<Candidate> = Vec::new();

    let m0 = args.min_memory_kib;
    let t0 = iteration_floor(m0);
    tried.push(measure("floor", m0, t0, p, args).await?);
    let mut best = 0usize;
    if !tried[best].within_target {
        // Even OWASP's minimum takes longer than the target here: report it, never go below.
        return Ok((tried, best));
    }

    // Memory first. Verify time grows about linearly with memory, so predict from the best
    // candidate within the target (and, once one was over, interpolate between the two).
    let mut over: Option<(u32, f64)> = None;
    while tried.len() < MAX_CANDIDATES {
        let b = &tried[best];
        if b.memory_kib >= args.max_memory_kib || b.median_ms >= CLOSE_ENOUGH * target {
            break;
        }
        let predicted = predict(b.memory_kib, b.median_ms, aim, over);
        let ceiling = match over {
            None => args.max_memory_kib,
            Some((m_over, _)) => args.max_memory_kib.min(m_over.saturating_sub(MEMORY_STEP_KIB)),
        };
        // Whole MiB (as `as` saturates, a huge prediction becomes u32::MAX, then the ceiling).
        let rounded = ((predicted / f64::from(MEMORY_STEP_KIB)).floor() as u32).saturating_mul(MEMORY_STEP_KIB);
        let m = rounded.min(ceiling);
        if m <= b.memory_kib {
            break;
        }
        let c = measure("memory", m, t0, p, args).await?;
        if c.within_target {
            tried.push(c);
            best = tried.len() - 1;
        } else {
            over = Some((c.memory_kib, c.median_ms.max(target)));
            tried.push(c);
        }
    }

    // Then iterations, only once memory is at its ceiling with time to spare.
    let mut over_t: Option<(u32, f64)> = None;
    while tried.len() < MAX_CANDIDATES {
        let b = &tried[best];
        if b.memory_kib < args.max_memory_kib || b.median_ms >= CLOSE_ENOUGH * target {
            break;
        }
        let predicted = predict(b.iterations, b.median_ms, aim, over_t);
        let ceiling = match over_t {
            None => MAX_ITERATIONS,
            Some((t_over, _)) => t_over.saturating_sub(1),
        };
        let t = (predicted.floor() as u32).min(ceiling);
        if t <= b.iterations {
            break;
        }
        let memory = b.memory_kib;
        let c = measure("iterations", memory, t, p, args).await?;
        if c.within_target {
            tried.push(c);
            best = tried.len() - 1;
        } else {
            over_t = Some((t, c.median_ms.max(target)));
            tried.push(c);
        }
    }
    Ok((tried, best))
}

fn machine(load_before: Option<f64>) -> Machine {
    Machine {
        arch: std::env::consts::ARCH,
        os: std::env::consts::OS,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        argon2_backend: latch_argon2::Backend::detect().name(),
        load_before,
        load_after: load_1min(),
    }
}

/// A p=1 verify (and p>1 too: the lanes run one after another) uses one core; below one full
/// vCPU a Lambda function gets CPU in proportion to its memory.
fn lambda_verify_ms(verify_ms: f64, memory_mb: u32) -> f64 {
    verify_ms * f64::from(LAMBDA_FULL_VCPU_MB) / f64::from(memory_mb.clamp(1, LAMBDA_FULL_VCPU_MB))
}

fn lambda(chosen: &Chosen, target_ms: f64, baseline_mb: u32) -> Lambda {
    let hash_memory_mb = chosen.memory_kib.div_ceil(1024);
    let memory_needed_mb = hash_memory_mb + baseline_mb;
    // With 10% headroom for noise and for a Lambda core a little slower than this one; a verify
    // that needs more than that gets a full vCPU (more gives a one-lane verify nothing).
    // Rounded up to a multiple of 64 MB.
    let cpu_for_target_mb = (chosen.median_ms <= target_ms).then(|| {
        let mb = (chosen.median_ms * f64::from(LAMBDA_FULL_VCPU_MB) / (LAMBDA_HEADROOM * target_ms)).ceil() as u32;
        mb.div_ceil(64).saturating_mul(64).clamp(64, LAMBDA_FULL_VCPU_MB)
    });
    let suggested = cpu_for_target_mb.map(|cpu| cpu.max(memory_needed_mb).max(HEAVY_FUNCTION_MEMORY_MIN_MB));
    let mut sizes: Vec<u32> = LAMBDA_TABLE_MB.to_vec();
    sizes.extend(suggested);
    sizes.sort_unstable();
    sizes.dedup();
    let estimates = sizes
        .into_iter()
        .map(|memory_mb| {
            let verify_ms = lambda_verify_ms(chosen.median_ms, memory_mb);
            LambdaEstimate {
                memory_mb,
                verify_ms: round2(verify_ms),
                within_target: verify_ms <= target_ms,
                fits: memory_mb >= memory_needed_mb,
            }
        })
        .collect();
    Lambda {
        full_vcpu_mb: LAMBDA_FULL_VCPU_MB,
        hash_concurrency: 1,
        hash_memory_mb,
        baseline_mb,
        memory_needed_mb,
        cpu_for_target_mb,
        suggested_heavy_function_memory_mb: suggested,
        estimates,
        assumption: "a Lambda vCPU as fast as one core of this machine; the functions run on arm64, \
                     where Latch's NEON argon2 code's speed is not measured: measure there to be sure",
    }
}

fn build_report(args: &CalibrateArgs, candidates: Vec<Candidate>, best: usize, load_before: Option<f64>) -> Report {
    let machine = machine(load_before);
    let b = &candidates[best];
    let chosen = Chosen {
        memory_kib: b.memory_kib,
        iterations: b.iterations,
        parallelism: b.parallelism,
        median_ms: b.median_ms,
        min_ms: b.min_ms,
        max_ms: b.max_ms,
    };
    let met_target = b.within_target;
    let hash_concurrency = args
        .hash_concurrency
        .unwrap_or_else(|| u32::try_from(machine.cores).unwrap_or(u32::MAX).clamp(1, 1024));
    let per_hash_mib = f64::from(chosen.memory_kib) / 1024.0;
    let env = [
        ("LATCH_ARGON2_MEMORY_KIB", chosen.memory_kib.to_string()),
        ("LATCH_ARGON2_ITERATIONS", chosen.iterations.to_string()),
        ("LATCH_ARGON2_PARALLELISM", chosen.parallelism.to_string()),
    ]
    .into_iter()
    .collect();
    let lambda = lambda(&chosen, args.target_ms, args.lambda_baseline_mb);
    Report {
        target_ms: args.target_ms,
        samples: args.samples,
        min_memory_kib: args.min_memory_kib,
        max_memory_kib: args.max_memory_kib,
        measured_with: "latch::hashing::Hasher::verify (blocking pool, reused buffer), as a login",
        meets_owasp_minimum: meets_owasp(chosen.memory_kib, chosen.iterations),
        server_memory: ServerMemory {
            per_hash_mib: round2(per_hash_mib),
            hash_concurrency,
            hashing_mib: round2(per_hash_mib * f64::from(hash_concurrency)),
        },
        machine,
        candidates,
        chosen,
        met_target,
        env,
        lambda,
    }
}

fn render_text(r: &Report) -> String {
    let mut o = String::new();
    let c = &r.chosen;
    let _ = writeln!(
        o,
        "argon2id calibration: verify within {} ms on this machine ({} {}, {} cores, argon2 {}), median of {} verifies per candidate",
        r.target_ms,
        r.machine.arch,
        r.machine.os,
        r.machine.cores,
        r.machine.argon2_backend,
        r.samples
    );
    let _ = writeln!(o, "measured through {}", r.measured_with);
    if let (Some(before), Some(after)) = (r.machine.load_before, r.machine.load_after) {
        let _ = writeln!(o, "load average (1 min): {before:.2} before, {after:.2} after");
        // The run itself keeps about one core busy.
        if before > 0.5 * r.machine.cores as f64 {
            let _ = writeln!(
                o,
                "warning: the machine was busy before the run: other work slows every figure; rerun on a quiet machine"
            );
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  {:<10} {:>10} {:>10} {:>2} {:>10} {:>10} {:>10}  result",
        "phase", "memory KiB", "iterations", "p", "median ms", "min ms", "max ms"
    );
    for cand in &r.candidates {
        let _ = writeln!(
            o,
            "  {:<10} {:>10} {:>10} {:>2} {:>10.2} {:>10.2} {:>10.2}  {}",
            cand.phase,
            cand.memory_kib,
            cand.iterations,
            cand.parallelism,
            cand.median_ms,
            cand.min_ms,
            cand.max_ms,
            if cand.within_target {
                "within target"
            } else {
                "over target"
            }
        );
    }
    let _ = writeln!(
        o,
        "\nchosen: m={} KiB ({:.1} MiB), t={}, p={}: verify median {:.2} ms (min {:.2}, max {:.2}), target {} ms",
        c.memory_kib,
        f64::from(c.memory_kib) / 1024.0,
        c.iterations,
        c.parallelism,
        c.median_ms,
        c.min_ms,
        c.max_ms,
        r.target_ms
    );
    if !r.met_target {
        let _ = writeln!(
            o,
            "warning: even the least the bounds allow takes longer than the target here; these are \
             the cheapest parameters calibrate will suggest (OWASP's minimum is the floor). Raise \
             --target-ms or run on a faster machine."
        );
    }
    let _ = writeln!(
        o,
        "OWASP minimum (m=19456 t=2 or m=47104 t=1, p=1): {}",
        if r.meets_owasp_minimum { "met" } else { "NOT met" }
    );
    if c.parallelism > 1 {
        let _ = writeln!(
            o,
            "note: p={} runs its lanes one after another in Latch's argon2 build: it uses no more cores than p=1.",
            c.parallelism
        );
    }
    let _ = writeln!(o, "\nSet (latch serve, and the Lambda functions' environment):");
    for k in [
        "LATCH_ARGON2_MEMORY_KIB",
        "LATCH_ARGON2_ITERATIONS",
        "LATCH_ARGON2_PARALLELISM",
    ] {
        if let Some(v) = r.env.get(k) {
            let _ = writeln!(o, "  {k}={v}");
        }
    }
    let m = &r.server_memory;
    let _ = writeln!(
        o,
        "\nServer memory: {:.1} MiB per hash in flight × LATCH_HASH_CONCURRENCY={} = {:.1} MiB of argon2 working memory at most",
        m.per_hash_mib, m.hash_concurrency, m.hashing_mib
    );
    let _ = writeln!(
        o,
        "(throughput at most {} cores ÷ {:.2} ms ≈ {:.0} verifies/s here).",
        r.machine.cores,
        c.median_ms,
        r.machine.cores as f64 * 1000.0 / c.median_ms.max(0.01)
    );
    let l = &r.lambda;
    let _ = writeln!(
        o,
        "\nAWS Lambda: CPU in proportion to memory, one full vCPU at {} MB; a verify uses one core, so it takes about {:.2} ms × {} ÷ memory (MB) below {} MB and no less above.",
        l.full_vcpu_mb, c.median_ms, l.full_vcpu_mb, l.full_vcpu_mb
    );
    let _ = writeln!(
        o,
        "One request at a time per instance: at most one hash in flight ({} MB for the hash + {} MB baseline = {} MB).",
        l.hash_memory_mb, l.baseline_mb, l.memory_needed_mb
    );
    let _ = writeln!(o, "  {:>10} {:>12}", "memory MB", "verify ≈ ms");
    for e in &l.estimates {
        let mut notes = Vec::new();
        if e.memory_mb == HEAVY_FUNCTION_MEMORY_DEFAULT_MB {
            notes.push("template default");
        }
        if Some(e.memory_mb) == l.suggested_heavy_function_memory_mb {
            notes.push("suggested");
        }
        if !e.fits {
            notes.push("too little memory");
        }
        notes.push(if e.within_target {
            "within target"
        } else {
            "over target"
        });
        let _ = writeln!(o, "  {:>10} {:>12.2}  {}", e.memory_mb, e.verify_ms, notes.join(", "));
    }
    match l.suggested_heavy_function_memory_mb {
        Some(mb) => {
            let _ = writeln!(
                o,
                "Suggested: HeavyFunctionMemory={mb} (sam deploy --parameter-overrides HeavyFunctionMemory={mb})"
            );
        }
        None => {
            let _ = writeln!(
                o,
                "No Lambda memory size keeps this verify within {} ms: above {} MB a one-lane verify gets no faster.",
                r.target_ms, l.full_vcpu_mb
            );
        }
    }
    let _ = writeln!(o, "Assumes {}.", l.assumption);
    let _ = writeln!(
        o,
        "On AWS: sam deploy --parameter-overrides Argon2MemoryKiB={} Argon2Iterations={} Argon2Parallelism={} (infra/template.yaml).",
        r.chosen.memory_kib, r.chosen.iterations, r.chosen.parallelism
    );
    o
}

/// The cost setting whose verify should take `aim` ms, given one within the target (`value`,
/// taking `ms`): verify time grows about linearly with memory and with iterations, so scale;
/// once a larger value was over the target (`over`), interpolate between the two instead.
fn predict(value: u32, ms: f64, aim: f64, over: Option<(u32, f64)>) -> f64 {
    match over {
        None => f64::from(value) * aim / ms.max(0.01),
        Some((value_over, ms_over)) => {
            f64::from(value) + (aim - ms) * f64::from(value_over.saturating_sub(value)) / (ms_over - ms).max(0.01)
        }
    }
}

/// Run `latch calibrate`.
pub async fn run(args: CalibrateArgs) -> anyhow::Result<()> {
    if !args.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "Calibrating argon2id: verify within {} ms, memory {}..={} KiB, p={}, {} samples per candidate",
            args.target_ms,
            args.min_memory_kib,
            args.max_memory_kib,
            args.parallelism,
            args.samples
        );
    }
    let load_before = load_1min();
    let (candidates, best) = search(&args).await?;
    let report = build_report(&args, candidates, best, load_before);
    let out = if args.json {
        let mut s = serde_json::to_string_pretty(&report).context("encoding the report")?;
        s.push('\n');
        s
    } else {
        render_text(&report)
    };
    // Not print!: a closed pipe is an error to report, not a panic.
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context("writing the report")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_floor() {
        assert_eq!(iteration_floor(19_456), 2);
        assert_eq!(iteration_floor(47_103), 2);
        assert_eq!(iteration_floor(47_104), 1);
        assert!(meets_owasp(19_456, 2) && meets_owasp(47_104, 1));
        assert!(!meets_owasp(19_456, 1) && !meets_owasp(18_432, 2));
    }

    #[test]
    fn lambda_scaling() {
        assert!((lambda_verify_ms(28.0, 1_769) - 28.0).abs() < 1e-9);
        assert!((lambda_verify_ms(28.0, 3_538) - 28.0).abs() < 1e-9);
        assert!((lambda_verify_ms(28.0, 884) - 28.0 * 1_769.0 / 884.0).abs() < 1e-9);
        let chosen = Chosen {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            median_ms: 25.0,
            min_ms: 25.0,
            max_ms: 25.0,
        };
        let l = lambda(&chosen, 50.0, 64);
        assert_eq!(l.hash_memory_mb, 19);
        // 25 × 1769 / (0.9 × 50) = 982.8, rounded up to 1024.
        assert_eq!(l.cpu_for_target_mb, Some(1_024));
        assert_eq!(l.suggested_heavy_function_memory_mb, Some(1_024));
        let fast = Chosen {
            median_ms: 2.0,
            ..chosen
        };
        // The CPU share alone would be 128 MB; the hash and the baseline need 83, the template 256.
        assert_eq!(lambda(&fast, 50.0, 64).suggested_heavy_function_memory_mb, Some(256));
        assert_eq!(lambda(&fast, 50.0, 400).suggested_heavy_function_memory_mb, Some(419));
        let near = Chosen {
            median_ms: 48.0,
            ..chosen
        };
        assert_eq!(lambda(&near, 50.0, 64).suggested_heavy_function_memory_mb, Some(1_769));
        let slow = Chosen {
            median_ms: 60.0,
            ..near
        };
        assert_eq!(lambda(&slow, 50.0, 64).suggested_heavy_function_memory_mb, None);
    }

    #[test]
    fn targets_are_checked() {
        assert!(parse_target_ms("50").is_ok());
        for bad in ["0", "-1", "NaN", "inf", "fast", "10001"] {
            assert!(parse_target_ms(bad).is_err(), "{bad}");
        }
    }
}
