//! `RESULTS.md`: the machine, each ratio next to its target with PASS/MISS, then the detail.

use std::fmt::Write as _;

use crate::lambda::LambdaResults;
use crate::results::{targets, Results};
use crate::stats::Summary;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// Within `lo..=hi`.
    Between(f64, f64),
}

impl Target {
    pub fn verdict(self, value: f64) -> &'static str {
        match self {
            _ if value.is_nan() => "—",
            Target::AtMost(t) if value <= t => "PASS",
            Target::AtLeast(t) if value >= t => "PASS",
            Target::Between(lo, hi) if (lo..=hi).contains(&value) => "PASS",
            _ => "MISS",
        }
    }

    fn show(self, unit: &str) -> String {
        match self {
            Target::AtMost(t) => format!("≤ {t}{unit}"),
            Target::AtLeast(t) => format!("≥ {t}{unit}"),
            Target::Between(lo, hi) => format!("{lo}{unit} – {hi}{unit}"),
        }
    }
}

/// Arbitrary text (an adversarial password) as inline code inside a table cell: HTML, so neither
/// backticks nor pipes can end the span or the cell.
pub fn code(text: &str) -> String {
    let mut out = String::from("<code>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '\\' => out.push_str("&#92;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

/// Text of ours (it may hold `code spans`) safe inside a Markdown table cell: GitHub's tables
/// take `\|` as a pipe even inside a code span.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub(crate) fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.3} ms")
    } else {
        format!("{v:.2} ms")
    }
}

struct Row {
    measure: String,
    figure: String,
    target: String,
    verdict: &'static str,
}

fn row(measure: impl Into<String>, value: f64, figure: String, target: Target, unit: &str) -> Row {
    Row {
        measure: measure.into(),
        figure,
        target: target.show(unit),
        verdict: target.verdict(value),
    }
}

fn summary_rows(r: &Results) -> Vec<Row> {
    let a = &r.argon2;
    let fastest = a.get(a.fastest_key).map(|m| m.label).unwrap_or("?");
    let mut rows = vec![
        row(
            format!("argon2id: Latch hash ÷ fastest hash ({fastest})"),
            a.latch_hash_ratio,
            format!("{:.3}", a.latch_hash_ratio),
            Target::AtMost(targets::HASHER_RATIO),
            "",
        ),
        row(
            "argon2id: Latch verify ÷ fastest hash",
            a.latch_verify_ratio,
            format!("{:.3}", a.latch_verify_ratio),
            Target::AtMost(targets::HASHER_RATIO),
            "",
        ),
    ];
    if let Some(ratio) = a.engine_over_portable() {
        rows.push(Row {
            measure: format!(
                "argon2id: Latch's engine bare (`{}` backend) ÷ the portable argon2 crate, both reusing blocks",
                a.latch_backend
            ),
            figure: format!("{ratio:.3}"),
            target: "— (reported)".into(),
            verdict: "—",
        });
    }
    rows.push(neon_row(r.neon.as_ref()));
    match &r.strength {
        Some(s) => {
            if let Some(c) = &s.corpus {
                rows.push(row(
                    "strength check: median per estimate (corpus)",
                    c.summary.median,
                    ms(c.summary.median),
                    Target::AtMost(targets::STRENGTH_MEDIAN_MS),
                    " ms",
                ));
                rows.push(row(
                    "strength check: p99 per estimate (corpus)",
                    c.summary.p99,
                    ms(c.summary.p99),
                    Target::AtMost(targets::STRENGTH_P99_MS),
                    " ms",
                ));
            }
            rows.push(row(
                format!("strength check: worst adversarial input ({})", s.worst_family),
                s.worst_ms,
                ms(s.worst_ms),
                Target::AtMost(targets::STRENGTH_WORST_MS),
                " ms",
            ));
        }
        None => rows.push(not_measured("strength check", "see notes")),
    }
    match &r.login {
        Some(l) => {
            for level in &l.levels {
                if level.concurrency >= l.cores {
                    match &r.argon2.parallel {
                        Some(p) => {
                            let share = ceiling_share(level, p);
                            rows.push(row(
                                format!(
                                    "login c={}: throughput ÷ side-by-side hashing ceiling ({:.1} hashes/s on {} threads)",
                                    level.concurrency, p.throughput_rps.median, p.threads
                                ),
                                share,
                                format!("{share:.3}"),
                                Target::AtLeast(targets::CEILING_RATIO),
                                "",
                            ));
                        }
                        None => rows.push(not_measured(
                            &format!(
                                "login c={}: throughput ÷ side-by-side hashing ceiling",
                                level.concurrency
                            ),
                            "the side-by-side hashing was not measured",
                        )),
                    }
                }
                if level.concurrency <= l.cores {
                    rows.push(row(
                        format!("login c={}: p50 ÷ one verify", level.concurrency),
                        level.p50_ratio,
                        format!("{:.3}", level.p50_ratio),
                        Target::AtMost(targets::P50_RATIO),
                        "",
                    ));
                }
            }
        }
        None => rows.push(not_measured("login over HTTP", "see notes")),
    }
    rows.push(reset_timing_row(r.reset_timing.as_ref()));
    rows.extend(lambda_rows(r.lambda.as_ref()));
    rows.extend(roundtrip_rows(r.roundtrips.as_ref()));
    rows.extend(imported_rows(r.imported.as_ref()));
    rows.extend(hot_path_rows(r.hot_path.as_ref()));
    rows.extend(soak_rows(r.soak.as_ref()));
    rows.extend(ramp_rows(r.ramp.as_ref()));
    rows
}

