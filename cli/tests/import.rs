//! `latch import` end to end, against `latch serve` on loopback with its own data directory: a
//! 10,000-row JSON Lines export of every known-answer hash type (tests/data/migrate) killed with
//! SIGKILL part-way and resumed; a CSV export interrupted with Ctrl-C (SIGINT) and resumed; a
//! B2B export. A counting proxy between the command and the server sees every request it sends,
//! and the imported users then log in with their old passwords.

use std::collections::{BTreeSet, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

mod support;

use support::{Server, TempDir, LATCH};
/// The longest any one `latch import` run may take here.
const RUN_LIMIT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// Processes and files the tests make, removed (stopped) on every exit, failures included.

/// A child process, killed (by its PID, SIGKILL) and reaped when dropped if still running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A proxy that forwards to the server and writes down every migrate request it forwards.

/// One migrate request: for whom, and the server's status (None if the client went away first).
#[derive(Debug, Clone)]
struct Sent {
    email: String,
    status: Option<u16>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> (Self, String) {
        let proxy = Self {
            upstream: upstream.to_owned(),
            http: reqwest::Client::new(),
            sent: Arc::default(),
        };
        let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (proxy, base)
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    /// How many migrate requests were sent for each email.
    fn per_email(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for s in self.sent() {
            *counts.entry(s.email).or_default() += 1;
        }
        counts
    }
}

async fn forward(
    axum::extract::State(proxy): axum::extract::State<Proxy>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let index = parts.uri.path().ends_with("/passwords/migrate").then(|| {
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let email = json
            .get("email")
            .or_else(|| json.get("email_address"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut sent = proxy.sent.lock().unwrap();
        sent.push(Sent {
            email: email.to_owned(),
            status: None,
        });
        sent.len() - 1
    });
    let mut upstream = proxy
        .http
        .request(parts.method, format!("{}{}", proxy.upstream, parts.uri.path()));
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.body(body).send().await.unwrap();
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap();
    if let Some(i) = index {
        proxy.sent.lock().unwrap()[i].status = Some(status.as_u16());
    }
    axum::response::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(bytes))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The known-answer vectors, and the exports made from them.

struct Vector {
    name: String,
    password: String,
    /// A wrong password that is not empty (an empty one is a malformed request, not a wrong one).
    wrong: String,
    migrate: Map<String, Value>,
}

fn vectors() -> Vec<Vector> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/migrate/vectors.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let vectors: Vec<Vector> = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_owned(),
            password: v["password"].as_str().unwrap().to_owned(),
            wrong: v["wrong_passwords"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .find(|w| !w.is_empty())
                .unwrap()
                .to_owned(),
            migrate: v["migrate"].as_object().unwrap().clone(),
        })
        .collect();
    assert!(vectors.len() > 10, "{}", path.display());
    vectors
}

fn email(kind: &str, i: usize) -> String {
    format!("{kind}{i}@import.test")
}

/// A row of the export as written; `vector` is None for the deliberately bad ones.
struct Row {
    line: u64,
    email: String,
    vector: Option<usize>,
}

// ---------------------------------------------------------------------------------------------
// Running `latch import`.

struct Import {
    process: KillOnDrop,
    stdout: PathBuf,
    stderr: PathBuf,
}

struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Start `latch import FILE --url URL ARGS...`, output to files beside the export.
fn spawn_import(dir: &TempDir, tag: &str, file: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Import {
    let stdout = dir.path(&format!("{tag}.stdout"));
    let stderr = dir.path(&format!("{tag}.stderr"));
    let mut command = Command::new(LATCH);
    command
        .arg("import")
        .arg(file)
        .args(["--url", url])
        .args(args)
        .env_remove("LATCH_PROJECT_ID")
        .env_remove("LATCH_SECRET")
        .env_remove("LATCH_URL")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    for (k, v) in env {
        command.env(k, v);
    }
    Import {
        process: KillOnDrop(command.spawn().expect("latch import starts")),
        stdout,
        stderr,
    }
}

impl Import {
    fn pid(&self) -> i32 {
        self.process.0.id() as i32
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.process.0.try_wait().unwrap()
    }

    /// Wait (polling) for the process to end.
    async fn wait(mut self) -> Finished {
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(status) = self.exited() {
                break status;
            }
            assert!(Instant::now() < deadline, "latch import ran for over {RUN_LIMIT:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Finished {
            status,
            stdout: std::fs::read_to_string(&self.stdout).unwrap(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap(),
        }
    }

    /// Poll the journal until `rows` rows have an outcome, then send `signal`. Panics if the
    /// import ends first.
    async fn signal_after(&mut self, journal: &Path, rows: usize, signal: i32) {
        let deadline = Instant::now() + RUN_LIMIT;
        loop {
            if let Some(status) = self.exited() {
                panic!(
                    "latch import ended ({status}) before {rows} rows were done:\n{}",
                    std::fs::read_to_string(&self.stderr).unwrap()
                );
            }
            if Journal::read(journal).finished_rows() >= rows {
                break;
            }
            assert!(Instant::now() < deadline, "{rows} rows not done in {RUN_LIMIT:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // SAFETY: kill(2) on the PID of our own child, which has not been reaped yet.
        let sent = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(sent, 0, "kill({}, {signal})", self.pid());
    }
}

/// The numbers on the summary line that starts with `label` (e.g. "imported:" gives the
/// count, then the created and existing counts); empty if there is no such line.
fn numbers(summary: &str, label: &str) -> Vec<u64> {
    summary
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn count(summary: &str, label: &str) -> u64 {
    *numbers(summary, label)
        .first()
        .unwrap_or_else(|| panic!("no {label:?} line in the summary:\n{summary}"))
}

// ---------------------------------------------------------------------------------------------
// Reading the journal (one JSON object per line after the header).

struct Journal {
    entries: Vec<Value>,
}

impl Journal {
    fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // A last line still being written is not an event yet.
        let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
        Self {
            entries: complete
                .lines()
                .skip(1)
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        }
    }

    fn event(e: &Value) -> &str {
        e["event"].as_str().unwrap()
    }

    fn line(e: &Value) -> u64 {
        e["line"].as_u64().unwrap()
    }

    /// The lines with an outcome.
    fn finished(&self) -> BTreeSet<u64> {
        self.entries
            .iter()
            .filter(|e| !matches!(Self::event(e), "run" | "started" | "not_applied"))
            .map(Self::line)
            .collect()
    }

    fn finished_rows(&self) -> usize {
        self.finished().len()
    }

    /// The lines started (at least once).
    fn started(&self) -> BTreeSet<u64> {
        self.entries
            .iter()
            .filter(|e| Self::event(e) == "started")
            .map(Self::line)
            .collect()
    }

    /// The lines started in run `n` (numbered from 1).
    fn started_in_run(&self, n: u64) -> BTreeSet<u64> {
        let mut run = 0;
        let mut lines = BTreeSet::new();
        for e in &self.entries {
            match Self::event(e) {
                "run" => run = e["run"].as_u64().unwrap(),
                "started" if run == n => {
                    lines.insert(Self::line(e));
                }
                _ => {}
            }
        }
        lines
    }

    fn runs(&self) -> u64 {
        self.entries.iter().filter(|e| Self::event(e) == "run").count() as u64
    }
}

fn report(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Log in as a consumer user: the wrong password is refused, the right one accepted (twice: the
/// second time against the argon2id hash that replaced the imported one).
async fn assert_logs_in(server: &Server, email: &str, v: &Vector) {
    let path = "/v1/passwords/authenticate";
    let (status, body) = server.post(path, json!({"email": email, "password": v.wrong})).await;
    assert_eq!(status, 401, "{} ({email}), wrong password: {body}", v.name);
    for attempt in ["first", "second"] {
        let (status, body) = server.post(path, json!({"email": email, "password": v.password})).await;
        assert_eq!(status, 200, "{} ({email}), {attempt} login: {body}", v.name);
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jsonl_export_survives_sigkill_imports_every_row_once_and_users_log_in() {
    const ROWS: usize = 10_000;
    let dir = TempDir::new("jsonl");
    let server = Server::start(&dir.path("server"), &[]);
    let (proxy, proxy_url) = Proxy::start(&server.base).await;
    let vectors = vectors();

    // The export: every vector in turn with distinct emails, one hash the server refuses and
    // one line that is not JSON.
    let mut text = String::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut line = 0;
    for i in 0..ROWS {
        if i == 4321 {
            line += 1;
            let bad = json!({"email": email("bad", 0), "hash_type": "bcrypt", "hash": "$2b$10$bad"});
            text.push_str(&format!("{bad}\n"));
            rows.push(Row {
                line,
                email: email("bad", 0),
                vector: None,
            });
        }
        if i == 7654 {
            line += 1;
            text.push_str(&format!("{{\"email\": \"{}\", \"hash_type\": \n", email("broken", 0)));
            rows.push(Row {
                line,
                email: email("broken", 0),
                vector: None,
            });
        }
        line += 1;
        let mut fields = vectors[i % vectors.len()].migrate.clone();
        fields.insert("email".into(), Value::String(email("user", i)));
        text.push_str(&format!("{}\n", Value::Object(fields)));
        rows.push(Row {
            line,
            email: email("user", i),
            vector: Some(i % vectors.len()),
        });
    }
    let file = dir.path("users.jsonl");
    std::fs::write(&file, text).unwrap();
    let journal_path = dir.path("users.jsonl.journal");
    let data_dir = dir.path("server");
    let args = [
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--rate",
        "2000",
        "--concurrency",
        "32",
    ];
    let bad_line = rows.iter().find(|r| r.email == email("bad", 0)).unwrap().line;
    let broken_line = rows.iter().find(|r| r.email == email("broken", 0)).unwrap().line;
    let started = Instant::now();

    // (b) Run 1, killed with SIGKILL once 3,000 rows are done.
    let mut first = spawn_import(&dir, "run1", &file, &proxy_url, &args, &[]);
    first.signal_after(&journal_path, 3000, libc::SIGKILL).await;
    let killed = first.wait().await;
    assert_eq!(killed.status.signal(), Some(libc::SIGKILL), "{killed:?}");
    let after_kill = Journal::read(&journal_path);
    let done_by_run1 = after_kill.finished();
    let in_flight: BTreeSet<u64> = after_kill.started().difference(&done_by_run1).copied().collect();
    assert!(done_by_run1.len() >= 3000);
    assert!(
        in_flight.len() <= 32,
        "at most --concurrency rows in flight: {in_flight:?}"
    );
    eprintln!(
        "run 1 killed after {:?}: {} rows done, {} in flight",
        started.elapsed(),
        done_by_run1.len(),
        in_flight.len()
    );

    // Run 2 resumes and finishes: every row but the two bad ones imported.
    let second = spawn_import(&dir, "run2", &file, &proxy_url, &args, &[]).wait().await;
    eprintln!("run 2 done after {:?}", started.elapsed());
    assert_eq!(second.code(), Some(1), "some rows failed: {second:?}");
    let summary = &second.stdout;
    let bad_done_by_run1 = [bad_line, broken_line]
        .iter()
        .filter(|l| done_by_run1.contains(l))
        .count() as u64;
    let good_done_by_run1 = done_by_run1.len() as u64 - bad_done_by_run1;
    assert_eq!(count(summary, "total rows:"), ROWS as u64 + 2, "{summary}");
    assert_eq!(count(summary, "failed:"), 2, "{summary}");
    assert_eq!(
        numbers(summary, "already imported:"),
        [good_done_by_run1, good_done_by_run1],
        "{summary}"
    );
    let imported = numbers(summary, "imported:");
    assert_eq!(imported[0], ROWS as u64 - good_done_by_run1, "{summary}");
    assert_eq!(imported[0], imported[1] + imported[2], "created + existing: {summary}");
    assert!(
        imported[2] <= in_flight.len() as u64,
        "only rows in flight can exist already: {summary}"
    );
    assert!(numbers(summary, "not yet imported:").is_empty(), "{summary}");
    assert!(second.stderr.contains("resuming from"), "{second:?}");
    assert!(
        second
            .stderr
            .contains(&format!("/{} rows (100%)", ROWS + 2 - done_by_run1.len())),
        "{second:?}"
    );

    // No finished row was started again, and the proxy saw each row sent once, but for the
    // rows in flight at the kill (sent again, at most once more).
    let journal = Journal::read(&journal_path);
    assert_eq!(journal.runs(), 2);
    let restarted: Vec<u64> = journal.started_in_run(2).intersection(&done_by_run1).copied().collect();
    assert!(restarted.is_empty(), "rows finished by run 1 sent again: {restarted:?}");
    assert_eq!(journal.finished().len(), ROWS + 2);
    let per_email = proxy.per_email();
    let sent = proxy.sent();
    for row in &rows {
        let n = per_email.get(&row.email).copied().unwrap_or(0);
        if row.line == broken_line {
            assert_eq!(n, 0, "an unparsable row is never sent");
        } else if in_flight.contains(&row.line) {
            assert!((1..=2).contains(&n), "line {} sent {n} times", row.line);
        } else {
            assert_eq!(n, 1, "line {} ({}) sent {n} times", row.line, row.email);
        }
        if row.vector.is_some() {
            assert!(
                sent.iter().any(|s| s.email == row.email && s.status == Some(200)),
                "line {} was never imported",
                row.line
            );
        }
    }

    // The error report: exactly the two bad rows, in line order, no hash.
    let errors = report(&dir.path("users.jsonl.errors.jsonl"));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0]["line"], bad_line);
    assert_eq!(errors[0]["email"], email("bad", 0));
    assert_eq!(errors[0]["status"], 400);
    assert_eq!(errors[0]["error_type"], "invalid_bcrypt_hash");
    assert!(errors[0]["error_message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(errors[1]["line"], broken_line);
    assert_eq!(errors[1]["status"], Value::Null);
    assert_eq!(errors[1]["error_type"], "invalid_row");
    for e in &errors {
        let keys: BTreeSet<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["line", "email", "status", "error_type", "error_message"])
        );
    }
    assert!(!std::fs::read_to_string(dir.path("users.jsonl.errors.jsonl"))
        .unwrap()
        .contains("$2b$10$bad"));

    // Run 3: nothing left to send.
    let requests_before = proxy.sent().len();
    let third = spawn_import(&dir, "run3", &file, &proxy_url, &args, &[]).wait().await;
    assert_eq!(third.code(), Some(1), "the two failed rows still stand: {third:?}");
    assert_eq!(proxy.sent().len(), requests_before, "run 3 sent requests");
    assert_eq!(numbers(&third.stdout, "imported:"), [0, 0, 0], "{third:?}");
    assert_eq!(count(&third.stdout, "already imported:"), ROWS as u64, "{third:?}");
    assert_eq!(numbers(&third.stdout, "failed:")[..2], [2, 2], "{third:?}");
    assert!(Journal::read(&journal_path).started_in_run(3).is_empty());

    // (c) The users log in with their old passwords: one per vector, the rows that were in
    // flight at the kill, and a spread of others.
    for (v, vector) in vectors.iter().enumerate() {
        assert_logs_in(&server, &email("user", v), vector).await;
    }
    let sample = rows
        .iter()
        .filter(|r| r.vector.is_some())
        .filter(|r| in_flight.contains(&r.line) || r.line % 997 == 0);
    for row in sample {
        assert_logs_in(&server, &row.email, &vectors[row.vector.unwrap()]).await;
    }

    // A row in flight when a run was killed, whose user has logged in since (the hash is now
    // argon2id): the next run sends it again, and the server's password_already_exists means
    // "imported by the killed run", not a failure. Made exact here by taking user0's outcome
    // out of the journal, which is what a kill between the answer and its entry leaves.
    let user0 = rows.iter().find(|r| r.email == email("user", 0)).unwrap().line;
    let text = std::fs::read_to_string(&journal_path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            e["line"] != user0 || e["event"] == "started"
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept.lines().count() + 1, text.lines().count());
    std::fs::write(&journal_path, kept).unwrap();
    let requests_before = proxy.sent().len();
    let fourth = spawn_import(&dir, "run4", &file, &proxy_url, &args, &[]).wait().await;
    assert_eq!(fourth.code(), Some(1), "{fourth:?}");
    let new: Vec<Sent> = proxy.sent()[requests_before..].to_vec();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        (new[0].email.as_str(), new[0].status),
        (email("user", 0).as_str(), Some(400))
    );
    assert_eq!(
        numbers(&fourth.stdout, "already imported:"),
        [ROWS as u64, ROWS as u64 - 1, 1],
        "{fourth:?}"
    );
    assert_eq!(count(&fourth.stdout, "failed:"), 2, "{fourth:?}");
    assert!(Journal::read(&journal_path)
        .entries
        .contains(&json!({"event": "imported_earlier", "line": user0})));
    assert_eq!(report(&dir.path("users.jsonl.errors.jsonl")).len(), 2);
    let (status, _) = server
        .post(
            "/v1/passwords/authenticate",
            json!({"email": email("user", 0), "password": vectors[0].password}),
        )
        .await;
    assert_eq!(status, 200, "the import changed nothing for user0");
    eprintln!("done after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_export_with_dotted_columns_survives_ctrl_c_and_imports() {
    const ROWS: usize = 300;
    let dir = TempDir::new("csv");
    let server = Server::start(&dir.path("server"), &[]);
    let (proxy, proxy_url) = Proxy::start(&server.base).await;
    let vectors = vectors();

    // Columns: the vectors' fields, nested ones dotted, plus a name and metadata.
    let flat: Vec<Map<String, Value>> = vectors
        .iter()
        .map(|v| {
            let mut flat = Map::new();
            for (k, value) in &v.migrate {
                match value {
                    Value::Object(config) => {
                        for (ck, cv) in config {
                            flat.insert(format!("{k}.{ck}"), cv.clone());
                        }
                    }
                    other => {
                        flat.insert(k.clone(), other.clone());
                    }
                }
            }
            flat
        })
        .collect();
    let mut columns: Vec<String> = vec!["email".into()];
    for f in &flat {
        for k in f.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    for extra in [
        "name.first_name",
        "name.last_name",
        "set_email_verified",
        "trusted_metadata",
    ] {
        columns.push(extra.into());
    }
    assert!(columns.iter().any(|c| c == "scrypt_config.n_parameter"));
    assert!(columns.iter().any(|c| c == "pbkdf_2_config.iteration_amount"));
    let file = dir.path("users.csv");
    let mut csv = csv::Writer::from_path(&file).unwrap();
    csv.write_record(&columns).unwrap();
    for i in 0..ROWS {
        let v = i % vectors.len();
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match c.as_str() {
                "email" => email("csv", i),
                "name.first_name" => format!("First{i}"),
                "name.last_name" => "Imported, \"CSV\"".into(),
                "set_email_verified" => "true".into(),
                "trusted_metadata" => json!({"source": "csv", "row": i}).to_string(),
                other => match flat[v].get(other) {
                    None => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(n) => n.to_string(),
                },
            })
            .collect();
        csv.write_record(&cells).unwrap();
    }
    csv.flush().unwrap();
    drop(csv);
    let journal_path = dir.path("users.csv.journal");
    let env = [
        ("LATCH_PROJECT_ID", server.auth.0.as_str()),
        ("LATCH_SECRET", server.auth.1.as_str()),
    ];
    let args = ["--rate", "100", "--concurrency", "8"];

    // Ctrl-C part-way: the command stops sending, lets the requests in flight finish, and
    // records them; exit code 130.
    let mut first = spawn_import(&dir, "run1", &file, &proxy_url, &args, &env);
    first.signal_after(&journal_path, 60, libc::SIGINT).await;
    let interrupted = first.wait().await;
    assert_eq!(interrupted.code(), Some(130), "{interrupted:?}");
    assert!(interrupted.stdout.contains("interrupted"), "{interrupted:?}");
    let not_yet = count(&interrupted.stdout, "not yet imported:");
    assert!(not_yet > 0, "{interrupted:?}");
    assert_eq!(
        count(&interrupted.stdout, "imported:") + not_yet,
        ROWS as u64,
        "{interrupted:?}"
    );
    for output in [&interrupted.stdout, &interrupted.stderr] {
        assert!(
            !output.contains(&server.auth.1),
            "the secret is never printed: {interrupted:?}"
        );
    }
    let journal = Journal::read(&journal_path);
    let unfinished: Vec<u64> = journal.started().difference(&journal.finished()).copied().collect();
    assert!(unfinished.is_empty(), "rows left in flight: {unfinished:?}");
    let done_by_run1 = journal.finished().len() as u64;
    assert_eq!(done_by_run1, count(&interrupted.stdout, "imported:"));

    let second = spawn_import(&dir, "run2", &file, &proxy_url, &args, &env).wait().await;
    assert_eq!(second.code(), Some(0), "{second:?}");
    assert_eq!(
        numbers(&second.stdout, "imported:"),
        [ROWS as u64 - done_by_run1, ROWS as u64 - done_by_run1, 0],
        "{second:?}"
    );
    assert_eq!(count(&second.stdout, "already imported:"), done_by_run1);
    assert_eq!(count(&second.stdout, "failed:"), 0);
    assert!(
        !dir.path("users.csv.errors.jsonl").exists(),
        "no report without failures"
    );
    let per_email = proxy.per_email();
    assert_eq!(per_email.len(), ROWS);
    assert!(per_email.values().all(|n| *n == 1), "every row sent once");
    assert!(proxy.sent().iter().all(|s| s.status == Some(200)));

    // The users log in; the dotted name and JSON metadata columns arrived as fields.
    for (v, vector) in vectors.iter().enumerate() {
        assert_logs_in(&server, &email("csv", v), vector).await;
    }
    let (status, login) = server
        .post(
            "/v1/passwords/authenticate",
            json!({"email": email("csv", 7), "password": vectors[7].password}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, user) = server
        .get(&format!("/v1/users/{}", login["user_id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["name"]["first_name"], "First7", "{user}");
    assert_eq!(user["name"]["last_name"], "Imported, \"CSV\"", "{user}");
    assert_eq!(user["trusted_metadata"], json!({"source": "csv", "row": 7}), "{user}");
    assert_eq!(user["emails"][0]["verified"], true, "{user}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_b2b_export_imports_members_who_then_log_in() {
    let dir = TempDir::new("b2b");
    let server = Server::start(&dir.path("server"), &[]);
    let vectors = vectors();
    let (status, org) = server
        .post(
            "/v1/b2b/organizations",
            json!({"organization_name": "Imported Co", "organization_slug": "imported-co"}),
        )
        .await;
    assert_eq!(status, 200, "{org}");
    let org_id = org["organization"]["organization_id"].as_str().unwrap().to_owned();

    // One vector of each hash type; rows name the member by `email` (sent as email_address)
    // and get the organization from --organization-id, except one with its own organization_id
    // (the slug) and `email_address`.
    let mut picked: Vec<usize> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let kind = &v.migrate["hash_type"];
        if !picked.iter().any(|p| vectors[*p].migrate["hash_type"] == *kind) {
            picked.push(i);
        }
    }
    assert!(picked.len() >= 9, "every hash type: {picked:?}");
    let mut text = String::new();
    for (n, &v) in picked.iter().enumerate() {
        let mut fields = vectors[v].migrate.clone();
        if n == 0 {
            fields.insert("email_address".into(), Value::String(email("member", n)));
            fields.insert("organization_id".into(), json!("imported-co"));
        } else {
            fields.insert("email".into(), Value::String(email("member", n)));
        }
        text.push_str(&format!("{}\n", Value::Object(fields)));
    }
    let file = dir.path("members.ndjson");
    std::fs::write(&file, text).unwrap();
    let data_dir = dir.path("server");
    let run = spawn_import(
        &dir,
        "run",
        &file,
        &server.base,
        &["--data-dir", data_dir.to_str().unwrap(), "--organization-id", &org_id],
        &[],
    )
    .wait()
    .await;
    assert_eq!(run.code(), Some(0), "{run:?}");
    let n = picked.len() as u64;
    assert_eq!(numbers(&run.stdout, "imported:"), [n, n, 0], "{run:?}");

    for (n, &v) in picked.iter().enumerate() {
        let vector = &vectors[v];
        let login = |password: &str| json!({"organization_id": org_id, "email_address": email("member", n), "password": password});
        let (status, body) = server
            .post("/v1/b2b/passwords/authenticate", login(&vector.wrong))
            .await;
        assert_eq!(status, 401, "{}: {body}", vector.name);
        let (status, body) = server
            .post("/v1/b2b/passwords/authenticate", login(&vector.password))
            .await;
        assert_eq!(status, 200, "{}: {body}", vector.name);
        assert!(body["member_id"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
}
