//! `latch import`: bulk import of an export (JSON Lines or CSV) through the migrate endpoints,
//! concurrent within a rate, resumable, never sending a finished row again. docs/migration.md
//! describes it for operators.

mod client;
mod credentials;
mod csv_columns;
mod fingerprint;
mod journal;
mod pipeline;
mod progress;
mod rate;
mod report;
mod request;
mod source;
mod stop;
mod summary;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;

use self::client::MigrateClient;
use self::credentials::Origin;
use self::fingerprint::Fingerprint;
use self::journal::{Done, Journal, Subject};
use self::pipeline::Shared;
use self::progress::Progress;
use self::rate::RateLimiter;
use self::report::ErrorReport;
use self::source::{Format, Rows};
use self::stop::Stop;
use self::summary::{Ending, Tally};

/// The exit code of a run that could not start (and of clap's usage errors).
const SETUP_ERROR: i32 = 2;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export: JSON Lines (.jsonl, .ndjson: one migrate request per line) or CSV (.csv: a
    /// header row of field names, dotted for nested ones such as scrypt_config.salt).
    pub file: PathBuf,
    /// The Latch server (or any server of Stytch's migrate API), e.g. http://127.0.0.1:3000.
    #[arg(long, env = "LATCH_URL")]
    pub url: String,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The project id; with --secret. Without both, <data-dir>/credentials.json is read.
    #[arg(long, env = "LATCH_PROJECT_ID")]
    pub project_id: Option<String>,
    /// The project secret (prefer the environment variable: arguments are visible to other users).
    #[arg(long, env = "LATCH_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// The data directory of the `latch serve` whose credentials.json to use.
    #[arg(long, default_value = latch::bootstrap::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Import rows without an organization_id as members of this organization (B2B).
    #[arg(long)]
    pub organization_id: Option<String>,
    /// Requests per second at most (Stytch documents a limit of 100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Tries after the first for a row answered 408, 429 or 5xx, or not answered.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Seconds to wait for one answer.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// The error report (JSON Lines, one failed row a line) [default: FILE.errors.jsonl].
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// The journal that makes a run resumable [default: FILE.journal].
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Forget the journal and import every row again.
    #[arg(long)]
    pub restart: bool,
    /// Send the rows that failed in earlier runs again (e.g. after the server was fixed).
    #[arg(long)]
    pub retry_failed: bool,
}

/// Run the import; the process's exit code.
pub async fn run(args: ImportArgs) -> i32 {
    match Plan::make(&args).await {
        Ok(plan) => plan.execute(&args).await,
        Err(e) => {
            eprintln!("latch import: {e}");
            SETUP_ERROR
        }
    }
}

/// `FILE` with `suffix` appended to its name.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Everything checked and opened before the first request.
struct Plan {
    format: Format,
    client: MigrateClient,
    journal: Journal,
    history: journal::History,
    report: ErrorReport,
    tally: Tally,
    to_send: u64,
}

impl Plan {
    async fn make(args: &ImportArgs) -> Result<Self, String> {
        let format = Format::of(&args.file, args.format)?;
        let url = reqwest::Url::parse(&args.url).map_err(|e| format!("--url {}: {e}", args.url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!("--url {url}: an http:// or https:// URL is needed"));
        }
        if url.scheme() == "http" && !is_loopback(&url) {
            eprintln!(
                "latch import: warning: {url} is plain HTTP: the project secret and the password hashes cross \
                 the network unencrypted"
            );
        }
        let (creds, origin) = credentials::resolve(args.project_id.clone(), args.secret.clone(), &args.data_dir)?;
        let client = MigrateClient::new(url.as_str(), creds.clone(), Duration::from_secs(args.timeout))?;

        // Read the export once to fingerprint it and once to find its rows (a CSV header
        // problem shows here, before anything is sent).
        let file = args.file.clone();
        let (fingerprint, lines) = tokio::task::spawn_blocking(move || {
            let fingerprint = Fingerprint::of_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let lines = source::row_lines(&file, format)?;
            Ok::<_, String>((fingerprint, lines))
        })
        .await
        .map_err(|e| e.to_string())??;

        let journal_path = args.journal.clone().unwrap_or_else(|| beside(&args.file, ".journal"));
        let errors_path = args
            .errors
            .clone()
            .unwrap_or_else(|| beside(&args.file, ".errors.jsonl"));
        for (flag, path) in [("--journal", &journal_path), ("--errors", &errors_path)] {
            if same_file(path, &args.file) {
                return Err(format!("{flag} {} is the export itself", path.display()));
            }
        }
        let subject = Subject {
            input: args.file.display().to_string(),
            fingerprint,
            url: url.to_string(),
            organization_id: args.organization_id.clone(),
        };
        let (journal, history) = Journal::open(&journal_path, &subject, args.restart)?;

        let mut tally = Tally {
            total: lines.len() as u64,
            ..Tally::default()
        };
        let mut to_send = 0;
        for &line in &lines {
            match history.done(line) {
                Some(Done::Imported) => tally.skipped += 1,
                Some(Done::Failed) if !args.retry_failed => tally.failed_before += 1,
                _ => to_send += 1,
            }
        }
        let standing = history.failures().filter(|_| !args.retry_failed);
        let report = ErrorReport::create(&errors_path, standing)
            .map_err(|e| format!("error report {}: {e}", errors_path.display()))?;

        let from = match origin {
            Origin::Given => String::new(),
            Origin::File(path) => format!(" (credentials from {path})"),
        };
        eprintln!(
            "latch import: {} rows in {}, {} to send to {} as {}{from}; at most {}/s, {} at a time.",
            tally.total,
            args.file.display(),
            to_send,
            url,
            creds.project_id,
            args.rate,
            args.concurrency,
        );
        if history.runs > 0 {
            eprintln!(
                "latch import: resuming from {} (run {}): {} rows imported and {} failed before.",
                journal.path().display(),
                history.runs + 1,
                tally.skipped,
                tally.failed_before
            );
        }
        Ok(Self {
            format,
            client,
            journal,
            history,
            report,
            tally,
            to_send,
        })
    }