/// The soak's rows: no error (a 5xx is one), and the server's memory within its bound.
fn soak_rows(s: Option<&crate::soak::SoakResults>) -> Vec<Row> {
    let Some(s) = s else {
        return vec![not_measured("soak: mixed load for a fixed time", "see notes")];
    };
    vec![
        Row {
            measure: format!(
                "soak: {:.0} s of mixed load from {} clients (logins, session authenticates, strength checks, \
                 signups): answers but a 2xx",
                s.seconds, s.clients
            ),
            figure: s.errors_figure(),
            target: "0 errors, 0 5xx".into(),
            verdict: s.errors_verdict(),
        },
        Row {
            measure: "soak: the server's VmRSS at the end against just after the warm-up".into(),
            figure: s.rss_figure(),
            target: s.rss_target(),
            verdict: s.rss_verdict(),
        },
    ]
}

/// The ramp's row: 503 past the queue, with Retry-After and the envelope, the wait bounded.
fn ramp_rows(r: Option<&crate::ramp::RampResults>) -> Vec<Row> {
    let Some(r) = r else {
        return vec![not_measured(
            "ramp: logins at rising concurrency against the hashing queue",
            "see notes",
        )];
    };
    vec![Row {
        measure: r.measure(),
        figure: r.figure(),
        target: r.target(),
        verdict: r.judge().verdict(),
    }]
}

/// The summary rows of the soak alone (`--only soak`), as in the report.
pub fn soak_table(s: &crate::soak::SoakResults) -> String {
    table(&soak_rows(Some(s)))
}

/// The summary row of the ramp alone (`--only ramp`), as in the report.
pub fn ramp_table(r: &crate::ramp::RampResults) -> String {
    table(&ramp_rows(Some(r)))
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from("| Measure | Figure | Target | Verdict |\n|---|---|---|---|\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&row.measure),
            cell(&row.figure),
            cell(&row.target),
            row.verdict
        );
    }
    out
}

/// latch-argon2's tests on aarch64: the NEON backend byte-equal to RFC 9106 and the crate.
fn neon_row(n: Option<&crate::neon::NeonEquality>) -> Row {
    let measure =
        "argon2id: NEON backend byte-equal to RFC 9106 and the argon2 crate (latch-argon2's tests on aarch64)";
    let Some(n) = n else {
        return not_measured(measure, "see notes");
    };
    let detected = if n.neon_detected {
        "NEON detected"
    } else {
        "NEON not the backend tested"
    };
    Row {
        measure: if n.runner == "native" {
            format!("{measure}, run natively")
        } else {
            format!(
                "{measure}, run by {}: correctness only, no speed under emulation",
                n.runner
            )
        },
        figure: format!("{} passed, {} failed, {detected}", n.passed, n.failed),
        target: "all pass, NEON detected".into(),
        verdict: if n.met() { "PASS" } else { "MISS" },
    }
}

/// One row per session route judged against the trivial route (issue 20), its p99 beside.
fn hot_path_rows(h: Option<&crate::hot_path::HotPathResults>) -> Vec<Row> {
    let Some(h) = h else {
        return vec![not_measured("session hot path", "see notes")];
    };
    h.rows
        .iter()
        .filter(|row| row.judged)
        .map(|route| {
            row(
                format!(
                    "session hot path: {} ÷ trivial route, throughput at {} connections (p99 {})",
                    route.route,
                    h.concurrency,
                    ms(route.latency_ms.p99)
                ),
                route.ratio,
                format!("{:.2}", route.ratio),
                Target::AtLeast(h.target_ratio),
                "",
            )
        })
        .collect()
}

/// One row per imported kind's accepted maximum, and the isolation row (docs/security.md H4, H7).
fn imported_rows(i: Option<&crate::imported::ImportedResults>) -> Vec<Row> {
    let Some(i) = i else {
        return vec![not_measured("imported hashes: maxima and isolation", "see notes")];
    };
    let mut rows: Vec<Row> = i
        .maxima
        .iter()
        .map(|m| {
            row(
                format!("imported {} at its maximum ({}) ÷ bcrypt 13", m.kind, m.parameters),
                m.ratio_to_budget,
                format!("{:.2}", m.ratio_to_budget),
                Target::AtMost(targets::IMPORTED_MAX_RATIO),
                "",
            )
        })
        .collect();
    match &i.isolation {
        Some(iso) => rows.push(row(
            format!(
                "login p50 beside {} parallel wrong logins at imported hashes ÷ alone",
                iso.imported_workers
            ),
            iso.p50_ratio,
            format!("{:.2}", iso.p50_ratio),
            Target::AtMost(targets::IMPORTED_ISOLATION_P50_RATIO),
            "",
        )),
        None => rows.push(not_measured("imported-hash isolation", "see notes")),
    }
    rows
}

/// Section 6: the imported kinds' maxima timed, and the isolation figures.
pub fn imported_section(i: Option<&crate::imported::ImportedResults>) -> String {
    let mut out = String::new();
    let Some(i) = i else {
        let _ = writeln!(out, "Not measured in this run (see notes).");
        return out;
    };
    let _ = writeln!(
        out,
        "Every kind at the most migrate accepts (docs/migration.md), one wrong-password verification \
         at a time on one core, against bcrypt cost 13 measured the same way ({}); the budget's \
         estimate of bcrypt 13 is {}. Target: each ≤ {} × bcrypt 13.\n",
        ms(i.bcrypt13_ms),
        ms(i.budget_ms),
        targets::IMPORTED_MAX_RATIO
    );
    let _ = writeln!(
        out,
        "| Kind | Maximum | Password | Estimated | median | min–max | ÷ bcrypt 13 | Verdict |\n|---|---|---|---|---|---|---|---|"
    );
    for m in &i.maxima {
        let _ = writeln!(
            out,
            "| {} | {} | {} bytes | {} | {} | {}–{} | {:.2} | {} |",
            cell(&m.kind),
            cell(&m.parameters),
            m.password_bytes,
            ms(m.estimated_ms),
            ms(m.verify_ms.median),
            ms(m.verify_ms.min),
            ms(m.verify_ms.max),
            m.ratio_to_budget,
            Target::AtMost(targets::IMPORTED_MAX_RATIO).verdict(m.ratio_to_budget)
        );
    }
    match &i.isolation {
        Some(iso) => {
            let _ = writeln!(
                out,
                "\nIsolation: normal logins (argon2, one at a time, {} s) alone, then beside {} parallel \
                 wrong logins at {} ({} of them answered). Target: p50 beside ÷ p50 alone ≤ {}.\n",
                iso.duration_s,
                iso.imported_workers,
                cell(&iso.accounts.join(" and ")),
                iso.imported_answers,
                targets::IMPORTED_ISOLATION_P50_RATIO
            );
            let _ = writeln!(
                out,
                "| Normal login | n | p50 | p99 |\n|---|---|---|---|\n| alone | {} | {} | {} |\n| beside imported | {} | {} | {} |",
                iso.idle_ms.n,
                ms(iso.idle_ms.median),
                ms(iso.idle_ms.p99),
                iso.loaded_ms.n,
                ms(iso.loaded_ms.median),
                ms(iso.loaded_ms.p99)
            );
            let _ = writeln!(
                out,
                "\nRatio {:.2}: {}.",
                iso.p50_ratio,
                Target::AtMost(targets::IMPORTED_ISOLATION_P50_RATIO).verdict(iso.p50_ratio)
            );
        }
        None => {
            let _ = writeln!(out, "\nIsolation not measured in this run (see notes).");
        }
    }
    out
}

