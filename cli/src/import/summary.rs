//! The counts of an import and the summary printed at its end, and the exit code.

use std::path::Path;
use std::time::Duration;

/// What became of the export's rows, this run and earlier ones.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Rows in the export.
    pub total: u64,
    /// Imported by this run: accounts created.
    pub created: u64,
    /// Imported by this run: existing accounts that got the password (or already had this hash).
    pub existing: u64,
    /// Imported by earlier runs, per the journal: not sent again.
    pub skipped: u64,
    /// Sent again after an earlier run stopped with them in flight; the server answered
    /// `password_already_exists`: imported by that run, the hash replaced at a login since.
    pub imported_earlier: u64,
    /// Failed in this run.
    pub failed_now: u64,
    /// Failed in earlier runs (not retried).
    pub failed_before: u64,
}

impl Tally {
    pub fn imported_now(&self) -> u64 {
        self.created + self.existing
    }

    pub fn already_imported(&self) -> u64 {
        self.skipped + self.imported_earlier
    }

    pub fn failed(&self) -> u64 {
        self.failed_now + self.failed_before
    }

    pub fn not_yet(&self) -> u64 {
        self.total
            .saturating_sub(self.imported_now() + self.already_imported() + self.failed())
    }
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Finished,
    /// Ctrl-C.
    Interrupted,
    /// Stopped because no row could succeed (credentials refused, no endpoint, journal unwritable).
    Fatal(String),
}

/// 0: every row imported; 1: some rows failed (see the report); 2: the run could not proceed;
/// 130: interrupted.
pub fn exit_code(tally: &Tally, ending: &Ending) -> i32 {
    match ending {
        Ending::Fatal(_) => 2,
        Ending::Interrupted => 130,
        Ending::Finished if tally.failed() > 0 => 1,
        Ending::Finished => 0,
    }
}

/// The summary for stdout.
pub fn render(tally: &Tally, input: &Path, ending: &Ending, elapsed: Duration, report: Option<&Path>) -> String {
    let secs = elapsed.as_secs_f64();
    let mut out = match ending {
        Ending::Finished => format!("Import of {} finished in {secs:.1} s.\n", input.display()),
        Ending::Interrupted => format!(
            "Import of {} interrupted after {secs:.1} s; run the same command again to resume.\n",
            input.display()
        ),
        Ending::Fatal(why) => format!("Import of {} stopped after {secs:.1} s: {why}.\n", input.display()),
    };
    let width = tally.total.to_string().len();
    let mut row = |label: &str, n: u64, detail: String| {
        out.push_str(&format!("  {label:<18}{n:>width$}{detail}\n"));
    };
    row(
        "imported:",
        tally.imported_now(),
        format!("  ({} created, {} existing)", tally.created, tally.existing),
    );
    let mut earlier = format!("  (by earlier runs: {} skipped", tally.skipped);
    if tally.imported_earlier > 0 {
        earlier.push_str(&format!(
            ", {} in flight when a run stopped and changed by a login since",
            tally.imported_earlier
        ));
    }
    earlier.push(')');
    row("already imported:", tally.already_imported(), earlier);
    let failed_detail = match (report, tally.failed_before) {
        (Some(path), 0) => format!("  (see {})", path.display()),
        (Some(path), before) => format!("  ({before} in earlier runs; see {})", path.display()),
        (None, _) => String::new(),
    };
    row("failed:", tally.failed(), failed_detail);
    if tally.not_yet() > 0 {
        row("not yet imported:", tally.not_yet(), String::new());
    }
    row("total rows:", tally.total, String::new());
    if secs >= 1.0 && tally.imported_now() + tally.failed_now > 0 {
        out.push_str(&format!(
            "  ({:.0} rows/s)\n",
            (tally.imported_now() + tally.failed_now) as f64 / secs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_every_row_once() {
        let t = Tally {
            total: 100,
            created: 60,
            existing: 5,
            skipped: 20,
            imported_earlier: 1,
            failed_now: 2,
            failed_before: 1,
        };
        assert_eq!(t.not_yet(), 11);
        let text = render(
            &t,
            Path::new("u.jsonl"),
            &Ending::Interrupted,
            Duration::from_secs(2),
            Some(Path::new("u.jsonl.errors.jsonl")),
        );
        assert!(text.starts_with("Import of u.jsonl interrupted after 2.0 s"), "{text}");
        for expected in [
            "  imported:          65  (60 created, 5 existing)\n",
            "  already imported:  21  (by earlier runs: 20 skipped, 1 in flight",
            "  failed:             3  (1 in earlier runs; see u.jsonl.errors.jsonl)\n",
            "  not yet imported:  11\n",
            "  total rows:       100\n",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
    }

    #[test]
    fn exit_codes_tell_success_failures_interruption_and_setup_errors() {
        let clean = Tally {
            total: 1,
            created: 1,
            ..Tally::default()
        };
        let failed = Tally {
            total: 1,
            failed_before: 1,
            ..Tally::default()
        };
        assert_eq!(exit_code(&clean, &Ending::Finished), 0);
        assert_eq!(exit_code(&failed, &Ending::Finished), 1);
        assert_eq!(exit_code(&clean, &Ending::Interrupted), 130);
        assert_eq!(exit_code(&clean, &Ending::Fatal("x".into())), 2);
    }
}
