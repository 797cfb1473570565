//! Sending the rows: at most `concurrency` at a time within the rate, retrying what may succeed
//! later, each outcome written to the journal (and the error report) as it arrives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use super::client::{Answer, MigrateClient, RowError};
use super::journal::{Done, Entry, Failure, History, Journal};
use super::progress::Progress;
use super::rate::RateLimiter;
use super::report::ErrorReport;
use super::request::MigrateRequest;
use super::source::SourceRow;
use super::stop::Stop;
use super::summary::{Ending, Tally};

/// The error type of a row that could not be read or lacks what migrate needs.
pub const INVALID_ROW: &str = "invalid_row";
const PASSWORD_ALREADY_EXISTS: &str = "password_already_exists";
/// The longest wait between two tries of a row.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Whether the journal settles the row, so this run does not send it.
pub fn settled(history: &History, line: u64, retry_failed: bool) -> bool {
    match history.done(line) {
        Some(Done::Imported) => true,
        Some(Done::Failed) => !retry_failed,
        None => false,
    }
}

/// What every row's task uses.
pub struct Shared {
    pub client: MigrateClient,
    pub limiter: RateLimiter,
    pub journal: Journal,
    pub report: ErrorReport,
    pub history: History,
    pub progress: Progress,
    pub stop: Stop,
    pub tally: Mutex<Tally>,
    /// Tries after the first, for answers worth retrying.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    pub retry_failed: bool,
}

/// Send every row that comes from `rows` and that the journal does not settle.
pub async fn send_rows(shared: Arc<Shared>, mut rows: mpsc::Receiver<std::io::Result<SourceRow>>, concurrency: usize) {
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    loop {
        let next = tokio::select! {
            biased;
            _ = shared.stop.requested() => break,
            next = rows.recv() => next,
        };
        let row = match next {
            None => break,
            Some(Ok(row)) => row,
            Some(Err(e)) => {
                shared.stop.request(Ending::Fatal(format!("reading the export: {e}")));
                break;
            }
        };
        if settled(&shared.history, row.line, shared.retry_failed) {
            continue;
        }
        match row.request {
            Err(invalid) => finish(
                &shared,
                Outcome::Failed(Failure {
                    line: row.line,
                    email: invalid.email,
                    status: None,
                    error_type: INVALID_ROW.into(),
                    error_message: invalid.message,
                }),
            ),
            Ok(request) => {
                let slot = tokio::select! {
                    biased;
                    _ = shared.stop.requested() => break,
                    slot = slots.clone().acquire_owned() => slot.expect("semaphore open"),
                };
                let shared = shared.clone();
                tasks.spawn(async move {
                    import_row(&shared, row.line, &request).await;
                    drop(slot);
                });
            }
        }
        while let Some(done) = tasks.try_join_next() {
            rethrow(done);
        }
    }
    drop(rows);
    while let Some(done) = tasks.join_next().await {
        rethrow(done);
    }
}