/// Reset start: the unknown address's median over the known one's, from a fresh process on.
fn reset_timing_row(t: Option<&crate::reset_timing::ResetTiming>) -> Row {
    let measure = "reset start: unknown ÷ known address, median latency";
    let Some(t) = t else {
        return not_measured(measure, "see notes");
    };
    let (lo, hi) = crate::reset_timing::RATIO_BAND;
    row(
        format!(
            "{measure} ({} each, from the first request of a fresh process)",
            t.requests_per_kind
        ),
        t.ratio,
        format!(
            "{:.3} ({} / {})",
            t.ratio,
            ms(t.unknown_ms.median),
            ms(t.known_ms.median)
        ),
        Target::Between(lo, hi),
        " ×",
    )
}

/// One row per flow the issue sets a round-trip target for.
fn roundtrip_rows(r: Option<&crate::roundtrips::RoundTrips>) -> Vec<Row> {
    let Some(r) = r else {
        return vec![not_measured("store round trips per flow (DynamoDB/moto)", "see notes")];
    };
    r.flows
        .iter()
        .filter_map(|f| {
            let t = f.target.as_ref()?;
            Some(Row {
                measure: format!("store round trips: {}", f.name),
                figure: crate::roundtrips::describe(f),
                target: format!("{} (≤ {} round trips)", t.text, t.round_trips),
                verdict: if t.met { "PASS" } else { "MISS" },
            })
        })
        .collect()
}

/// The Lambda rows: the largest arm64 binary (and the deployed profile's, where built), the
/// slowest function's median cold start, the idle memory.
fn lambda_rows(l: Option<&LambdaResults>) -> Vec<Row> {
    let Some(l) = l else {
        return vec![not_measured(
            "Lambda functions: binary size, cold start, idle memory",
            "see notes",
        )];
    };
    let mut rows = Vec::new();
    let size_target = Target::AtMost(targets::ARM64_BINARY_MB);
    let deployed_arm64 = l.deployed.iter().any(|b| b.arch == "aarch64");
    match l.size("arm64") {
        Some(s) => {
            let stripped = if s.stripped { "stripped" } else { "not stripped" };
            let measure = format!(
                "Lambda functions: arm64 binary size, largest of {} (`{}`; `{}` profile, {stripped})",
                s.n, s.largest, l.profile
            );
            let figure = crate::lambda::mb(s.max_bytes);
            if deployed_arm64 {
                // The target is for binaries as deployed, judged in the rows below; this profile
                // (no LTO) only ranks the functions by size.
                rows.push(Row {
                    measure,
                    figure,
                    target: "— (not the deployed profile: see below)".into(),
                    verdict: "—",
                });
            } else {
                rows.push(row(measure, s.max_bytes as f64 / 1e6, figure, size_target, " MB"));
            }
        }
        None => rows.push(not_measured("Lambda functions: arm64 binary size", "see notes")),
    }
    for b in l.deployed.iter().filter(|b| b.arch == "aarch64") {
        rows.push(row(
            format!(
                "Lambda functions: arm64 binary size, `{}` in the deployed `release` profile",
                b.name
            ),
            b.size() as f64 / 1e6,
            crate::lambda::mb(b.size()),
            size_target,
            " MB",
        ));
    }
    match &l.cold_start {
        Some(c) => {
            rows.push(row(
                format!(
                    "Lambda functions: cold start to first answer, slowest function's median (`{}`; {}, {} starts \
                     each; all starts: median {}, max {})",
                    c.slowest_function,
                    c.arch,
                    c.starts_per_function,
                    ms(c.answer.median),
                    ms(c.answer.max)
                ),
                c.slowest_median_ms,
                ms(c.slowest_median_ms),
                Target::AtMost(targets::COLD_START_MS),
                " ms",
            ));
            let idle = match (c.idle_rss_kib, c.idle_hwm_kib) {
                (Some(rss), Some(hwm)) => format!(
                    "VmRSS max {} (median {}); peak VmHWM max {}",
                    crate::lambda::mib(rss.max),
                    crate::lambda::mib(rss.median),
                    crate::lambda::mib(hwm.max)
                ),
                _ => "not read".into(),
            };
            rows.push(Row {
                measure: format!(
                    "Lambda functions: idle memory ({}, {} ms after the first answer)",
                    c.arch, c.idle_wait_ms
                ),
                figure: idle,
                target: "—".into(),
                verdict: "—",
            });
        }
        None => rows.push(not_measured(
            "Lambda functions: cold start and idle memory",
            "see notes",
        )),
    }
    rows
}