    async fn execute(self, args: &ImportArgs) -> i32 {
        let started = Instant::now();
        let progress = Progress::new(self.to_send);
        let shared = Arc::new(Shared {
            client: self.client,
            limiter: RateLimiter::per_second(args.rate),
            journal: self.journal,
            report: self.report,
            history: self.history,
            progress: progress.clone(),
            stop: Stop::new(),
            tally: Mutex::new(self.tally),
            retries: args.retries,
            backoff: Duration::from_millis(500),
            retry_failed: args.retry_failed,
        });

        let interrupts = tokio::spawn(on_interrupt(shared.stop.clone(), progress.clone()));
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let (file, format, org) = (args.file.clone(), self.format, args.organization_id.clone());
        let reader = tokio::task::spawn_blocking(move || {
            let mut rows = match std::fs::File::open(&file)
                .map_err(|e| e.to_string())
                .and_then(|f| Rows::new(f, format, org))
            {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e)));
                    return;
                }
            };
            loop {
                let next = rows.next_row().transpose();
                let Some(next) = next else { return };
                let failed = next.is_err();
                if tx.blocking_send(next).is_err() || failed {
                    return;
                }
            }
        });
        pipeline::send_rows(shared.clone(), rx, usize::from(args.concurrency)).await;
        interrupts.abort();
        let _ = reader.await;
        progress.finish();

        let shared = Arc::into_inner(shared).expect("every row task has ended");
        let mut ending = shared.stop.reason().unwrap_or(Ending::Finished);
        if let Err(e) = shared.journal.sync() {
            ending = Ending::Fatal(format!(
                "cannot write the journal {}: {e}",
                shared.journal.path().display()
            ));
        }
        let report = match shared.report.finish() {
            Ok(path) => path,
            Err(e) => {
                ending = Ending::Fatal(format!("cannot write the error report: {e}"));
                None
            }
        };
        let tally = shared.tally.into_inner().unwrap_or_else(|e| e.into_inner());
        // Not print!: a closed stdout is no reason to panic, and the exit code still tells.
        let text = summary::render(&tally, &args.file, &ending, started.elapsed(), report.as_deref());
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
        if let Ending::Fatal(why) = &ending {
            eprintln!("latch import: {why}");
        }
        summary::exit_code(&tally, &ending)
    }
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Ctrl-C: stop sending and let the rows in flight finish; a second Ctrl-C quits at once (the
/// journal stays usable: rows in flight are sent again by the next run).
async fn on_interrupt(stop: Stop, progress: Progress) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    stop.request(Ending::Interrupted);
    progress.message("latch import: stopping: waiting for the requests in flight (Ctrl-C again to quit at once).");
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_and_report_sit_beside_the_export_and_are_never_it() {
        assert_eq!(
            beside(Path::new("dir/users.csv"), ".journal"),
            Path::new("dir/users.csv.journal")
        );
        let export = std::env::temp_dir().join(format!("latch-same-file-{}.jsonl", std::process::id()));
        std::fs::write(&export, "").unwrap();
        let dotted = export.parent().unwrap().join(".").join(export.file_name().unwrap());
        assert!(same_file(&dotted, &export));
        assert!(!same_file(&beside(&export, ".journal"), &export));
        std::fs::remove_file(&export).unwrap();
    }

    #[test]
    fn only_loopback_hosts_count_as_local() {
        for (url, local) in [
            ("http://127.0.0.1:3000", true),
            ("http://localhost:3000", true),
            ("http://[::1]:3000", true),
            ("http://auth.example.com", false),
            ("http://10.0.0.5", false),
        ] {
            assert_eq!(is_loopback(&reqwest::Url::parse(url).unwrap()), local, "{url}");
        }
    }
}