fn rethrow(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// One row: wait for the rate, send, retry while worth it, record the outcome. Returns without
/// an outcome only when the run stops; the journal then says whether the row may have been
/// applied (it is `started`) or not (`not_applied`).
async fn import_row(shared: &Shared, line: u64, request: &MigrateRequest) {
    let mut tries = 0u32;
    let mut wait = None;
    let mut maybe_applied = false;
    loop {
        let ready = async {
            if let Some(w) = wait {
                tokio::time::sleep(w).await;
            }
            shared.limiter.acquire().await;
        };
        tokio::select! {
            biased;
            _ = shared.stop.requested() => {
                leave_unfinished(shared, line, tries, maybe_applied);
                return;
            }
            _ = ready => {}
        }
        if tries == 0 {
            if let Err(e) = shared.journal.record(&Entry::Started { line }) {
                journal_failed(shared, &e);
                return;
            }
        }
        tries += 1;
        match shared.client.send(request).await {
            Answer::Imported { created: true } => return finish(shared, Outcome::Created(line)),
            Answer::Imported { created: false } => return finish(shared, Outcome::Existing(line)),
            // Sent by a run that stopped before learning the outcome, and the account has another
            // password now: that run's request set it, and a login since replaced the hash. (In
            // this run's own retries, seconds apart, the answer is taken at its word.)
            Answer::Rejected(e) if e.error_type == PASSWORD_ALREADY_EXISTS && shared.history.unresolved(line) => {
                return finish(shared, Outcome::ImportedEarlier(line))
            }
            Answer::Rejected(e) => return finish(shared, Outcome::Failed(failure(line, request, e))),
            Answer::Retry {
                error,
                maybe_applied: applied,
                wait: asked,
            } => {
                maybe_applied |= applied;
                if tries > shared.retries {
                    return finish(shared, Outcome::Failed(failure(line, request, error)));
                }
                let doubled = shared.backoff.saturating_mul(1 << (tries - 1).min(16));
                wait = Some(asked.unwrap_or(doubled).min(MAX_BACKOFF));
            }
            Answer::Fatal(why) => {
                shared.stop.request(Ending::Fatal(why));
                leave_unfinished(shared, line, tries, maybe_applied);
                return;
            }
        }
    }
}

fn failure(line: u64, request: &MigrateRequest, e: RowError) -> Failure {
    Failure {
        line,
        email: Some(request.email.clone()),
        status: e.status,
        error_type: e.error_type,
        error_message: e.error_message,
    }
}

fn leave_unfinished(shared: &Shared, line: u64, tries: u32, maybe_applied: bool) {
    if tries > 0 && !maybe_applied {
        if let Err(e) = shared.journal.record(&Entry::NotApplied { line }) {
            journal_failed(shared, &e);
        }
    }
}

fn journal_failed(shared: &Shared, e: &std::io::Error) {
    shared.stop.request(Ending::Fatal(format!(
        "cannot write the journal {}: {e}",
        shared.journal.path().display()
    )));
}

enum Outcome {
    Created(u64),
    Existing(u64),
    ImportedEarlier(u64),
    Failed(Failure),
}

/// Record a row's outcome: journal, report, counts, progress.
fn finish(shared: &Shared, outcome: Outcome) {
    let entry = match &outcome {
        Outcome::Created(line) => Entry::Created { line: *line },
        Outcome::Existing(line) => Entry::Existing { line: *line },
        Outcome::ImportedEarlier(line) => Entry::ImportedEarlier { line: *line },
        Outcome::Failed(f) => Entry::Failed(f.clone()),
    };
    if let Err(e) = shared.journal.record(&entry) {
        journal_failed(shared, &e);
    }
    {
        let mut tally = shared.tally.lock().unwrap_or_else(|e| e.into_inner());
        match &outcome {
            Outcome::Created(_) => tally.created += 1,
            Outcome::Existing(_) => tally.existing += 1,
            Outcome::ImportedEarlier(_) => tally.imported_earlier += 1,
            Outcome::Failed(_) => tally.failed_now += 1,
        }
    }
    let failed = matches!(outcome, Outcome::Failed(_));
    if let Outcome::Failed(f) = outcome {
        if let Err(e) = shared.report.add(f) {
            shared
                .stop
                .request(Ending::Fatal(format!("cannot write the error report: {e}")));
        }
    }
    shared.progress.row_done(failed);
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::path::{Path, PathBuf};

    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use serde_json::{json, Value};

    use super::*;
    use crate::import::credentials::ProjectCredentials;
    use crate::import::fingerprint::Fingerprint;
    use crate::import::journal::Subject;
    use crate::import::request::{self, InvalidRow};

    /// An answer: status and body.
    type Scripted = (u16, Value);

    /// Scripted answers per email (the last one repeats), and the requests seen.
    #[derive(Clone, Default)]
    struct Stub {
        script: Arc<Mutex<HashMap<String, VecDeque<Scripted>>>>,
        seen: Arc<Mutex<Vec<String>>>,
    }

    async fn migrate(State(stub): State<Stub>, body: axum::Json<Value>) -> Response {
        let email = body["email"].as_str().unwrap_or_default().to_owned();
        stub.seen.lock().unwrap().push(email.clone());
        let mut script = stub.script.lock().unwrap();
        let answers = script.get_mut(&email).expect("scripted email");
        let (status, body) = if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers[0].clone()
        };
        let mut response = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
        if status == 429 {
            response.headers_mut().insert("retry-after", "0".parse().unwrap());
        }
        response
    }

    fn ok(created: bool) -> (u16, Value) {
        (
            200,
            json!({"status_code": 200, "request_id": "r", "user_id": "user-test-1", "user_created": created}),
        )
    }

    fn err(status: u16, error_type: &str) -> (u16, Value) {
        (
            status,
            json!({"status_code": status, "request_id": "r", "error_type": error_type, "error_message": "m", "error_url": "u"}),
        )
    }

    struct Fixture {
        dir: PathBuf,
        base: String,
        stub: Stub,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    async fn fixture(name: &str, script: Vec<(&str, Vec<(u16, Value)>)>) -> Fixture {
        let stub = Stub::default();
        for (email, answers) in script {
            stub.script.lock().unwrap().insert(email.into(), answers.into());
        }
        let app = axum::Router::new()
            .route("/v1/passwords/migrate", post(migrate))
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let dir = std::env::temp_dir().join(format!("latch-pipeline-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Fixture { dir, base, stub }
    }

    /// The journal with these entries written by an earlier run.
    fn earlier_run(dir: &Path, entries: &[Entry]) {
        let (journal, _) = Journal::open(&dir.join("journal"), &subject(), false).unwrap();
        for e in entries {
            journal.record(e).unwrap();
        }
    }

    fn subject() -> Subject {
        Subject {
            input: "in".into(),
            fingerprint: Fingerprint {
                size: 1,
                sha256: "ab".repeat(32),
            },
            url: "http://127.0.0.1/".into(),
            organization_id: None,
        }
    }

    fn row(line: u64, email: &str) -> SourceRow {
        let fields = json!({"email": email, "hash_type": "md_5", "hash": "00"});
        SourceRow {
            line,
            request: request::build(fields.as_object().unwrap().clone(), None),
        }
    }

    /// Run the pipeline over `rows`; the tally, the stop reason and the journal's row entries.
    async fn run(f: &Fixture, rows: Vec<SourceRow>, retry_failed: bool) -> (Tally, Option<Ending>, Vec<Entry>) {
        let creds = ProjectCredentials {
            project_id: "p".into(),
            secret: "s".into(),
        };
        let journal_path = f.dir.join("journal");
        let (journal, history) = Journal::open(&journal_path, &subject(), false).unwrap();
        let shared = Arc::new(Shared {
            client: MigrateClient::new(&f.base, creds, Duration::from_secs(5)).unwrap(),
            limiter: RateLimiter::per_second(1000),
            journal,
            report: ErrorReport::create(&f.dir.join("errors"), []).unwrap(),
            history,
            progress: Progress::new(rows.len() as u64),
            stop: Stop::new(),
            tally: Mutex::new(Tally::default()),
            retries: 2,
            backoff: Duration::from_millis(1),
            retry_failed,
        });
        let (tx, rx) = mpsc::channel(rows.len() + 1);
        for r in rows {
            tx.send(Ok(r)).await.unwrap();
        }
        drop(tx);
        send_rows(shared.clone(), rx, 4).await;
        let shared = Arc::into_inner(shared).unwrap();
        let entries = std::fs::read_to_string(&journal_path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| serde_json::from_str::<Entry>(l).unwrap())
            .filter(|e| !matches!(e, Entry::Run { .. }))
            .collect();
        (shared.tally.into_inner().unwrap(), shared.stop.reason(), entries)
    }

    fn seen(f: &Fixture, email: &str) -> usize {
        f.stub.seen.lock().unwrap().iter().filter(|e| *e == email).count()
    }

    #[tokio::test]
    async fn answers_worth_retrying_are_retried_and_final_ones_recorded() {
        let f = fixture(
            "retry",
            vec![
                ("new@x.com", vec![ok(true)]),
                (
                    "flaky@x.com",
                    vec![err(503, "unavailable"), err(429, "too_many_requests"), ok(false)],
                ),
                ("down@x.com", vec![err(500, "internal_server_error")]),
                ("bad@x.com", vec![err(400, "invalid_md_5_hash")]),
            ],
        )
        .await;
        let invalid = SourceRow {
            line: 5,
            request: Err(InvalidRow::new("not JSON")),
        };
        let rows = vec![
            row(1, "new@x.com"),
            row(2, "flaky@x.com"),
            row(3, "down@x.com"),
            row(4, "bad@x.com"),
            invalid,
        ];
        let (tally, stop, entries) = run(&f, rows, false).await;
        assert_eq!(stop, None);
        assert_eq!((tally.created, tally.existing, tally.failed_now), (1, 1, 3));
        assert_eq!(
            [
                seen(&f, "new@x.com"),
                seen(&f, "flaky@x.com"),
                seen(&f, "down@x.com"),
                seen(&f, "bad@x.com")
            ],
            [1, 3, 3, 1],
            "retries: 2 after the first try"
        );
        let finals: HashMap<u64, &Entry> = entries
            .iter()
            .filter(|e| !matches!(e, Entry::Started { .. }))
            .map(|e| (e.line().unwrap(), e))
            .collect();
        assert_eq!(finals[&1], &Entry::Created { line: 1 });
        assert_eq!(finals[&2], &Entry::Existing { line: 2 });
        assert!(
            matches!(finals[&3], Entry::Failed(f) if f.status == Some(500) && f.error_type == "internal_server_error")
        );
        assert!(matches!(finals[&4], Entry::Failed(f) if f.email.as_deref() == Some("bad@x.com")));
        assert!(matches!(finals[&5], Entry::Failed(f) if f.status.is_none() && f.error_type == INVALID_ROW));
        let started: Vec<u64> = entries
            .iter()
            .filter(|e| matches!(e, Entry::Started { .. }))
            .map(|e| e.line().unwrap())
            .collect();
        assert_eq!(
            started.len(),
            4,
            "each sent row is started once, the invalid one never: {started:?}"
        );
        let report = std::fs::read_to_string(f.dir.join("errors")).unwrap();
        assert_eq!(report.lines().count(), 3);
        assert!(!report.contains("\"00\""), "no hash in the report: {report}");
    }

    #[tokio::test]
    async fn finished_rows_are_not_sent_again_and_in_flight_ones_are() {
        let f = fixture(
            "resume",
            vec![
                ("done@x.com", vec![ok(true)]),
                ("failed@x.com", vec![ok(true)]),
                ("inflight@x.com", vec![err(400, "password_already_exists")]),
                ("conflict@x.com", vec![err(400, "password_already_exists")]),
                ("refused@x.com", vec![err(400, "password_already_exists")]),
            ],
        )
        .await;
        let failed_before = Failure {
            line: 2,
            email: Some("failed@x.com".into()),
            status: Some(400),
            error_type: "invalid_md_5_hash".into(),
            error_message: "m".into(),
        };
        earlier_run(
            &f.dir,
            &[
                Entry::Started { line: 1 },
                Entry::Created { line: 1 },
                Entry::Started { line: 2 },
                Entry::Failed(failed_before),
                Entry::Started { line: 3 },
                Entry::Started { line: 5 },
                Entry::NotApplied { line: 5 },
            ],
        );
        let rows = vec![
            row(1, "done@x.com"),
            row(2, "failed@x.com"),
            row(3, "inflight@x.com"),
            row(4, "conflict@x.com"),
            row(5, "refused@x.com"),
        ];
        let (tally, _, entries) = run(&f, rows, false).await;
        assert_eq!(seen(&f, "done@x.com"), 0);
        assert_eq!(seen(&f, "failed@x.com"), 0);
        assert_eq!(seen(&f, "inflight@x.com"), 1);
        // In flight when the earlier run stopped: imported by it.
        assert!(entries.contains(&Entry::ImportedEarlier { line: 3 }));
        assert_eq!(tally.imported_earlier, 1);
        // Never sent before, or certainly not applied: the conflict is real.
        assert_eq!(tally.failed_now, 2);
        assert!(entries.iter().any(|e| matches!(e, Entry::Failed(f) if f.line == 4)));
        assert!(entries.iter().any(|e| matches!(e, Entry::Failed(f) if f.line == 5)));

        // --retry-failed sends the failed rows again.
        let (tally, _, _) = run(&f, vec![row(1, "done@x.com"), row(2, "failed@x.com")], true).await;
        assert_eq!((seen(&f, "done@x.com"), seen(&f, "failed@x.com")), (0, 1));
        assert_eq!(tally.created, 1);
    }

    #[tokio::test]
    async fn refused_credentials_stop_the_run_and_leave_rows_unapplied() {
        let emails: Vec<String> = (0..20).map(|i| format!("u{i}@x.com")).collect();
        let script = emails
            .iter()
            .map(|e| (e.as_str(), vec![err(401, "unauthorized_credentials")]))
            .collect();
        let f = fixture("fatal", script).await;
        let rows = emails.iter().zip(1..).map(|(e, line)| row(line, e)).collect();
        let (tally, stop, entries) = run(&f, rows, false).await;
        assert!(matches!(stop, Some(Ending::Fatal(m)) if m.contains("credentials")));
        assert_eq!(tally, Tally::default(), "no row has an outcome");
        let sent = f.stub.seen.lock().unwrap().len();
        assert!(sent <= 4, "at most the rows in flight are sent: {sent}");
        let mut history = History::default();
        for e in entries {
            history.apply(e);
        }
        for line in 1..=20 {
            assert!(!history.unresolved(line) && history.done(line).is_none(), "line {line}");
        }
    }
}
