//! `latch-bench`: measures what a login costs on this machine and writes `RESULTS.md`,
//! `results.json` and `login.svg` (issue 9). Run it through `scripts/bench.sh`.

mod argon;
mod hot_path;
mod imported;
mod lambda;
mod load;
mod login;
mod machine;
mod neon;
mod plot;
mod ramp;
mod report;
mod reset_timing;
mod results;
mod roundtrips;
mod server;
mod soak;
mod stats;
mod strength;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

const USAGE: &str = "latch-bench [options]: run from the repository root (scripts/bench.sh does)
  --out DIR            where RESULTS.md, results.json and login.svg go (default bench)
  --python PATH        a Python with argon2-cffi; without it the C reference is skipped
  --latch PATH         the latch binary to serve (default: latch beside this binary)
  --corpus PATH        strength corpus (default ../shared/data/zxcvbn-reference.jsonl)
  --login-seconds N    measured time per concurrency level (default 10)
  --functions DIR      the x86_64 Lambda function binaries: sized, and started for the cold starts
  --functions-arm64 DIR  the arm64 ones (cargo lambda build): sized
  --deployed FILE      a function binary in the deployed release profile, sized (repeatable)
  --cold-starts N      starts per function (default 5, --quick 2)
  --native-c PATH      the optimised C argon2 build (native.c; scripts/bench.sh compiles it)
  --arm64-tests LOG    the log of scripts/arm64-tests.sh: the NEON backend's equality row
  --moto URL           a moto server (scripts/emulator.sh): store round trips per flow on DynamoDB
  --quick              a short smoke run; its figures are not for the record
  --only imported      only the imported-hash rows (maxima, isolation), printed; no files written
  --only reset-timing  only the reset-start timing row (known vs unknown addresses), printed
  --only hot-path      only the session hot path rows (sessions/authenticate against a trivial route), printed
  --only round-trips   only the DynamoDB round trips per flow (needs --moto), printed
                       as JSON; writes no file
  --only soak          only the soak (mixed load for a fixed time, errors, the server's VmRSS), printed
  --only ramp          only the concurrency ramp (logins until the hashing queue answers 503), printed
  --soak-seconds N     the soak's measured time (default 60, --quick 10)
  --ramp-seconds N     the ramp's time per step (default 5, --quick 1.5)
  --ramp-max N         the ramp's top concurrency (default 512; it doubles from 1 to it)";

struct Args {
    out: PathBuf,
    python: Option<PathBuf>,
    latch: PathBuf,
    corpus: PathBuf,
    login_seconds: f64,
    quick: bool,
    moto: Option<String>,
    native_c: Option<PathBuf>,
    lambda: lambda::Options,
    cold_starts: Option<usize>,
    only: Option<String>,
    arm64_tests: Option<PathBuf>,
    soak_seconds: f64,
    ramp_seconds: f64,
    ramp_max: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        out: PathBuf::from("bench"),
        python: None,
        latch: std::env::current_exe()
            .context("locating this binary")?
            .with_file_name("latch"),
        corpus: PathBuf::from("../shared/data/zxcvbn-reference.jsonl"),
        login_seconds: 10.0,
        quick: false,
        moto: None,
        native_c: None,
        lambda: lambda::Options::new(false),
        cold_starts: None,
        only: None,
        arm64_tests: None,
        soak_seconds: 60.0,
        ramp_seconds: 5.0,
        ramp_max: ramp::DEFAULT_MAX,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => args.out = value()?.into(),
            "--python" => args.python = Some(value()?.into()),
            "--latch" => args.latch = value()?.into(),
            "--corpus" => args.corpus = value()?.into(),
            "--login-seconds" => args.login_seconds = value()?.parse().context("--login-seconds")?,
            "--quick" => args.quick = true,
            "--only" => args.only = Some(value()?),
            "--moto" => args.moto = Some(value()?),
            "--arm64-tests" => args.arm64_tests = Some(value()?.into()),
            "--native-c" => args.native_c = Some(value()?.into()),
            "--functions" => args.lambda.x86_64_dir = Some(value()?.into()),
            "--functions-arm64" => args.lambda.arm64_dir = Some(value()?.into()),
            "--deployed" => args.lambda.deployed.push(value()?.into()),
            "--soak-seconds" => args.soak_seconds = value()?.parse().context("--soak-seconds")?,
            "--ramp-seconds" => args.ramp_seconds = value()?.parse().context("--ramp-seconds")?,
            "--ramp-max" => args.ramp_max = value()?.parse().context("--ramp-max")?,
            "--cold-starts" => args.cold_starts = Some(value()?.parse().context("--cold-starts")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (see --help)"),
        }
    }
    if args.quick {
        args.login_seconds = args.login_seconds.min(2.0);
        args.lambda.cold_starts = lambda::Options::new(true).cold_starts;
        args.soak_seconds = args.soak_seconds.min(10.0);
        args.ramp_seconds = args.ramp_seconds.min(1.5);
    }
    if !(args.soak_seconds > 0.0 && args.ramp_seconds > 0.0) {
        bail!("--soak-seconds and --ramp-seconds take a time above 0");
    }
    if let Some(n) = args.cold_starts {
        args.lambda.cold_starts = n.max(1);
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    match args.only.as_deref() {
        Some("imported") => {
            let mut notes = Vec::new();
            let imported = imported::run(&args.latch, args.quick, &mut notes).await?;
            println!("{}", report::imported_section(Some(&imported)));
            for note in notes {
                println!("- {note}");
            }
            return Ok(());
        }
        Some("reset-timing") => {
            let timing = reset_timing::run(&args.latch).await?;
            println!("{}", serde_json::to_string_pretty(&timing)?);
            return Ok(());
        }
        Some("hot-path") => {
            let hot = hot_path::run(&args.latch, args.login_seconds.min(5.0)).await?;
            println!("{}", hot_path::section(&hot));
            return Ok(());
        }
        Some("round-trips") => {
            let moto = args.moto.as_deref().context("--only round-trips needs --moto URL")?;
            let counted = roundtrips::run(&args.latch, moto).await?;
            println!("{}", roundtrips::section(&counted));
            return Ok(());
        }
        Some("soak") => {
            let soak = soak::run(&args.latch, args.soak_seconds).await?;
            println!("{}\n{}", report::soak_table(&soak), soak::section(&soak));
            return Ok(());
        }
        Some("ramp") => {
            let ramp = ramp::run(&args.latch, args.ramp_seconds, args.ramp_max).await?;
            println!("{}\n{}", report::ramp_table(&ramp), ramp::section(&ramp));
            return Ok(());
        }
        Some(other) => {
            bail!(
                "--only {other}: the pieces that run alone are imported, reset-timing, hot-path, round-trips, soak and ramp"
            )
        }
        None => {}
    }
    let command = std::env::var("LATCH_BENCH_COMMAND").unwrap_or_else(|_| "latch-bench".into());
    let mut machine = machine::Machine::detect();
    let mut notes = Vec::new();
    if args.quick {
        notes.push("`--quick` smoke run: few samples; not figures for the record.".into());
    }

    let settings = argon::configured()?;
    let plan = if args.quick {
        argon::Plan {
            rounds: 2,
            per_round: 3,
        }
    } else {
        argon::Plan {
            rounds: 8,
            per_round: 8,
        }
    };
    let mut argon2 = argon::run(
        settings,
        plan,
        args.python.as_deref(),
        args.native_c.as_deref(),
        machine.cores,
    )
    .await?;
    if let Ok(info) = std::env::var("LATCH_BENCH_NATIVE_C_INFO") {
        if argon2.get("c_native_hash").is_some() {
            argon2.reference.insert("native".into(), info);
        }
    }
    if let Some(why) = argon2.reference.get("native skipped") {
        notes.push(format!("Optimised C argon2 not measured: {why}."));
    }
    if let Some(why) = argon2.reference.get("skipped") {
        notes.push(format!("C reference not measured: {why}."));
    }

    let strength = match strength::run(&args.corpus, args.quick).await {
        Ok(s) => {
            if let Some(note) = &s.corpus_note {
                notes.push(note.clone());
            }
            Some(s)
        }
        Err(e) => {
            notes.push(format!("strength check not measured: {e:#}"));
            None
        }
    };

    let login_plan = login::Plan {
        levels: vec![1, 2, 4, 16],
        duration: Duration::from_secs_f64(args.login_seconds),
        warmup: Duration::from_secs_f64((args.login_seconds / 5.0).clamp(0.5, 2.0)),
    };
    let login = match login::run(&args.latch, &login_plan, argon2.latch_verify_ms(), machine.cores).await {
        Ok(l) => {
            let errors: usize = l.levels.iter().map(|v| v.errors).sum();
            if errors > 0 {
                notes.push(format!(
                    "{errors} logins were answered with an error status; they are not in the latencies."
                ));
            }
            Some(l)
        }
        Err(e) => {
            notes.push(format!("login not measured: {e:#}"));
            None
        }
    };

    let reset_timing = match reset_timing::run(&args.latch).await {
        Ok(t) => Some(t),
        Err(e) => {
            notes.push(format!("reset-start timing not measured: {e:#}"));
            None
        }
    };

    let lambda = match lambda::run(&args.lambda).await {
        Ok(l) => Some(l),
        Err(e) => {
            notes.push(format!("Lambda functions not measured: {e:#}"));
            None
        }
    };

    let roundtrips = match &args.moto {
        Some(moto) => match roundtrips::run(&args.latch, moto).await {
            Ok(r) => Some(r),
            Err(e) => {
                notes.push(format!("store round trips not counted: {e:#}"));
                None
            }
        },
        None => {
            notes.push("store round trips not counted: no moto server (`--moto URL`).".into());
            None
        }
    };

    let imported = match imported::run(&args.latch, args.quick, &mut notes).await {
        Ok(i) => Some(i),
        Err(e) => {
            notes.push(format!("imported hashes not measured: {e:#}"));
            None
        }
    };

    let hot_path = match hot_path::run(&args.latch, args.login_seconds.min(5.0)).await {
        Ok(h) => Some(h),
        Err(e) => {
            notes.push(format!("session hot path not measured: {e:#}"));
            None
        }
    };

    let soak = match soak::run(&args.latch, args.soak_seconds).await {
        Ok(s) => Some(s),
        Err(e) => {
            notes.push(format!("soak not measured: {e:#}"));
            None
        }
    };

    let ramp = match ramp::run(&args.latch, args.ramp_seconds, args.ramp_max).await {
        Ok(r) => Some(r),
        Err(e) => {
            notes.push(format!("concurrency ramp not measured: {e:#}"));
            None
        }
    };

    let neon = match &args.arm64_tests {
        Some(log) => match neon::read(log) {
            Ok(n) => Some(n),
            Err(e) => {
                notes.push(format!("NEON backend's equality not read: {e:#}"));
                None
            }
        },
        None => {
            notes.push(
                "NEON backend's equality not read: no arm64 tests' log (`--arm64-tests LOG`, which scripts/bench.sh passes)."
                    .into(),
            );
            None
        }
    };

    machine.load_average_at_end = machine::load_average();
    if let Some(note) = machine.busy_note() {
        notes.push(note);
    }
    let results = results::Results {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        command,
        machine,
        argon2,
        strength,
        login,
        reset_timing,
        lambda,
        roundtrips,
        imported,
        hot_path,
        soak,
        ramp,
        neon,
        notes,
    };
    write(&args.out, &results)
}

fn write(dir: &Path, results: &results::Results) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let json = serde_json::to_string_pretty(results)?;
    std::fs::write(dir.join("results.json"), json + "\n").context("results.json")?;
    std::fs::write(dir.join("RESULTS.md"), report::render(results)).context("RESULTS.md")?;
    if let Some(l) = &results.login {
        let points: Vec<plot::Point> = l
            .levels
            .iter()
            .map(|v| plot::Point {
                concurrency: v.concurrency,
                throughput_rps: v.throughput_rps,
                p50_ms: v.latency_ms.median,
            })
            .collect();
        let svg = plot::login_svg(&points, l.cores, l.hashing_limit_rps, l.verify_ms);
        std::fs::write(dir.join("login.svg"), svg).context("login.svg")?;
    }
    eprintln!("wrote the results to {}", dir.display());
    Ok(())
}
