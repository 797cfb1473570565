//! `latch calibrate` end to end: the binary with small memory bounds and targets chosen so the
//! search ends quickly. Only the structure of the output and the bounds are checked, never a
//! timing: which candidate is within the target depends on the machine and its load.

use std::process::{Command, Output};

use serde_json::Value;

const LATCH: &str = env!("CARGO_BIN_EXE_latch");

fn calibrate(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(LATCH);
    cmd.arg("calibrate")
        .args(args)
        .env_remove("LATCH_HASH_CONCURRENCY")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("latch calibrate runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json_run(args: &[&str], env: &[(&str, &str)]) -> Value {
    let out = calibrate(&[&["--json", "--quiet"], args].concat(), env);
    assert!(out.status.success(), "exit {:?}\n{}", out.status, stderr(&out));
    assert!(
        out.stderr.is_empty(),
        "--quiet prints nothing on stderr: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not an unsigned integer"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// What holds for every report: candidates inside the bounds and at or above OWASP's minimum,
/// the chosen one among them, the environment and the memory figures derived from it.
fn check_report(r: &Value, min_kib: u64, max_kib: u64, samples: usize) {
    let candidates = r["candidates"].as_array().expect("candidates");
    assert!(!candidates.is_empty() && candidates.len() <= 8, "{candidates:?}");
    assert_eq!(candidates[0]["phase"], "floor");
    assert_eq!(
        u(&candidates[0]["memory_kib"]),
        min_kib,
        "the search starts at the minimum"
    );
    for c in candidates {
        let (m, t) = (u(&c["memory_kib"]), u(&c["iterations"]));
        assert!((min_kib..=max_kib).contains(&m), "{c}");
        assert!(t >= if m >= 47_104 { 1 } else { 2 }, "OWASP floor: {c}");
        assert!(
            ["floor", "memory", "iterations"].contains(&c["phase"].as_str().unwrap()),
            "{c}"
        );
        let s = c["samples_ms"].as_array().unwrap();
        assert_eq!(s.len(), samples, "{c}");
        assert!(s.iter().all(|x| f(x) > 0.0));
        let (lo, med, hi) = (f(&c["min_ms"]), f(&c["median_ms"]), f(&c["max_ms"]));
        assert!(lo <= med && med <= hi, "{c}");
        assert_eq!(
            c["within_target"].as_bool().unwrap(),
            med <= f(&r["target_ms"]) + 0.01,
            "{c}"
        );
    }
    let chosen = &r["chosen"];
    let (m, t, p) = (
        u(&chosen["memory_kib"]),
        u(&chosen["iterations"]),
        u(&chosen["parallelism"]),
    );
    assert!((min_kib..=max_kib).contains(&m), "{chosen}");
    let picked = candidates
        .iter()
        .find(|c| u(&c["memory_kib"]) == m && u(&c["iterations"]) == t)
        .expect("the chosen parameters were measured");
    assert_eq!(picked["median_ms"], chosen["median_ms"]);
    assert_eq!(r["met_target"], picked["within_target"]);
    if r["met_target"] == true {
        // The best within the target: no other candidate within it has more memory, or as much
        // memory and more iterations.
        for c in candidates.iter().filter(|c| c["within_target"] == true) {
            let (cm, ct) = (u(&c["memory_kib"]), u(&c["iterations"]));
            assert!((cm, ct) <= (m, t), "{c} beats {chosen}");
        }
    } else {
        assert_eq!(candidates.len(), 1, "an unmet target stops at the floor");
    }
    // Memory first: iterations rise above the floor only at the memory ceiling.
    if t > if m >= 47_104 { 1 } else { 2 } {
        assert_eq!(m, max_kib, "{chosen}");
    }
    assert_eq!(r["meets_owasp_minimum"], true);
    assert_eq!(r["env"]["LATCH_ARGON2_MEMORY_KIB"], m.to_string());
    assert_eq!(r["env"]["LATCH_ARGON2_ITERATIONS"], t.to_string());
    assert_eq!(r["env"]["LATCH_ARGON2_PARALLELISM"], p.to_string());
    assert_eq!(r["env"].as_object().unwrap().len(), 3);

    let mem = &r["server_memory"];
    let per_hash = f(&mem["per_hash_mib"]);
    assert!((per_hash - m as f64 / 1024.0).abs() < 0.01, "{mem}");
    assert!((f(&mem["hashing_mib"]) - per_hash * u(&mem["hash_concurrency"]) as f64).abs() < 0.05);

    let l = &r["lambda"];
    assert_eq!(u(&l["full_vcpu_mb"]), 1769);
    assert_eq!(u(&l["hash_concurrency"]), 1);
    assert_eq!(u(&l["hash_memory_mb"]), m.div_ceil(1024));
    assert_eq!(
        u(&l["memory_needed_mb"]),
        u(&l["hash_memory_mb"]) + u(&l["baseline_mb"])
    );
    let estimates = l["estimates"].as_array().unwrap();
    assert!(estimates.iter().any(|e| u(&e["memory_mb"]) == 1769));
    let verify = f(&chosen["median_ms"]);
    for e in estimates {
        let mb = u(&e["memory_mb"]);
        let expect = verify * 1769.0 / mb.min(1769) as f64;
        assert!((f(&e["verify_ms"]) - expect).abs() <= 0.01 + expect * 1e-6, "{e}");
        assert_eq!(e["fits"].as_bool().unwrap(), mb >= u(&l["memory_needed_mb"]), "{e}");
    }
    match l["suggested_heavy_function_memory_mb"].as_u64() {
        Some(mb) => {
            assert_eq!(r["met_target"], true);
            assert!(mb >= 256 && mb >= u(&l["memory_needed_mb"]), "{l}");
            let e = estimates.iter().find(|e| u(&e["memory_mb"]) == mb).unwrap();
            assert_eq!(e["within_target"], true, "{e}");
            assert_eq!(e["fits"], true, "{e}");
        }
        None => {
            assert!(l["suggested_heavy_function_memory_mb"].is_null());
            assert_eq!(r["met_target"], false);
        }
    }
}

#[test]
fn an_unreachable_target_reports_the_floor_and_never_goes_below_it() {
    // 1 ms is below any argon2id at OWASP's minimum: the answer is the minimum given.
    let r = json_run(
        &[
            "--target-ms",
            "1",
            "--min-memory-kib",
            "20480",
            "--max-memory-kib",
            "24576",
            "--samples",
            "2",
        ],
        // Empty is unset, as Latch reads it: the machine's cores.
        &[("LATCH_HASH_CONCURRENCY", "")],
    );
    check_report(&r, 20_480, 24_576, 2);
    assert_eq!(r["met_target"], false);
    assert_eq!(u(&r["chosen"]["memory_kib"]), 20_480);
    assert_eq!(u(&r["chosen"]["iterations"]), 2);
    assert_eq!(u(&r["chosen"]["parallelism"]), 1);
    assert!(r["lambda"]["suggested_heavy_function_memory_mb"].is_null());
    for field in [
        "target_ms",
        "samples",
        "min_memory_kib",
        "max_memory_kib",
        "measured_with",
        "machine",
    ] {
        assert!(!r[field].is_null(), "{field}");
    }
    assert!(u(&r["machine"]["cores"]) >= 1);
    assert_eq!(r["server_memory"]["hash_concurrency"], r["machine"]["cores"]);
}

#[test]
fn memory_rises_to_its_ceiling_before_iterations() {
    // A generous target and a ceiling 2 MiB above the floor: memory reaches the ceiling, then
    // iterations rise. (t is capped at 64: a few hundred ms per verify at 21 MiB.)
    let r = json_run(
        &[
            "--target-ms",
            "5000",
            "--min-memory-kib",
            "19456",
            "--max-memory-kib",
            "21504",
            "--samples",
            "1",
        ],
        &[("LATCH_HASH_CONCURRENCY", "3")],
    );
    check_report(&r, 19_456, 21_504, 1);
    assert_eq!(
        u(&r["server_memory"]["hash_concurrency"]),
        3,
        "from LATCH_HASH_CONCURRENCY"
    );
    let phases: Vec<&str> = r["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["phase"].as_str().unwrap())
        .collect();
    // Whatever the timings, memory candidates come before iteration candidates.
    let first_iterations = phases.iter().position(|p| *p == "iterations").unwrap_or(phases.len());
    assert!(
        phases[first_iterations..].iter().all(|p| *p == "iterations"),
        "{phases:?}"
    );
}

#[test]
fn parallelism_and_one_pass_memory_are_carried_through() {
    // At m ≥ 47104 KiB OWASP allows t=1; p=2 is kept as given.
    let r = json_run(
        &[
            "--target-ms",
            "1",
            "--min-memory-kib",
            "47104",
            "--max-memory-kib",
            "47104",
            "--parallelism",
            "2",
            "--samples",
            "1",
            "--hash-concurrency",
            "5",
        ],
        &[("LATCH_HASH_CONCURRENCY", "7")],
    );
    check_report(&r, 47_104, 47_104, 1);
    assert_eq!(u(&r["chosen"]["iterations"]), 1);
    assert_eq!(u(&r["chosen"]["parallelism"]), 2);
    assert_eq!(r["env"]["LATCH_ARGON2_PARALLELISM"], "2");
    assert_eq!(
        u(&r["server_memory"]["hash_concurrency"]),
        5,
        "the option wins over the variable"
    );
}

#[test]
fn the_text_report_names_the_settings_and_the_lambda_memory() {
    let out = calibrate(
        &[
            "--target-ms",
            "1",
            "--min-memory-kib",
            "19456",
            "--max-memory-kib",
            "19456",
            "--samples",
            "1",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "argon2id calibration: verify within 1 ms",
        "floor",
        "chosen: m=19456 KiB",
        "t=2, p=1",
        "warning:",
        "OWASP minimum (m=19456 t=2 or m=47104 t=1, p=1): met",
        "  LATCH_ARGON2_MEMORY_KIB=19456\n",
        "  LATCH_ARGON2_ITERATIONS=2\n",
        "  LATCH_ARGON2_PARALLELISM=1\n",
        "LATCH_HASH_CONCURRENCY=",
        "AWS Lambda",
        "1769",
        "template default",
        "No Lambda memory size keeps this verify within 1 ms",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(stderr(&out).contains("m=  19456 KiB t= 2 p=1"), "progress on stderr");
}

/// Arguments, environment, and what the error must say.
type BadCase = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[test]
fn bad_arguments_are_refused_with_a_usage_error() {
    let cases: &[BadCase] = &[
        (&["--min-memory-kib", "8192"], &[], "--min-memory-kib"),
        (&["--min-memory-kib", "19455"], &[], "19456"),
        (&["--max-memory-kib", "99999999"], &[], "--max-memory-kib"),
        (
            &["--min-memory-kib", "40960", "--max-memory-kib", "20480"],
            &[],
            "--min-memory-kib 40960 is above --max-memory-kib 20480",
        ),
        (&["--target-ms", "0"], &[], "--target-ms"),
        (&["--target-ms=-5"], &[], "0 < ms <= 10000"),
        (&["--target-ms", "fast"], &[], "not a number of milliseconds"),
        (&["--target-ms", "NaN"], &[], "--target-ms"),
        (&["--target-ms", "100000"], &[], "0 < ms <= 10000"),
        (&["--samples", "0"], &[], "--samples"),
        (&["--parallelism", "0"], &[], "--parallelism"),
        (&["--parallelism", "65"], &[], "--parallelism"),
        (&["--hash-concurrency", "0"], &[], "--hash-concurrency"),
        (
            &[],
            &[("LATCH_HASH_CONCURRENCY", "lots")],
            "LATCH_HASH_CONCURRENCY=\"lots\"",
        ),
        (&[], &[("LATCH_HASH_CONCURRENCY", "0")], "LATCH_HASH_CONCURRENCY"),
        (&["--bogus"], &[], "--bogus"),
    ];
    for (args, env, needle) in cases {
        let out = calibrate(args, env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(err.contains("error:"), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {needle:?} missing from {err}");
        assert!(
            err.contains("Usage: latch calibrate") || err.contains("try '--help'"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
