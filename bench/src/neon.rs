//! latch-argon2's NEON backend held equal to RFC 9106 and the argon2 crate (issue 20): read from
//! the log of `scripts/arm64-tests.sh`, which `scripts/bench.sh` runs first. On an x86_64 machine
//! those tests run under qemu-aarch64, where only correctness counts (every instruction is
//! translated, so no timing says anything about an arm64 CPU); NEON's speed against the portable
//! crate is the argon2 section's engine ÷ crate ratio on a machine that is arm64 itself.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// The test that fails on aarch64 unless NEON is the backend detected (argon2-engine/tests/equivalence.rs).
pub const NEON_TEST: &str = "neon_is_the_backend_on_aarch64";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NeonEquality {
    /// Tests passed and failed over every test binary of latch-argon2 on aarch64.
    pub passed: usize,
    pub failed: usize,
    /// Whether the test that asserts the NEON backend was detected ran and passed.
    pub neon_detected: bool,
    /// What ran them: qemu's version line, or "native" when the log names no emulator.
    pub runner: String,
}

impl NeonEquality {
    /// Every test passed, at least one ran, and NEON (not the portable fallback) was compared.
    pub fn met(&self) -> bool {
        self.failed == 0 && self.passed > 0 && self.neon_detected
    }
}

pub fn read(log: &Path) -> anyhow::Result<NeonEquality> {
    let text = std::fs::read_to_string(log).with_context(|| log.display().to_string())?;
    parse(&text).with_context(|| format!("{}: no test results in the arm64 tests' log", log.display()))
}

/// Sums cargo test's `test result:` lines; `None` when there are none (the stage failed before
/// any test ran: no cross linker, no qemu).
fn parse(log: &str) -> Option<NeonEquality> {
    let mut passed = 0;
    let mut failed = 0;
    let mut any = false;
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("test result: ") else {
            continue;
        };
        any = true;
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(kind), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<usize>() else {
                continue;
            };
            match kind {
                "passed" => passed += count,
                "failed" => failed += count,
                _ => {}
            }
        }
    }
    if !any {
        return None;
    }
    let neon_detected = log.lines().any(|l| l.trim() == format!("test {NEON_TEST} ... ok"));
    let runner = log
        .lines()
        .find_map(|l| l.split_once(" under ").map(|(_, r)| r.trim().to_string()))
        .unwrap_or_else(|| "native".to_string());
    Some(NeonEquality {
        passed,
        failed,
        neon_detected,
        runner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "[arm64-tests] cargo test -p latch-argon2 --target aarch64-unknown-linux-gnu under qemu-aarch64 version 7.2.19\n\
        running 2 tests\n\
        test tests::blocks ... ok\n\
        test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\
        running 6 tests\n\
        test neon_is_the_backend_on_aarch64 ... ok\n\
        test result: ok. 6 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 2.10s\n\
        test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";

    #[test]
    fn sums_every_test_binary_and_sees_the_neon_test() {
        let e = parse(LOG).unwrap();
        assert_eq!(
            e,
            NeonEquality {
                passed: 8,
                failed: 0,
                neon_detected: true,
                runner: "qemu-aarch64 version 7.2.19".into()
            }
        );
        assert!(e.met());
    }

    #[test]
    fn a_failure_or_a_missing_neon_test_is_not_met() {
        let failing = LOG.replacen("6 passed; 0 failed", "5 passed; 1 failed", 1);
        let e = parse(&failing).unwrap();
        assert_eq!((e.passed, e.failed), (7, 1));
        assert!(!e.met());
        let portable = LOG.replace("test neon_is_the_backend_on_aarch64 ... ok", "");
        assert!(!parse(&portable).unwrap().met());
    }

    #[test]
    fn a_log_without_results_is_none() {
        assert_eq!(parse("[arm64-tests] error: missing qemu-aarch64\n"), None);
    }
}
