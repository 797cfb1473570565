//! Progress on stderr: a bar (rows done of the rows to send, rate, ETA, failures) at a terminal;
//! elsewhere (a log, CI) a line every few seconds and one at the end.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the line is printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    failed: Arc<AtomicU64>,
    lines: bool,
}

impl Progress {
    /// Progress over `total` rows to send in this run.
    pub fn new(total: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let target = if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows  {per_sec:0}  ETA {eta}  {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message("0 failed");
        if terminal {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        let progress = Self {
            bar,
            failed: Arc::new(AtomicU64::new(0)),
            lines: !terminal,
        };
        if progress.lines {
            let p = progress.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(LINE_EVERY);
                every.tick().await;
                loop {
                    every.tick().await;
                    if p.bar.is_finished() {
                        break;
                    }
                    eprintln!("{}", p.line());
                }
            });
        }
        progress
    }

    pub fn row_done(&self, failed: bool) {
        if failed {
            let n = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            self.bar.set_message(format!("{n} failed"));
        }
        self.bar.inc(1);
    }

    /// Print a message without garbling the bar.
    pub fn message(&self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }

    /// Stop drawing; where lines are printed, print the last one.
    pub fn finish(&self) {
        if self.lines {
            eprintln!("{}", self.line());
        }
        self.bar.abandon();
    }

    fn line(&self) -> String {
        let done = self.bar.position();
        let total = self.bar.length().unwrap_or(0);
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        let eta = if done < total {
            format!(", ETA {}s", self.bar.eta().as_secs())
        } else {
            String::new()
        };
        format!(
            "latch import: {done}/{total} rows ({percent}%), {:.0} rows/s, {} failed{eta}",
            self.bar.per_sec(),
            self.failed.load(Ordering::Relaxed)
        )
    }
}