/// A login level's throughput ÷ the bare engine's side by side on every core (section 1).
fn ceiling_share(level: &crate::login::Level, parallel: &crate::argon::Parallel) -> f64 {
    level.throughput_rps / parallel.throughput_rps.median
}

fn not_measured(measure: &str, why: &str) -> Row {
    Row {
        measure: measure.into(),
        figure: format!("not measured in this run ({why})"),
        target: "—".into(),
        verdict: "—",
    }
}

fn spread(s: &Summary) -> String {
    format!("{} | {} | {} | {}", ms(s.median), ms(s.p10), ms(s.p90), s.n)
}

pub fn render(r: &Results) -> String {
    let mut out = String::new();
    let m = &r.machine;
    let a = &r.argon2;
    let _ = writeln!(out, "# Latch benchmark results\n");
    let _ = writeln!(
        out,
        "Generated {} by `{}` (issue 9). Ratios are taken within this one run; absolute \
         times belong to this machine. Raw figures: [`results.json`](results.json); plot: \
         [`login.svg`](login.svg).\n",
        r.generated_at,
        cell(&r.command)
    );
    let _ = writeln!(out, "## Machine and build\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let memory = format!("{} MiB", m.memory_mib);
    let profile = format!("`{}`: {}", m.profile, m.profile_flags);
    let rustflags = if m.rustflags.is_empty() {
        "(none)"
    } else {
        m.rustflags.as_str()
    };
    let features = m.cpu_features.join(", ");
    let params = format!(
        "m={} KiB, t={}, p={} (hash concurrency {})",
        a.params.memory_kib, a.params.iterations, a.params.parallelism, a.params.concurrency
    );
    let rows: [(&str, String); 13] = [
        ("git commit", m.git_commit.clone()),
        ("CPU", m.cpu_model.clone()),
        ("cores (available to the process)", m.cores.to_string()),
        ("memory", memory),
        ("kernel", m.kernel.clone()),
        ("rustc", m.rustc.clone()),
        ("profile", profile),
        ("RUSTFLAGS", rustflags.to_string()),
        ("CPU features detected", features),
        ("load average at start (1/5/15 min)", m.load_average_at_start.clone()),
        ("load average at end", m.load_average_at_end.clone()),
        ("niceness of the bench and the server", m.nice.to_string()),
        ("argon2id parameters (Latch's configuration)", params),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "| {} | {} |", k, cell(&v));
    }
    if m.debug_assertions {
        let _ = writeln!(
            out,
            "\n**Warning: built with debug assertions; figures are not representative.**"
        );
    }

    let _ = writeln!(out, "\n## Ratios against the targets\n");
    out.push_str(&table(&summary_rows(r)));
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:\n");
        for n in &r.notes {
            let _ = writeln!(out, "- {}", n.replace('\n', " "));
        }
    }

    let _ = writeln!(out, "\n## 1. argon2id hash and verify\n");
    let _ = writeln!(
        out,
        "{} rounds; in each, {} timed calls of every Rust implementation, then the same of the C \
         reference in a fresh Python process and of the optimised C build in its own process (their \
         start-up not timed), so machine noise hits all alike. The yardstick is the fastest median \
         among the hash rows.\n",
        a.plan.rounds, a.plan.per_round
    );
    let _ = writeln!(
        out,
        "Latch's engine (`latch-argon2`) runs its `{}` backend on this CPU{}.\n",
        a.latch_backend,
        match a.engine_over_portable() {
            Some(ratio) => format!(
                "; bare, it takes {ratio:.3} × the time of the portable argon2 crate (both reusing \
                 blocks), the figure that on an arm64 machine compares NEON with the portable code"
            ),
            None => String::new(),
        }
    );
    let _ = writeln!(
        out,
        "| Implementation | median | p10 | p90 | n | ÷ fastest |\n|---|---|---|---|---|---|"
    );
    let fastest = a.get(a.fastest_key).map(|f| f.summary.median).unwrap_or(f64::NAN);
    for imp in &a.implementations {
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} |",
            cell(imp.label),
            spread(&imp.summary),
            imp.summary.median / fastest
        );
    }
    if let Some(p) = &a.parallel {
        let _ = writeln!(
            out,
            "\nSide by side: the bare engine on {} threads at once ({} hashes each, once per round) \
             made {:.1} hashes/s (median of rounds), {:.3} × {} ÷ its single-thread median: the share of \
             the hashing limit this machine gives even with no server in the way.",
            p.threads, p.hashes_per_thread, p.throughput_rps.median, p.ratio_to_limit, p.threads
        );
    }
    if !a.reference.is_empty() {
        let versions: Vec<String> = a
            .reference
            .iter()
            .map(|(k, v)| match k.as_str() {
                "skipped" => format!("not measured ({v})"),
                "native skipped" => format!("optimised C build not measured ({v})"),
                "native" => format!("optimised C build: {v}"),
                _ => format!("{k} {v}"),
            })
            .collect();
        let _ = writeln!(out, "\nC reference: {}.", cell(&versions.join(", ")));
    }

    let _ = writeln!(out, "\n## 2. Strength check (zxcvbn)\n");
    match &r.strength {
        Some(s) => {
            let _ = writeln!(
                out,
                "Through `latch::policy::Policy::strength`, as `/v1/passwords/strength_check` calls it \
                 (zxcvbn on the blocking pool, so each figure includes one `spawn_blocking` hand-off). \
                 Latch scores the first {} characters.\n",
                s.scored_chars
            );
            match &s.corpus {
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "| Corpus | n | median | p90 | p99 | max |\n|---|---|---|---|---|---|"
                    );
                    let _ = writeln!(
                        out,
                        "| `{}` ({} over the cap skipped) | {} | {} | {} | {} | {} |",
                        cell(&c.path),
                        c.skipped_over_cap,
                        c.summary.n,
                        ms(c.summary.median),
                        ms(c.summary.p90),
                        ms(c.summary.p99),
                        ms(c.summary.max)
                    );
                }
                None => {
                    let _ = writeln!(out, "{}", s.corpus_note.as_deref().unwrap_or("corpus not measured"));
                }
            }
            let _ = writeln!(
                out,
                "\nAdversarial families: each input timed 3 times, its median counted; the family's max is \
                 its slowest input. Target ≤ {} ms, judged here over every input, accepted or not: the \
                 strength check scores whatever it is sent.\n",
                targets::STRENGTH_WORST_MS
            );
            let _ = writeln!(
                out,
                "| Family | Inputs | Accepted | median | max | Slowest input | Verdict |\n|---|---|---|---|---|---|---|"
            );
            for f in &s.families {
                let _ = writeln!(
                    out,
                    "| `{}`: {} | {} | {} | {} | {} | {} chars, {} | {} |",
                    f.name,
                    cell(f.description),
                    f.inputs,
                    f.accepted,
                    ms(f.summary.median),
                    ms(f.summary.max),
                    f.worst_chars,
                    code(&f.worst_preview),
                    Target::AtMost(targets::STRENGTH_WORST_MS).verdict(f.summary.max)
                );
            }
        }
        None => {
            let _ = writeln!(out, "Not measured in this run (see notes).");
        }
    }

    let _ = writeln!(out, "\n## 3. Login over HTTP (`latch serve`, SQLite)\n");
    match &r.login {
        Some(l) => {
            let _ = writeln!(
                out,
                "`POST /v1/passwords/authenticate` with `{}` ({} users, breach checks off), each level \
                 driven for {} s after {} s of warm-up by a reqwest client in the bench process on the \
                 same machine (client and server share the cores). One verify = Latch's verify median above ({}); hashing limit = {} cores ÷ \
                 verify = {:.1} logins/s. Latency beyond concurrency = cores queues by design (ideal p50 = \
                 concurrency ÷ cores × verify), so the p50 target applies at concurrency ≤ cores.\n",
                cell(&l.request.to_string()),
                l.users,
                l.duration_per_level_s,
                l.warmup_per_level_s,
                ms(l.verify_ms),
                l.cores,
                l.hashing_limit_rps
            );
            let _ = writeln!(
                out,
                "| Concurrency | Logins | Errors | Throughput | p50 | p99 | Throughput ÷ limit | p50 ÷ verify |\n\
                 |---|---|---|---|---|---|---|---|"
            );
            for level in &l.levels {
                let tput = format!("{:.3}", level.throughput_ratio);
                let p50 = if level.concurrency <= l.cores {
                    let t = Target::AtMost(targets::P50_RATIO);
                    format!("{:.3} ({} {})", level.p50_ratio, t.show(""), t.verdict(level.p50_ratio))
                } else {
                    let ideal = level.concurrency as f64 / l.cores as f64;
                    format!("{:.3} (queueing; ideal {:.1})", level.p50_ratio, ideal)
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.1}/s | {} | {} | {} | {} |",
                    level.concurrency,
                    level.requests,
                    level.errors,
                    level.throughput_rps,
                    ms(level.latency_ms.median),
                    ms(level.latency_ms.p99),
                    tput,
                    p50
                );
            }
            if let Some(p) = &r.argon2.parallel {
                // Against what the bare engine manages on every core at once (section 1): Latch's
                // overhead told from the machine's own limit.
                let ceiling = Target::AtLeast(targets::CEILING_RATIO);
                let shares: Vec<String> = l
                    .levels
                    .iter()
                    .filter(|v| v.concurrency >= l.cores)
                    .map(|v| {
                        let share = ceiling_share(v, p);
                        format!("c={}: {share:.3} {}", v.concurrency, ceiling.verdict(share))
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "\nThroughput ÷ the bare engine side by side on {} threads ({:.1} hashes/s), the \
                     ceiling the throughput target is judged against ({}; the column \"÷ limit\" \
                     above is for reference): {}.",
                    p.threads,
                    p.throughput_rps.median,
                    ceiling.show(""),
                    shares.join(", ")
                );
            }
            let _ = writeln!(
                out,
                "\n![login throughput and p50 latency against concurrency](login.svg)"
            );
        }
        None => {
            let _ = writeln!(out, "Not measured in this run (see notes).");
        }
    }

    let _ = writeln!(out, "\n## 4. Lambda functions\n");
    match &r.lambda {
        Some(l) => out.push_str(&crate::lambda::section(
            l,
            targets::ARM64_BINARY_MB,
            targets::COLD_START_MS,
        )),
        None => {
            let _ = writeln!(out, "Not measured in this run (see notes).");
        }
    }

    let _ = writeln!(out, "\n## 5. Store round trips per flow (DynamoDB, moto)\n");
    match &r.roundtrips {
        Some(t) => out.push_str(&crate::roundtrips::section(t)),
        None => {
            let _ = writeln!(out, "Not counted in this run (see notes).");
        }
    }

    let _ = writeln!(out, "\n## 6. Imported hashes (docs/migration.md)\n");
    out.push_str(&imported_section(r.imported.as_ref()));
    let _ = writeln!(out, "\n## 7. Reset start: known against unknown addresses\n");
    match &r.reset_timing {
        Some(t) => {
            let (lo, hi) = crate::reset_timing::RATIO_BAND;
            let _ = writeln!(
                out,
                "A fresh `latch serve` (SQLite, outbox, the default `LATCH_RESET_START_MIN_MS`; \
                 `LATCH_RESET_START_LIMIT=10000` so the known address is never answered 429): one \
                 user created, then `POST /v1/passwords/email/reset/start` {n} times for it and {n} \
                 times for {n} distinct unknown addresses, alternating, the first request being the \
                 process's first reset start ({statuses}). Target: unknown median ÷ known median \
                 within {lo} – {hi}.\n",
                n = t.requests_per_kind,
                statuses = t.statuses,
            );
            let _ = writeln!(
                out,
                "| Address | n | first | min | median | p90 | p99 | max |\n|---|---|---|---|---|---|---|---|"
            );
            for (name, first, s) in [
                ("known", t.first_known_ms, &t.known_ms),
                ("unknown", t.first_unknown_ms, &t.unknown_ms),
            ] {
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {} | {} | {} | {} | {} |",
                    s.n,
                    ms(first),
                    ms(s.min),
                    ms(s.median),
                    ms(s.p90),
                    ms(s.p99),
                    ms(s.max)
                );
            }
            let _ = writeln!(
                out,
                "\nRatio {:.3}: {}.",
                t.ratio,
                Target::Between(lo, hi).verdict(t.ratio)
            );
        }
        None => {
            let _ = writeln!(out, "Not measured in this run (see notes).");
        }
    }
    part(
        &mut out,
        "8. The session hot path (`latch serve`, SQLite)",
        r.hot_path.as_ref().map(crate::hot_path::section),
    );
    part(
        &mut out,
        "9. Soak: mixed load for a fixed time (`latch serve`, SQLite)",
        r.soak.as_ref().map(crate::soak::section),
    );
    part(
        &mut out,
        "10. Concurrency ramp: where logins are answered 503 (`latch serve`, SQLite)",
        r.ramp.as_ref().map(crate::ramp::section),
    );
    out
}

