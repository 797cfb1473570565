//! What the figures were measured on: CPU, cores, memory, toolchain, build profile and flags.

use serde::Serialize;

/// The name of the Cargo profile the script builds with (see the root Cargo.toml).
pub const PROFILE: &str = "bench-release";
/// What that profile is, for the report.
pub const PROFILE_FLAGS: &str = "inherits release (opt-level \"z\", 3 for latch-argon2, argon2, blake2, zxcvbn and \
     its regex crates, and the imported-hash verifiers' crates; panic=unwind); lto=false, codegen-units=16, debug=false";

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    /// Logical CPUs this process may use.
    pub cores: usize,
    pub memory_mib: u64,
    pub kernel: String,
    pub rustc: String,
    pub profile: String,
    pub profile_flags: String,
    /// `RUSTFLAGS` as the build saw it (the script passes it through), empty when unset.
    pub rustflags: String,
    /// Whether this binary was built with debug assertions (it should not be).
    pub debug_assertions: bool,
    /// CPU features the argon2 crate can dispatch on at run time.
    pub cpu_features: Vec<String>,
    /// Load averages (1/5/15 min) when the run started and ended: other work on the machine
    /// skews every figure.
    pub load_average_at_start: String,
    pub load_average_at_end: String,
    /// This process's niceness; `latch serve` inherits it.
    pub nice: i32,
    /// `git describe --always --dirty` of the measured tree.
    pub git_commit: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            memory_mib: mem_total_kib(&meminfo).unwrap_or(0) / 1024,
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            rustc: command_output("rustc", &["--version"]),
            profile: PROFILE.into(),
            profile_flags: PROFILE_FLAGS.into(),
            rustflags: std::env::var("LATCH_BENCH_RUSTFLAGS").unwrap_or_default(),
            debug_assertions: cfg!(debug_assertions),
            cpu_features: cpu_features(),
            load_average_at_start: load_average(),
            load_average_at_end: String::new(),
            nice: nice(&read_trimmed("/proc/self/stat")).unwrap_or(0),
            git_commit: command_output("git", &["describe", "--always", "--dirty"]),
        }
    }

    /// A sentence for the report when other work competed for the CPUs. Judged by the load at the
    /// start only: by the end the bench's own login phase (client and server on every core) has
    /// raised the load average itself.
    pub fn busy_note(&self) -> Option<String> {
        let one_minute = self
            .load_average_at_start
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())?;
        (one_minute > 0.5 * self.cores as f64).then(|| {
            format!(
                "The machine was busy when the run started (1-minute load average {one_minute:.2} on {} cores): \
                 every figure, and the login ratios most, include time lost to other work. Rerun on a quiet \
                 machine for figures to compare.",
                self.cores
            )
        })
    }
}

pub fn load_average() -> String {
    read_trimmed("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn mem_total_kib(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Field 19 of `/proc/<pid>/stat`, counted after the command name (which may hold spaces).
fn nice(stat: &str) -> Option<i32> {
    stat.rsplit_once(')')?.1.split_whitespace().nth(16)?.parse().ok()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[allow(unused_mut)]
fn cpu_features() -> Vec<String> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        for (name, present) in [
            ("sse2", std::arch::is_x86_feature_detected!("sse2")),
            ("ssse3", std::arch::is_x86_feature_detected!("ssse3")),
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ] {
            if present {
                found.push(name.to_string());
            }
        }
    }
    // NEON (`asimd`) is part of every aarch64 CPU that runs Linux; listed so that a report from an
    // arm64 machine says what latch-argon2's NEON backend ran on.
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("neon") {
        found.push("neon".to_string());
    }
    found
}

#[cfg(test)]
mod tests {
    /// The report's description of the profile follows the root Cargo.toml.
    #[test]
    fn the_profile_description_matches_cargo_toml() {
        let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml")).unwrap();
        let release = manifest.split("[profile.release]").nth(1).unwrap();
        let opt_level = release
            .lines()
            .find_map(|l| l.strip_prefix("opt-level = "))
            .expect("the release profile sets opt-level");
        assert!(
            super::PROFILE_FLAGS.contains(&format!("opt-level {opt_level}")),
            "{opt_level} vs {}",
            super::PROFILE_FLAGS
        );
    }

    use super::*;

    #[test]
    fn reads_proc_formats() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(
            mem_total_kib("MemTotal:       24576000 kB\nMemFree: 1 kB\n"),
            Some(24_576_000)
        );
        assert_eq!(cpu_model(""), None);
        let stat = "123 (latch bench) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 39 19 1 0";
        assert_eq!(nice(stat), Some(19));
    }

    fn with_loads(start: &str, end: &str) -> Machine {
        let mut m = Machine::detect();
        m.cores = 2;
        m.load_average_at_start = start.into();
        m.load_average_at_end = end.into();
        m
    }

    #[test]
    fn only_the_load_before_the_run_makes_it_busy() {
        assert!(with_loads("0.21 1.24 2.02", "2.17 1.50 2.00").busy_note().is_none());
        let note = with_loads("1.74 2.39 3.22", "0.10 0.20 0.30").busy_note().unwrap();
        assert!(note.contains("1.74"), "{note}");
        assert!(with_loads("", "").busy_note().is_none());
    }
}