/// A numbered section: its text, or why there is none.
fn part(out: &mut String, title: &str, body: Option<String>) {
    let _ = writeln!(out, "\n## {title}\n");
    match body {
        Some(body) => out.push_str(&body),
        None => {
            let _ = writeln!(out, "Not measured in this run (see notes).");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::argon::{ArgonParams, ArgonResults, Measured, Plan};
    use crate::login::{Level, LoginResults};
    use crate::machine::Machine;

    fn summary(median: f64) -> Summary {
        Summary::of(&[median * 0.9, median, median * 1.1]).unwrap()
    }

    fn fixture() -> Results {
        let measured = |key: &'static str, label: &'static str, median: f64| Measured {
            key,
            label,
            summary: summary(median),
            raw_ms: vec![median],
        };
        Results {
            generated_at: "2026-01-01T00:00:00Z".into(),
            command: "scripts/bench.sh".into(),
            machine: Machine {
                cpu_model: "Test CPU".into(),
                cores: 2,
                memory_mib: 1024,
                kernel: "6.0".into(),
                rustc: "rustc 1.95.0".into(),
                profile: "bench-release".into(),
                profile_flags: "flags".into(),
                rustflags: String::new(),
                debug_assertions: false,
                cpu_features: vec!["avx2".into()],
                load_average_at_start: "0.1 0.2 0.3".into(),
                load_average_at_end: "0.1 0.2 0.3".into(),
                nice: 0,
                git_commit: "abc1234".into(),
            },
            argon2: ArgonResults {
                params: ArgonParams {
                    memory_kib: 19456,
                    iterations: 2,
                    parallelism: 1,
                    concurrency: 2,
                },
                plan: Plan {
                    rounds: 2,
                    per_round: 3,
                },
                implementations: vec![
                    measured("latch_hash", "Latch hash", 12.0),
                    measured("latch_verify", "Latch verify", 12.5),
                    measured("crate_reused", "reused | blocks", 10.0),
                ],
                reference: BTreeMap::from([("skipped".to_string(), "no Python".to_string())]),
                fastest_key: "crate_reused",
                latch_backend: "avx2",
                latch_hash_ratio: 1.2,
                latch_verify_ratio: 1.25,
                parallel: Some(crate::argon::Parallel {
                    threads: 2,
                    hashes_per_thread: 3,
                    throughput_rps: summary(150.0),
                    ratio_to_limit: 0.75,
                }),
            },
            strength: None,
            reset_timing: Some(crate::reset_timing::tests::fixture(21.0, 21.2)),
            login: Some(LoginResults {
                binary: "latch".into(),
                users: 16,
                duration_per_level_s: 1.0,
                warmup_per_level_s: 0.5,
                verify_ms: 12.5,
                cores: 2,
                hashing_limit_rps: 160.0,
                request: serde_json::json!({"email": "a@b.co"}),
                levels: [(1, 78.0, 12.8), (2, 150.0, 13.0), (16, 155.0, 100.0)]
                    .into_iter()
                    .map(|(c, t, p50)| Level {
                        concurrency: c,
                        requests: 100,
                        errors: 0,
                        elapsed_s: 1.0,
                        throughput_rps: t,
                        latency_ms: summary(p50),
                        throughput_ratio: t / 160.0,
                        p50_ratio: p50 / 12.5,
                    })
                    .collect(),
            }),
            lambda: Some(crate::lambda::tests::fixture()),
            roundtrips: Some(crate::roundtrips::tests::fixture()),
            imported: Some(crate::imported::ImportedResults {
                budget_ms: 426.0,
                bcrypt13_ms: 430.0,
                maxima: vec![crate::imported::Maximum {
                    kind: "scrypt (time)".into(),
                    parameters: "N=2^14, r=8, p=13".into(),
                    password_bytes: 32,
                    estimated_ms: 426.0,
                    verify_ms: summary(400.0),
                    ratio_to_budget: 400.0 / 430.0,
                }],
                isolation: Some(crate::imported::Isolation {
                    accounts: vec!["bcrypt cost 13".into(), "scrypt | max".into()],
                    imported_workers: 8,
                    imported_answers: 20,
                    duration_s: 10.0,
                    idle_ms: summary(12.0),
                    loaded_ms: summary(14.0),
                    p50_ratio: 14.0 / 12.0,
                }),
            }),
            hot_path: None,
            soak: None,
            ramp: None,
            neon: None,
            notes: vec!["strength skipped".into()],
        }
    }

    #[test]
    fn the_argon_table_is_unbroken_and_names_the_backend_before_it() {
        let md = render(&fixture());
        let lines: Vec<&str> = md.lines().collect();
        let header = lines.iter().position(|l| l.starts_with("| Implementation |")).unwrap();
        assert!(lines[header + 1].starts_with("|---|"), "{md}");
        assert!(
            lines[header + 2].starts_with("| "),
            "a table row follows the header: {md}"
        );
        assert!(
            lines[..header]
                .iter()
                .any(|l| l.contains("runs its `avx2` backend on this CPU")),
            "{md}"
        );
    }

    #[test]
    fn lambda_rows_judge_the_largest_arm64_binary_and_the_slowest_cold_start() {
        let md = render(&fixture());
        assert!(
            md.contains(
                "| Lambda functions: arm64 binary size, largest of 2 (`passwords-create`; `bench-release` profile, \
                 stripped) | 10.50 MB | — (not the deployed profile: see below) | — |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| Lambda functions: arm64 binary size, `passwords-create` in the deployed `release` profile | 7.90 MB \
                 | ≤ 10 MB | PASS |"
            ),
            "{md}"
        );
        assert!(
            md.contains("slowest function's median (`passwords-create`; x86_64, 3 starts each; all starts: median 21.00 ms, max 30.00 ms) | 21.00 ms | ≤ 50 ms | PASS |"),
            "{md}"
        );
        assert!(
            md.contains("| Lambda functions: idle memory (x86_64, 1000 ms after the first answer) | VmRSS max 10.0 MiB (median 10.0 MiB); peak VmHWM max 10.1 MiB | — | — |"),
            "{md}"
        );
        assert!(md.contains("## 4. Lambda functions"));
        assert!(!md.contains("Lambda functions: idle memory | not measured yet"));
        // Without a deployed-profile build, the bench profile's size is what is judged.
        let mut bench_only = fixture();
        if let Some(l) = bench_only.lambda.as_mut() {
            l.deployed.clear();
        }
        let md = render(&bench_only);
        assert!(
            md.contains(
                "| Lambda functions: arm64 binary size, largest of 2 (`passwords-create`; `bench-release` profile, \
                 stripped) | 10.50 MB | ≤ 10 MB | MISS |"
            ),
            "{md}"
        );
        let mut none = fixture();
        none.lambda = None;
        let md = render(&none);
        assert!(md.contains(
            "| Lambda functions: binary size, cold start, idle memory | not measured in this run (see notes) |"
        ));
    }

    #[test]
    fn the_reset_timing_row_judges_the_ratio_within_its_band() {
        let mut r = fixture();
        let md = render(&r);
        assert!(
            md.contains("| reset start: unknown ÷ known address, median latency (200 each, from the first request of a fresh process) | 1.010 (21.20 ms / 21.00 ms) | 0.9 × – 1.1 × | PASS |"),
            "{md}"
        );
        assert!(md.contains("## 7. Reset start: known against unknown addresses"));
        r.reset_timing = Some(crate::reset_timing::tests::fixture(1.75, 3.3));
        assert!(render(&r).contains("| 1.886 (3.30 ms / 1.75 ms) | 0.9 × – 1.1 × | MISS |"));
        r.reset_timing = None;
        assert!(render(&r).contains(
            "| reset start: unknown ÷ known address, median latency | not measured in this run (see notes) | — | — |"
        ));
    }

    #[test]
    fn login_throughput_is_judged_against_the_side_by_side_ceiling() {
        let mut r = fixture();
        r.argon2.parallel.as_mut().unwrap().throughput_rps = summary(200.0);
        let md = render(&r);
        assert!(
            md.contains("| login c=2: throughput ÷ side-by-side hashing ceiling (200.0 hashes/s on 2 threads) | 0.750 | ≥ 0.95 | MISS |"),
            "{md}"
        );
        assert!(md.contains("c=2: 0.750 MISS, c=16: 0.775 MISS"), "{md}");
        r.argon2.parallel = None;
        assert!(render(&r).contains(
            "| login c=2: throughput ÷ side-by-side hashing ceiling | not measured in this run (the side-by-side hashing was not measured) | — | — |"
        ));
    }

    #[test]
    fn the_summary_judges_the_hot_path_and_the_neon_tests() {
        let mut r = fixture();
        let route = |name: &str, ratio: f64, judged: bool| crate::hot_path::Row {
            route: name.into(),
            requests: 10,
            errors: 0,
            throughput_rps: 1000.0 * ratio,
            latency_ms: summary(2.0),
            ratio,
            judged,
        };
        r.hot_path = Some(crate::hot_path::HotPathResults {
            concurrency: 16,
            seconds_per_route: 5.0,
            target_ratio: crate::hot_path::TARGET_RATIO,
            rows: vec![
                route("trivial", 1.0, false),
                route("by token", 0.7, true),
                route("by JWT", 0.3, true),
            ],
        });
        r.neon = Some(crate::neon::NeonEquality {
            passed: 8,
            failed: 0,
            neon_detected: true,
            runner: "qemu-aarch64 version 7.2".into(),
        });
        let md = render(&r);
        assert!(md.contains("| session hot path: by token ÷ trivial route, throughput at 16 connections (p99 2.20 ms) | 0.70 | ≥ 0.5 | PASS |"), "{md}");
        assert!(md.contains("| session hot path: by JWT ÷ trivial route, throughput at 16 connections (p99 2.20 ms) | 0.30 | ≥ 0.5 | MISS |"), "{md}");
        assert!(!md.contains("session hot path: trivial"));
        assert!(md.contains("## 8. The session hot path"));
        assert!(md.contains("run by qemu-aarch64 version 7.2: correctness only, no speed under emulation | 8 passed, 0 failed, NEON detected | all pass, NEON detected | PASS |"), "{md}");
        r.neon.as_mut().unwrap().neon_detected = false;
        assert!(
            render(&r).contains("8 passed, 0 failed, NEON not the backend tested | all pass, NEON detected | MISS |")
        );
        r.neon = None;
        r.hot_path = None;
        let md = render(&r);
        assert!(md.contains("| session hot path | not measured in this run (see notes) | — | — |"));
        assert!(md.contains("(latch-argon2's tests on aarch64) | not measured in this run (see notes) |"));
    }

    #[test]
    fn the_summary_judges_the_soak_and_the_ramp() {
        let mut r = fixture();
        r.soak = Some(crate::soak::tests::fixture(40, 57));
        r.ramp = Some(crate::ramp::tests::fixture(3400.0, 1270));
        let md = render(&r);
        assert!(md.contains("| soak: 60 s of mixed load from 6 clients (logins, session authenticates, strength checks, signups): answers but a 2xx | 0 of 4800 requests (0 5xx, 0 without an answer); 80 req/s | 0 errors, 0 5xx | PASS |"), "{md}");
        assert!(md.contains("| soak: the server's VmRSS at the end against just after the warm-up | 40.0 MiB → 57.0 MiB (+17.0 MiB, +42.5 %); peak VmHWM 97.0 MiB | growth ≤ max(10 %, 16 MiB) = 16.0 MiB | MISS |"), "{md}");
        assert!(md.contains("| ramp: logins at 1 → 512 connections against the hashing queue (2 running + 256 waiting): 503 with Retry-After past it, the admitted logins' p99 bounded | first 503 at c=512 (1270 503s, all with Retry-After and the envelope); p99 3.40 s ÷ bound 4.84 s = 0.70 (c=512); 0 other errors, 0 connection failures | from the first 503 on: p99 ≤ 1.5 × (queue + permits) ÷ permits × per-login time; every 503 with Retry-After and the envelope; no other error, no connection failure | PASS |"), "{md}");
        assert!(md.contains("## 9. Soak: mixed load for a fixed time"));
        assert!(md.contains("## 10. Concurrency ramp: where logins are answered 503"));
        assert!(md.contains("First 503 at c=512. Verdict: PASS"));
        r.ramp = Some(crate::ramp::tests::fixture(3400.0, 0));
        assert!(render(&r).contains("no 503 up to c=512: the ramp did not reach the queue's limit; 0 other errors, 0 connection failures | from the first 503 on"));
        assert!(render(&r).contains("no connection failure | — |"));
        r.soak = None;
        r.ramp = None;
        let md = render(&r);
        assert!(md.contains("| soak: mixed load for a fixed time | not measured in this run (see notes) | — | — |"));
        assert!(md.contains("| ramp: logins at rising concurrency against the hashing queue | not measured in this run (see notes) | — | — |"));
        assert!(md.contains("## 10. Concurrency ramp: where logins are answered 503 (`latch serve`, SQLite)\n\nNot measured in this run (see notes)."));
    }

    #[test]
    fn verdicts_compare_against_the_target() {
        assert_eq!(Target::AtMost(1.1).verdict(1.1), "PASS");
        assert_eq!(Target::AtMost(1.1).verdict(1.2), "MISS");
        assert_eq!(Target::AtLeast(0.9).verdict(0.95), "PASS");
        assert_eq!(Target::AtLeast(0.9).verdict(0.5), "MISS");
        assert_eq!(Target::AtLeast(0.9).verdict(f64::NAN), "—");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("@$|(`x`\n"), "@$\\|(`x` ");
        assert_eq!(code("a|`<b>&"), "<code>a&#124;&#96;&lt;b&gt;&amp;</code>");
    }

    #[test]
    fn report_puts_each_ratio_next_to_its_target() {
        let md = render(&fixture());
        assert!(
            md.contains("| argon2id: Latch hash ÷ fastest hash (reused \\| blocks) | 1.200 | ≤ 1.1 | MISS |"),
            "{md}"
        );
        assert!(
            md.contains("| login c=2: throughput ÷ side-by-side hashing ceiling (150.0 hashes/s on 2 threads) | 1.000 | ≥ 0.95 | PASS |"),
            "{md}"
        );
        assert!(
            md.contains("| login c=1: p50 ÷ one verify | 1.024 | ≤ 1.1 | PASS |"),
            "{md}"
        );
        // Below cores there is no throughput target; above cores no p50 target.
        assert!(!md.contains("login c=1: throughput"));
        assert!(!md.contains("login c=16: p50"));
        assert!(
            md.contains("| store round trips: login | 2: UpdateItem ×1, TransactWriteItems ×1 | 1 read + 1 write (the session) (≤ 2 round trips) | PASS |"),
            "{md}"
        );
        assert!(md.contains("| store round trips: signup | 2: GetItem ×1, TransactWriteItems ×1 | 1 write (one transaction) (≤ 1 round trips) | MISS |"));
        assert!(md.contains("strength check | not measured in this run (see notes)"));
        assert!(md.contains("| Test CPU |"));
        assert!(md.contains("(queueing; ideal 8.0)"));
        assert!(md.contains("made 150.0 hashes/s (median of rounds), 0.750 × 2"), "{md}");
    }

    #[test]
    fn every_table_row_has_its_header_width() {
        let mut r = fixture();
        tables_are_even(&render(&r));
        r.soak = Some(crate::soak::tests::fixture(40, 57));
        r.soak.as_mut().unwrap().kinds[0].errors = std::collections::BTreeMap::from([(503, 2), (0, 1)]);
        r.ramp = Some(crate::ramp::tests::fixture(3400.0, 1270));
        r.ramp.as_mut().unwrap().steps[1].other_errors = std::collections::BTreeMap::from([(500, 2)]);
        tables_are_even(&render(&r));
    }

    fn tables_are_even(md: &str) {
        let mut width = None;
        for line in md.lines() {
            if !line.starts_with('|') {
                width = None;
                continue;
            }
            let cols = line.replace("\\|", "").matches('|').count();
            match width {
                None => width = Some(cols),
                Some(w) => assert_eq!(w, cols, "{line}"),
            }
        }
    }
}
