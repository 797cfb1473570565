//! The Lambda functions (issue 9): every function binary's size for x86_64 and arm64, stripped
//! as deployed, and every x86_64 binary's cold start (process spawn → its first answer) through a
//! Lambda Runtime API emulator of our own, with its memory once idle.
//!
//! Why an emulator here rather than `cargo lambda watch`: `watch` starts each function through
//! `cargo run` on its first invocation, so what it can time is cargo's start-up and freshness
//! check plus the function's, with no hook at the moment the process starts. The emulator below
//! serves the same Runtime API the Lambda service (and `watch`) serves (`invocation/next`,
//! `invocation/{id}/response`, the error endpoints) to the bootstrap binary itself, spawned with
//! the environment Lambda gives it, so the clock starts at the `spawn` and stops when the
//! response is posted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::stats::Summary;

/// The project the functions are started for (credentials given in the environment, as Lambda
/// gives them from Secrets Manager, so no start generates any).
pub const PROJECT_ID: &str = "project-test-99999999-9999-4999-8999-999999999999";
/// The request every function is sent, in words, for the report.
pub const REQUEST: &str = "an API Gateway HTTP API (payload 2.0) event for the function's own route, \
     with the project's Basic credentials: `POST`/`PUT` routes get the body `{}`, `GET`/`DELETE` routes \
     placeholder ids in the path (`user-test-0000…`), so each answers without hashing or writing: 400 in \
     Stytch's envelope from validation, or 404 after one store read (the organization routes look the \
     organization up first); the JWKS routes get the real project id and answer 200";
/// How long one start may take before it counts as failed.
const START_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Options {
    /// One binary per `*.rs` file here (functions/src/bin).
    pub sources: PathBuf,
    /// The x86_64 binaries, in the bench's profile: sized, and started for the cold starts.
    pub x86_64_dir: Option<PathBuf>,
    /// The arm64 binaries, in the bench's profile: sized only (they cannot run here).
    pub arm64_dir: Option<PathBuf>,
    /// Binaries in the deployed `release` profile (fat LTO, one codegen unit, stripped), sized.
    pub deployed: Vec<PathBuf>,
    /// The profile of the two directories above.
    pub profile: String,
    pub cold_starts: usize,
    /// How long a function sits idle after its first answer before its memory is read.
    pub idle: Duration,
}

impl Options {
    pub fn new(quick: bool) -> Self {
        Self {
            sources: PathBuf::from("functions/src/bin"),
            x86_64_dir: None,
            arm64_dir: None,
            deployed: Vec::new(),
            profile: crate::machine::PROFILE.into(),
            cold_starts: if quick { 2 } else { 5 },
            idle: Duration::from_secs(1),
        }
    }
}

/// One binary on disk.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    pub name: String,
    /// From the ELF header: `x86_64` or `aarch64`.
    pub arch: String,
    pub profile: String,
    pub path: String,
    /// As the build left it.
    pub bytes: u64,
    /// After `strip --strip-all` (what `strip = true` gives); `None` when no tool could.
    pub stripped_bytes: Option<u64>,
}

impl Binary {
    /// The deployed form's size: stripped when a tool could strip it, else as built.
    pub fn size(&self) -> u64 {
        self.stripped_bytes.unwrap_or(self.bytes)
    }
}

/// Sizes of one architecture's binaries.
#[derive(Debug, Clone, Serialize)]
pub struct SizeSummary {
    pub arch: String,
    pub n: usize,
    /// Whether every figure is stripped (else some are as built).
    pub stripped: bool,
    pub min_bytes: u64,
    pub median_bytes: u64,
    pub max_bytes: u64,
    pub largest: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cold {
    /// `POST /v1/passwords`, with the placeholders filled.
    pub request: String,
    /// The answer's status and Stytch `error_type`, from the first start.
    pub status: u16,
    pub error_type: Option<String>,
    /// Spawn → the response posted to the emulator, per start, in order.
    pub answer_ms: Vec<f64>,
    /// Spawn → the first `GET invocation/next` (the state is built, the runtime is up).
    pub init_ms: Vec<f64>,
    pub answer: Summary,
    pub init: Summary,
    /// `/proc/<pid>/status` of the last start, `idle` after its answer, in KiB.
    pub idle_rss_kib: Option<u64>,
    pub idle_hwm_kib: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub name: String,
    pub x86_64: Option<Binary>,
    pub arm64: Option<Binary>,
    pub cold: Option<Cold>,
    /// Why a part is missing.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColdStarts {
    pub arch: String,
    pub starts_per_function: usize,
    pub idle_wait_ms: u64,
    pub request: String,
    /// Every start of every function.
    pub answer: Summary,
    pub init: Summary,
    /// The function with the largest median, and that median.
    pub slowest_function: String,
    pub slowest_median_ms: f64,
    /// The one start on an empty store, which creates the project's signing key (once per
    /// deployment); not among the starts above.
    pub first_start_with_key_creation_ms: Option<f64>,
    pub idle_rss_kib: Option<KibSpread>,
    pub idle_hwm_kib: Option<KibSpread>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct KibSpread {
    pub min: u64,
    pub median: u64,
    pub max: u64,
}

impl KibSpread {
    fn of(values: impl IntoIterator<Item = u64>) -> Option<Self> {
        let mut v: Vec<u64> = values.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        Some(Self {
            min: v[0],
            median: v[v.len() / 2],
            max: v[v.len() - 1],
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LambdaResults {
    pub profile: String,
    pub strip_tool: Option<String>,
    pub functions: Vec<Function>,
    pub sizes: Vec<SizeSummary>,
    /// The deployed `release` profile, for the representative functions built in it.
    pub deployed: Vec<Binary>,
    pub cold_start: Option<ColdStarts>,
    pub notes: Vec<String>,
}

impl LambdaResults {
    pub fn size(&self, arch: &str) -> Option<&SizeSummary> {
        self.sizes.iter().find(|s| s.arch == arch)
    }
}

/// Function `name`'s binary in `dir`: `<dir>/<name>/bootstrap` (cargo-lambda's layout) or
/// `<dir>/<name>` (cargo's).
pub fn binary_in(dir: &Path, name: &str) -> PathBuf {
    let bootstrap = dir.join(name).join("bootstrap");
    if bootstrap.is_file() {
        bootstrap
    } else {
        dir.join(name)
    }
}

/// The function a binary is: its file name, or its directory's for a `bootstrap`.
pub fn function_of(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    match path.parent().and_then(|p| p.file_name()) {
        Some(dir) if file == "bootstrap" => dir.to_string_lossy().to_string(),
        _ => file,
    }
}

/// The function names: one per `*.rs` in `sources`, sorted.
pub fn function_names(sources: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(sources).with_context(|| sources.display().to_string())? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    if names.is_empty() {
        bail!("no function sources in {}", sources.display());
    }
    Ok(names)
}

/// The architecture an ELF header names.
pub fn elf_arch(header: &[u8]) -> Option<&'static str> {
    if header.len() < 20 || &header[..4] != b"\x7fELF" {
        return None;
    }
    match u16::from_le_bytes([header[18], header[19]]) {
        0x3e => Some("x86_64"),
        0xb7 => Some("aarch64"),
        _ => Some("other"),
    }
}

fn read_arch(path: &Path) -> anyhow::Result<&'static str> {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .with_context(|| path.display().to_string())?;
    elf_arch(&header).with_context(|| format!("{} is not an ELF file", path.display()))
}

/// `strip --strip-all` into a scratch file: llvm-strip (every architecture), else GNU strip
/// (usually the host's only).
struct Stripper {
    tool: PathBuf,
}

impl Stripper {
    fn find() -> Option<Self> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(tool) = std::env::var_os("LATCH_BENCH_STRIP") {
            candidates.push(tool.into());
        }
        candidates.push("llvm-strip".into());
        // rustup's llvm-tools component.
        if let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() {
            let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let host = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
            candidates.push(
                Path::new(&sysroot)
                    .join("lib/rustlib")
                    .join(host)
                    .join("bin/llvm-strip"),
            );
        }
        candidates.push("strip".into());
        candidates.into_iter().find_map(|tool| {
            let works = Command::new(&tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            works.then_some(Self { tool })
        })
    }

    fn stripped_size(&self, binary: &Path, scratch: &Path) -> anyhow::Result<u64> {
        let out = scratch.join("stripped");
        let done = Command::new(&self.tool)
            .arg("--strip-all")
            .arg("-o")
            .arg(&out)
            .arg(binary)
            .output()
            .with_context(|| format!("running {}", self.tool.display()))?;
        if !done.status.success() {
            bail!(
                "{} {}: {}",
                self.tool.display(),
                binary.display(),
                String::from_utf8_lossy(&done.stderr).trim()
            );
        }
        let size = std::fs::metadata(&out)?.len();
        let _ = std::fs::remove_file(&out);
        Ok(size)
    }
}

fn measure_binary(
    path: &Path,
    name: &str,
    profile: &str,
    stripper: Option<&Stripper>,
    scratch: &Path,
    notes: &mut Vec<String>,
) -> anyhow::Result<Binary> {
    let bytes = std::fs::metadata(path)
        .with_context(|| path.display().to_string())?
        .len();
    let arch = read_arch(path)?;
    let stripped_bytes = match stripper.map(|s| s.stripped_size(path, scratch)) {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            let prefix = format!("could not strip {arch} binaries");
            if !notes.iter().any(|n| n.starts_with(&prefix)) {
                notes.push(format!("{prefix}, their sizes are as built: {e:#}"));
            }
            None
        }
        None => None,
    };
    Ok(Binary {
        name: name.into(),
        arch: arch.into(),
        profile: profile.into(),
        path: path.display().to_string(),
        bytes,
        stripped_bytes,
    })
}

pub fn size_summary(arch: &str, binaries: &[&Binary]) -> Option<SizeSummary> {
    let mut sorted: Vec<&&Binary> = binaries.iter().collect();
    sorted.sort_by_key(|b| b.size());
    let (first, last) = (sorted.first()?, sorted.last()?);
    Some(SizeSummary {
        arch: arch.into(),
        n: sorted.len(),
        stripped: sorted.iter().all(|b| b.stripped_bytes.is_some()),
        min_bytes: first.size(),
        median_bytes: sorted[sorted.len() / 2].size(),
        max_bytes: last.size(),
        largest: last.name.clone(),
    })
}

/// `VmRSS` and `VmHWM` of the process `pid` now, in KiB.
pub fn read_status(pid: u32) -> anyhow::Result<(Option<u64>, Option<u64>)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).context("/proc status")?;
    Ok(parse_status(&text))
}

/// `VmRSS` and `VmHWM` of a `/proc/<pid>/status`, in KiB.
pub fn parse_status(status: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            rest.trim().strip_suffix("kB")?.trim().parse().ok()
        })
    };
    (field("VmRSS"), field("VmHWM"))
}

/// The request sent to one function.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub method: &'static str,
    pub route_path: &'static str,
    pub path: String,
    pub path_parameters: BTreeMap<String, String>,
    pub body: Option<String>,
}

impl Invocation {
    pub fn for_route(route: &latch::Route) -> Self {
        let mut path_parameters = BTreeMap::new();
        let path = route
            .path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) => {
                        let value = placeholder(param);
                        path_parameters.insert(param.to_string(), value.clone());
                        value
                    }
                    None => segment.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        let method = route.method.as_str();
        Self {
            method,
            route_path: route.path,
            path,
            path_parameters,
            body: matches!(method, "POST" | "PUT").then(|| "{}".to_string()),
        }
    }

    pub fn describe(&self) -> String {
        match &self.body {
            Some(b) => format!("{} {} {b}", self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
    }

    /// The API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it for a route
    /// `METHOD /path/{param}` integrated with the function.
    pub fn event(&self, authorization: &str, request_id: &str, epoch_ms: u64) -> serde_json::Value {
        let route_key = format!("{} {}", self.method, self.route_path);
        let host = "latch.execute-api.us-east-1.amazonaws.com";
        let mut headers = json!({
            "accept": "application/json",
            "authorization": authorization,
            "host": host,
            "user-agent": "latch-bench",
            "x-forwarded-proto": "https",
        });
        if let Some(body) = &self.body {
            headers["content-type"] = json!("application/json");
            headers["content-length"] = json!(body.len().to_string());
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "latch",
                "domainName": host,
                "domainPrefix": "latch",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "latch-bench",
                },
                "requestId": request_id,
                "routeKey": route_key,
                "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000",
                "timeEpoch": epoch_ms,
            },
            "isBase64Encoded": false,
        });
        if !self.path_parameters.is_empty() {
            event["pathParameters"] = json!(self.path_parameters);
        }
        if let Some(body) = &self.body {
            event["body"] = json!(body);
        }
        event
    }
}

/// A well-formed id that names nothing, for a path parameter (`user_id` → `user-test-0…`);
/// the project's own id for `project_id`.
fn placeholder(param: &str) -> String {
    if param == "project_id" {
        return PROJECT_ID.to_string();
    }
    let stem = param.strip_suffix("_id").unwrap_or(param).replace('_', "-");
    format!("{stem}-test-00000000-0000-4000-8000-000000000000")
}

/// The status and Stytch `error_type` of a response the function posted (API Gateway v2 shape:
/// `{"statusCode": 400, "body": "{…}", …}`).
pub fn parse_answer(body: &[u8]) -> anyhow::Result<(u16, Option<String>)> {
    let v: serde_json::Value = serde_json::from_slice(body).context("the response is not JSON")?;
    let status = v["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .with_context(|| format!("no statusCode in {}", String::from_utf8_lossy(body)))?;
    let error_type = v["body"]
        .as_str()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|b| b["error_type"].as_str().map(String::from));
    Ok((status, error_type))
}

// ---- The Runtime API emulator -------------------------------------------------------------

#[derive(Debug)]
enum Report {
    Next(Instant),
    Response(Instant, Bytes),
    Error(String, Bytes),
    Unexpected(String),
}

struct Emulator {
    event: Bytes,
    request_id: String,
    function_arn: String,
    delivered: AtomicBool,
    tx: mpsc::UnboundedSender<Report>,
}

/// `GET /2018-06-01/runtime/invocation/next`: the one event, then nothing (the runtime waits,
/// as it does between invocations on Lambda).
async fn next(State(emu): State<Arc<Emulator>>) -> Response {
    let _ = emu.tx.send(Report::Next(Instant::now()));
    if emu.delivered.swap(true, Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let deadline = epoch_ms() + START_DEADLINE.as_millis() as u64;
    (
        [
            ("content-type", "application/json".to_string()),
            ("lambda-runtime-aws-request-id", emu.request_id.clone()),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            ("lambda-runtime-invoked-function-arn", emu.function_arn.clone()),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0".to_string(),
            ),
        ],
        emu.event.clone(),
    )
        .into_response()
}

async fn response(State(emu): State<Arc<Emulator>>, body: Bytes) -> StatusCode {
    let _ = emu.tx.send(Report::Response(Instant::now(), body));
    StatusCode::ACCEPTED
}

async fn invocation_error(State(emu): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let kind = error_kind(&headers);
    let _ = emu.tx.send(Report::Error(format!("invocation error {kind}"), body));
    StatusCode::ACCEPTED
}

async fn init_error(State(emu): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let kind = error_kind(&headers);
    let _ = emu.tx.send(Report::Error(format!("init error {kind}"), body));
    StatusCode::ACCEPTED
}

async fn unexpected(State(emu): State<Arc<Emulator>>, uri: Uri) -> StatusCode {
    let _ = emu.tx.send(Report::Unexpected(uri.to_string()));
    StatusCode::NOT_FOUND
}

fn error_kind(headers: &HeaderMap) -> String {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A child process, killed by its PID and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What every start is given: the credentials, the store's directory, Lambda's variables.
struct Launch {
    secret: String,
    pepper: String,
}

impl Launch {
    fn new() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let pepper = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        rand::thread_rng().fill_bytes(&mut bytes[..16]);
        let secret = format!("secret-test-{}", hex(&bytes[..16]));
        Self { secret, pepper }
    }

    fn authorization(&self) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{PROJECT_ID}:{}", self.secret));
        format!("Basic {token}")
    }

    /// The environment Lambda gives a function (as far as the runtime reads it), and Latch's
    /// settings for the embedded store. The bench's own environment is not passed on, except the
    /// hashing settings (as for `latch serve`).
    fn command(&self, binary: &Path, name: &str, heavy: bool, data_dir: &Path, api: &str) -> Command {
        let mut c = Command::new(binary);
        c.env_clear();
        for (var, value) in std::env::vars() {
            if var.starts_with("LATCH_ARGON2_") || var == "LATCH_HASH_CONCURRENCY" {
                c.env(var, value);
            }
        }
        let function = format!("latch-{name}");
        c.env("PATH", "/usr/local/bin:/usr/bin/:/bin")
            .env("TZ", ":UTC")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_LAMBDA_RUNTIME_API", api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", if heavy { "1769" } else { "512" })
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]bench")
            // The template's logging configuration: JSON, application level INFO.
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .env("LATCH_DATA_DIR", data_dir)
            .env("LATCH_PROJECT_ID", PROJECT_ID)
            .env("LATCH_SECRET", &self.secret)
            .env("LATCH_TOKEN_PEPPER", &self.pepper)
            // The breach check stays on, as deployed (its client is built at start); nothing
            // sent here reaches it, and were it called it would find a closed local port.
            .env("LATCH_HIBP_URL", "http://127.0.0.1:9");
        c.stdin(Stdio::null());
        c
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One start timed.
struct Start {
    answer_ms: f64,
    init_ms: f64,
    status: u16,
    error_type: Option<String>,
    idle: Option<(Option<u64>, Option<u64>)>,
}

/// Spawns `binary` against a fresh emulator serving `invocation`, times spawn → first
/// `invocation/next` and spawn → response, optionally waits `idle` and reads its memory, then
/// kills it.
async fn start_once(
    launch: &Launch,
    binary: &Path,
    name: &str,
    heavy: bool,
    data_dir: &Path,
    invocation: &Invocation,
    idle: Option<Duration>,
) -> anyhow::Result<Start> {
    let request_id = format!("bench-{}", uuid_like());
    let event = invocation.event(&launch.authorization(), &request_id, epoch_ms());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let emu = Arc::new(Emulator {
        event: Bytes::from(serde_json::to_vec(&event)?),
        request_id,
        function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:latch-{name}"),
        delivered: AtomicBool::new(false),
        tx,
    });
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(unexpected)
        .with_state(emu);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the emulator")?;
    let api = listener.local_addr()?.to_string();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    struct Abort(tokio::task::JoinHandle<std::io::Result<()>>);
    impl Drop for Abort {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let _server = Abort(server);

    let log_path = data_dir.join("function.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .context("function log")?;
    let mut command = launch.command(binary, name, heavy, data_dir, &api);
    command.stdout(log.try_clone()?).stderr(log);

    let spawned = Instant::now();
    let mut child = Proc(
        command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    );
    let mut init_at = None;
    let mut unexpected = Vec::new();
    let (answered, body) = loop {
        match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Some(Report::Next(at))) => {
                init_at.get_or_insert(at);
            }
            Ok(Some(Report::Response(at, body))) => break (at, body),
            Ok(Some(Report::Error(what, body))) => {
                bail!("{what}: {}", String::from_utf8_lossy(&body))
            }
            Ok(Some(Report::Unexpected(uri))) => unexpected.push(uri),
            Ok(None) => bail!("the emulator stopped"),
            Err(_) => {
                if let Some(status) = child.0.try_wait()? {
                    bail!(
                        "exited ({status}) before answering{}; log: {}",
                        if unexpected.is_empty() {
                            String::new()
                        } else {
                            format!(" (it asked for {})", unexpected.join(", "))
                        },
                        tail(&log_path)
                    );
                }
                if spawned.elapsed() > START_DEADLINE {
                    bail!(
                        "no answer within {} s; log: {}",
                        START_DEADLINE.as_secs(),
                        tail(&log_path)
                    );
                }
            }
        }
    };
    let ms = |at: Instant| at.duration_since(spawned).as_secs_f64() * 1000.0;
    let (status, error_type) = parse_answer(&body)?;
    let idle = match idle {
        Some(wait) => {
            tokio::time::sleep(wait).await;
            if let Some(status) = child.0.try_wait()? {
                bail!("exited ({status}) while idle; log: {}", tail(&log_path));
            }
            Some(read_status(child.0.id())?)
        }
        None => None,
    };
    drop(child);
    Ok(Start {
        answer_ms: ms(answered),
        init_ms: init_at.map(ms).unwrap_or(f64::NAN),
        status,
        error_type,
        idle,
    })
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex(&b)
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" / ")
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| to.display().to_string())?;
    for entry in std::fs::read_dir(from).with_context(|| from.display().to_string())? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if entry.file_name() != "function.log" {
            std::fs::copy(entry.path(), &target).with_context(|| target.display().to_string())?;
        }
    }
    Ok(())
}

/// Sizes every binary, then starts every x86_64 one `cold_starts` times.
pub async fn run(opts: &Options) -> anyhow::Result<LambdaResults> {
    let names = function_names(&opts.sources)?;
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "latch-bench-lambda-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )));
    std::fs::create_dir_all(&scratch.0).with_context(|| scratch.0.display().to_string())?;
    let stripper = Stripper::find();
    let mut notes = Vec::new();
    if stripper.is_none() {
        notes.push("no strip tool found (llvm-strip, rustup's llvm-tools, strip): sizes are as built.".into());
    }

    let mut functions: Vec<Function> = names
        .iter()
        .map(|name| Function {
            name: name.clone(),
            x86_64: None,
            arm64: None,
            cold: None,
            error: None,
        })
        .collect();
    for f in &mut functions {
        let mut errors = Vec::new();
        for (dir, want) in [(&opts.x86_64_dir, "x86_64"), (&opts.arm64_dir, "aarch64")] {
            let Some(dir) = dir else { continue };
            match measure_binary(
                &binary_in(dir, &f.name),
                &f.name,
                &opts.profile,
                stripper.as_ref(),
                &scratch.0,
                &mut notes,
            ) {
                Ok(b) if b.arch == want => {
                    if want == "x86_64" {
                        f.x86_64 = Some(b);
                    } else {
                        f.arm64 = Some(b);
                    }
                }
                Ok(b) => errors.push(format!("{} is {}, not {want}", b.path, b.arch)),
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        if !errors.is_empty() {
            f.error = Some(errors.join("; "));
        }
    }
    let mut sizes = Vec::new();
    for arch in ["x86_64", "arm64"] {
        let bins: Vec<&Binary> = functions
            .iter()
            .filter_map(|f| {
                if arch == "x86_64" {
                    f.x86_64.as_ref()
                } else {
                    f.arm64.as_ref()
                }
            })
            .collect();
        sizes.extend(size_summary(arch, &bins));
    }
    if opts.arm64_dir.is_none() {
        notes.push(
            "no arm64 binaries given (scripts/bench.sh builds them with cargo-lambda): arm64 sizes not measured."
                .into(),
        );
    }

    let mut deployed = Vec::new();
    for path in &opts.deployed {
        let name = function_of(path);
        match measure_binary(path, &name, "release", stripper.as_ref(), &scratch.0, &mut notes) {
            Ok(b) => deployed.push(b),
            Err(e) => notes.push(format!("deployed-profile binary not measured: {e:#}")),
        }
    }

    let cold_start = match &opts.x86_64_dir {
        Some(_) if std::env::consts::ARCH == "x86_64" => {
            cold_starts(opts, &mut functions, &scratch.0, &mut notes).await?
        }
        Some(_) => {
            notes.push(format!(
                "cold starts not measured: this host is {}, the runnable binaries x86_64.",
                std::env::consts::ARCH
            ));
            None
        }
        None => {
            notes.push("no x86_64 function binaries given: cold starts not measured.".into());
            None
        }
    };
    Ok(LambdaResults {
        profile: opts.profile.clone(),
        strip_tool: stripper.map(|s| s.tool.display().to_string()),
        functions,
        sizes,
        deployed,
        cold_start,
        notes,
    })
}

async fn cold_starts(
    opts: &Options,
    functions: &mut [Function],
    scratch: &Path,
    notes: &mut Vec<String>,
) -> anyhow::Result<Option<ColdStarts>> {
    let launch = Launch::new();
    let runnable: Vec<(usize, PathBuf, &'static latch::Route)> = functions
        .iter_mut()
        .enumerate()
        .filter_map(|(i, f)| {
            let binary = PathBuf::from(&f.x86_64.as_ref()?.path);
            match latch::handlers::routes::by_name(&f.name) {
                Some(route) => Some((i, binary, route)),
                None => {
                    f.error = Some(format!("no route named {}", f.name));
                    None
                }
            }
        })
        .collect();
    let Some((_, seed_binary, seed_route)) = runnable.first().cloned() else {
        notes.push("no runnable x86_64 function binary: cold starts not measured.".into());
        return Ok(None);
    };

    // The first start on an empty store creates the project's signing key (RSA), once per
    // deployment; the store it leaves is every function's starting point.
    let seed = scratch.join("seed");
    std::fs::create_dir_all(&seed)?;
    let first = start_once(
        &launch,
        &seed_binary,
        seed_route.name,
        seed_route.needs.heavy,
        &seed,
        &Invocation::for_route(seed_route),
        None,
    )
    .await
    .with_context(|| format!("first start of {} (on an empty store)", seed_route.name))?;
    eprintln!(
        "lambda: first start on an empty store ({}): {:.1} ms",
        seed_route.name, first.answer_ms
    );

    for (i, binary, route) in &runnable {
        let f = &mut functions[*i];
        let dir = scratch.join(&f.name);
        copy_dir(&seed, &dir)?;
        let invocation = Invocation::for_route(route);
        let mut starts = Vec::new();
        let mut failure = None;
        for n in 0..opts.cold_starts {
            let idle = (n + 1 == opts.cold_starts).then_some(opts.idle);
            match start_once(&launch, binary, &f.name, route.needs.heavy, &dir, &invocation, idle).await {
                Ok(s) => starts.push(s),
                Err(e) => {
                    failure = Some(format!("start {}: {e:#}", n + 1));
                    break;
                }
            }
        }
        if let Some(e) = failure {
            f.error = Some(e);
            continue;
        }
        let answer_ms: Vec<f64> = starts.iter().map(|s| s.answer_ms).collect();
        let init_ms: Vec<f64> = starts.iter().map(|s| s.init_ms).collect();
        let (Some(answer), Some(init)) = (Summary::of(&answer_ms), Summary::of(&init_ms)) else {
            continue;
        };
        let (rss, hwm) = starts.last().and_then(|s| s.idle).unwrap_or((None, None));
        eprintln!(
            "lambda: {} answered {} in {:.1} ms (median of {}), idle RSS {} KiB",
            f.name,
            starts[0].status,
            answer.median,
            answer.n,
            rss.map(|r| r.to_string()).unwrap_or_else(|| "?".into())
        );
        f.cold = Some(Cold {
            request: invocation.describe(),
            status: starts[0].status,
            error_type: starts[0].error_type.clone(),
            answer_ms,
            init_ms,
            answer,
            init,
            idle_rss_kib: rss,
            idle_hwm_kib: hwm,
        });
    }

    let colds: Vec<(&str, &Cold)> = functions
        .iter()
        .filter_map(|f| Some((f.name.as_str(), f.cold.as_ref()?)))
        .collect();
    let failed: Vec<String> = functions
        .iter()
        .filter(|f| f.x86_64.is_some() && f.cold.is_none())
        .map(|f| format!("{} ({})", f.name, f.error.as_deref().unwrap_or("?")))
        .collect();
    if !failed.is_empty() {
        notes.push(format!("cold start not measured for: {}", failed.join("; ")));
    }
    let all_answers: Vec<f64> = colds.iter().flat_map(|(_, c)| c.answer_ms.iter().copied()).collect();
    let all_inits: Vec<f64> = colds.iter().flat_map(|(_, c)| c.init_ms.iter().copied()).collect();
    let (Some(answer), Some(init)) = (Summary::of(&all_answers), Summary::of(&all_inits)) else {
        return Ok(None);
    };
    let (slowest_function, slowest_median_ms) = colds
        .iter()
        .map(|(n, c)| (n.to_string(), c.answer.median))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_default();
    Ok(Some(ColdStarts {
        arch: "x86_64".into(),
        starts_per_function: opts.cold_starts,
        idle_wait_ms: opts.idle.as_millis() as u64,
        request: REQUEST.into(),
        answer,
        init,
        slowest_function,
        slowest_median_ms,
        first_start_with_key_creation_ms: Some(first.answer_ms),
        idle_rss_kib: KibSpread::of(colds.iter().filter_map(|(_, c)| c.idle_rss_kib)),
        idle_hwm_kib: KibSpread::of(colds.iter().filter_map(|(_, c)| c.idle_hwm_kib)),
    }))
}

// ---- The report's section -----------------------------------------------------------------

/// Bytes as decimal megabytes (the target's unit: 1 MB = 10^6 bytes).
pub fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// KiB as MiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else {
        format!("{v:.1} ms")
    }
}

fn arch_label(arch: &str) -> &str {
    if arch == "aarch64" {
        "arm64"
    } else {
        arch
    }
}

/// Section 4 of `RESULTS.md`, without its heading.
pub fn section(l: &LambdaResults, arm64_target_mb: f64, cold_target_ms: f64) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let strip = match &l.strip_tool {
        Some(tool) => format!(
            "after `{} --strip-all` (what the release profile's `strip = true` does)",
            tool
        ),
        None => "as built (no strip tool found)".into(),
    };
    let _ = writeln!(
        out,
        "{} functions (one binary per file of `functions/src/bin`, each serving one route). Sizes of \
         every function in the `{}` profile (release optimisation without LTO, 16 codegen units), {}; \
         1 MB = 10^6 bytes. The arm64 binaries are built with cargo-lambda (zig as the linker) for \
         `aarch64-unknown-linux-gnu`, the x86_64 ones with cargo for the host.\n",
        l.functions.len(),
        l.profile,
        strip
    );
    if !l.sizes.is_empty() {
        let _ = writeln!(
            out,
            "| Architecture | Functions | min | median | max | Largest | Target |\n|---|---|---|---|---|---|---|"
        );
        let deployed_arm64 = l.deployed.iter().any(|b| b.arch == "aarch64");
        for s in &l.sizes {
            let target = if s.arch == "arm64" && deployed_arm64 {
                // Judged on the deployed profile's binaries, below.
                "— (see the deployed profile below)".into()
            } else if s.arch == "arm64" {
                let v = s.max_bytes as f64 / 1e6;
                let verdict = if v <= arm64_target_mb { "PASS" } else { "MISS" };
                format!("≤ {arm64_target_mb} MB {verdict}")
            } else {
                "—".into()
            };
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {} | {} | `{}` | {} |",
                s.arch,
                if s.stripped { "" } else { " (not stripped)" },
                s.n,
                mb(s.min_bytes),
                mb(s.median_bytes),
                mb(s.max_bytes),
                s.largest,
                target
            );
        }
    }
    if l.deployed.is_empty() {
        let _ = writeln!(
            out,
            "\nThe deployed `release` profile (fat LTO, one codegen unit, `strip = true`) was not built in \
             this run (`LATCH_BENCH_DEPLOYED=0` skips it; `scripts/bench.sh` builds the login and the largest arm64 functions in \
             it); its binaries are smaller than the figures above."
        );
    } else {
        let _ = writeln!(
            out,
            "\nThe deployed `release` profile (fat LTO, one codegen unit, `strip = true`, built by `cargo \
             lambda build --release` as `sam build` does, which adds `-C target-cpu=neoverse-n1` for arm64), \
             for the login (`passwords-authenticate`) on both architectures and the largest arm64 functions of the \
             table above (every function links the same code but for its own handler):\n"
        );
        let _ = writeln!(
            out,
            "| Function | Architecture | Size | As built | ÷ `{}` |\n|---|---|---|---|---|",
            l.profile
        );
        for b in &l.deployed {
            let bench = l.functions.iter().find(|f| f.name == b.name).and_then(|f| {
                if b.arch == "aarch64" {
                    f.arm64.as_ref()
                } else {
                    f.x86_64.as_ref()
                }
            });
            let ratio = bench
                .map(|x| format!("{:.2}", b.size() as f64 / x.size() as f64))
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                b.name,
                arch_label(&b.arch),
                mb(b.size()),
                mb(b.bytes),
                ratio
            );
        }
    }

    let _ = writeln!(out, "\n### Cold start and idle memory\n");
    match &l.cold_start {
        Some(c) => {
            let _ = writeln!(
                out,
                "On {} only: the arm64 binaries cannot run on this machine (no emulation). Each function \
                 is started {} times as a fresh process, the `{}` binary itself, with the environment \
                 Lambda gives it (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`, …) and Latch's \
                 embedded store (SQLite) in a data directory of its own; the clock runs from the `spawn` \
                 to the moment the function posts its response to the bench's Runtime API emulator \
                 (`invocation/next` with the `Lambda-Runtime-*` headers, `invocation/{{id}}/response`, \
                 the error endpoints). `init` is spawn → the first `invocation/next`: the state is built \
                 and the runtime asks for work. The request: {}.\n",
                c.arch, c.starts_per_function, l.profile, c.request
            );
            let _ = writeln!(
                out,
                "Not `cargo lambda watch`: it starts a function through `cargo run` at its first \
                 invocation, so its timings are cargo's start and freshness check plus the function's, \
                 with no clock at the process start; the emulator serves the same Runtime API to the \
                 binary directly. The credentials come from the environment (on Lambda they are read \
                 from Secrets Manager at cold start: one network round trip not counted here), and the \
                 store is SQLite rather than DynamoDB (whose client set-up is not counted either); the \
                 store every function starts on already holds the project's signing key, as a \
                 deployment's does after its first start ever. Lambda's own sandbox and code loading \
                 are not part of a local process start.\n"
            );
            let _ = writeln!(
                out,
                "| | median | p90 | max | n |\n|---|---|---|---|---|\n\
                 | spawn → first answer, every start of every function | {} | {} | {} | {} |\n\
                 | spawn → first `invocation/next` (init) | {} | {} | {} | {} |",
                ms(c.answer.median),
                ms(c.answer.p90),
                ms(c.answer.max),
                c.answer.n,
                ms(c.init.median),
                ms(c.init.p90),
                ms(c.init.max),
                c.init.n
            );
            let slowest_verdict = if c.slowest_median_ms <= cold_target_ms {
                "PASS"
            } else {
                "MISS"
            };
            let _ = writeln!(
                out,
                "\nSlowest function by median: `{}`, {} (target ≤ {} ms: {}).",
                c.slowest_function,
                ms(c.slowest_median_ms),
                cold_target_ms,
                slowest_verdict
            );
            if let Some(first) = c.first_start_with_key_creation_ms {
                let _ = writeln!(
                    out,
                    "The one start on an empty store, which creates the project's RSA signing key (once \
                     per deployment), took {}; it is not among the figures above.",
                    ms(first)
                );
            }
            if let (Some(rss), Some(hwm)) = (c.idle_rss_kib, c.idle_hwm_kib) {
                let _ = writeln!(
                    out,
                    "Idle memory, read from `/proc/<pid>/status` {} ms after the first answer of each \
                     function's last start (the runtime waiting on `invocation/next`, as between \
                     invocations): VmRSS {} to {} (median {}); peak (VmHWM) up to {}.",
                    c.idle_wait_ms,
                    mib(rss.min),
                    mib(rss.max),
                    mib(rss.median),
                    mib(hwm.max)
                );
            }
        }
        None => {
            let _ = writeln!(out, "Not measured in this run (see notes).");
        }
    }

    let _ = writeln!(
        out,
        "\n| Function | x86_64 | arm64 | Answer | Cold start median | max | init median | Idle VmRSS | VmHWM |\n\
         |---|---|---|---|---|---|---|---|---|"
    );
    for f in &l.functions {
        let size = |b: &Option<Binary>| b.as_ref().map(|b| mb(b.size())).unwrap_or_else(|| "—".into());
        let (answer, median, max, init, rss, hwm) = match &f.cold {
            Some(c) => (
                format!(
                    "{}{}",
                    c.status,
                    c.error_type.as_ref().map(|e| format!(" {e}")).unwrap_or_default()
                ),
                ms(c.answer.median),
                ms(c.answer.max),
                ms(c.init.median),
                c.idle_rss_kib.map(mib).unwrap_or_else(|| "—".into()),
                c.idle_hwm_kib.map(mib).unwrap_or_else(|| "—".into()),
            ),
            None => {
                let why = f.error.as_deref().map(|_| "not measured (see notes)").unwrap_or("—");
                (why.into(), "—".into(), "—".into(), "—".into(), "—".into(), "—".into())
            }
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.name,
            size(&f.x86_64),
            size(&f.arm64),
            answer,
            median,
            max,
            init,
            rss,
            hwm
        );
    }
    for n in &l.notes {
        let _ = writeln!(out, "\nNote: {}", n.replace('\n', " "));
    }
    out
}

#[cfg(test)]
pub mod tests {
    use super::*;

    fn binary(name: &str, arch: &str, bytes: u64, stripped: Option<u64>) -> Binary {
        Binary {
            name: name.into(),
            arch: arch.into(),
            profile: "bench-release".into(),
            path: format!("target/{name}"),
            bytes,
            stripped_bytes: stripped,
        }
    }

    fn cold(answer: &[f64], rss: u64) -> Cold {
        Cold {
            request: "POST /v1/passwords {}".into(),
            status: 400,
            error_type: Some("invalid_request".into()),
            answer_ms: answer.to_vec(),
            init_ms: answer.iter().map(|a| a - 1.0).collect(),
            answer: Summary::of(answer).unwrap(),
            init: Summary::of(&answer.iter().map(|a| a - 1.0).collect::<Vec<_>>()).unwrap(),
            idle_rss_kib: Some(rss),
            idle_hwm_kib: Some(rss + 100),
        }
    }

    /// Two functions measured, one whose cold start failed; one deployed binary.
    pub fn fixture() -> LambdaResults {
        let functions = vec![
            Function {
                name: "passwords-create".into(),
                x86_64: Some(binary("passwords-create", "x86_64", 14_000_000, Some(11_000_000))),
                arm64: Some(binary("passwords-create", "aarch64", 13_000_000, Some(10_500_000))),
                cold: Some(cold(&[20.0, 21.0, 30.0], 10_240)),
                error: None,
            },
            Function {
                name: "users-get".into(),
                x86_64: Some(binary("users-get", "x86_64", 14_000_000, Some(10_900_000))),
                arm64: Some(binary("users-get", "aarch64", 13_000_000, Some(10_400_000))),
                cold: None,
                error: Some("start 1: exited | badly".into()),
            },
        ];
        let sizes = ["x86_64", "arm64"]
            .iter()
            .filter_map(|arch| {
                let bins: Vec<&Binary> = functions
                    .iter()
                    .filter_map(|f| {
                        if *arch == "x86_64" {
                            f.x86_64.as_ref()
                        } else {
                            f.arm64.as_ref()
                        }
                    })
                    .collect();
                size_summary(arch, &bins)
            })
            .collect();
        LambdaResults {
            profile: "bench-release".into(),
            strip_tool: Some("llvm-strip".into()),
            functions,
            sizes,
            deployed: vec![Binary {
                profile: "release".into(),
                ..binary("passwords-create", "aarch64", 8_000_000, Some(7_900_000))
            }],
            cold_start: Some(ColdStarts {
                arch: "x86_64".into(),
                starts_per_function: 3,
                idle_wait_ms: 1000,
                request: "the request".into(),
                answer: Summary::of(&[20.0, 21.0, 30.0]).unwrap(),
                init: Summary::of(&[19.0, 20.0, 29.0]).unwrap(),
                slowest_function: "passwords-create".into(),
                slowest_median_ms: 21.0,
                first_start_with_key_creation_ms: Some(250.0),
                idle_rss_kib: KibSpread::of([10_240]),
                idle_hwm_kib: KibSpread::of([10_340]),
            }),
            notes: vec!["cold start not measured for: users-get (start 1: exited | badly)".into()],
        }
    }

    #[test]
    fn status_gives_rss_and_high_water_mark() {
        let status = "Name:\tbootstrap\nVmPeak:\t  123456 kB\nVmHWM:\t    9876 kB\nVmRSS:\t    8765 kB\nThreads:\t3\n";
        assert_eq!(parse_status(status), (Some(8765), Some(9876)));
        assert_eq!(parse_status("Name:\tzombie\n"), (None, None));
    }

    #[test]
    fn binaries_are_found_in_cargo_and_cargo_lambda_layouts() {
        assert_eq!(function_of(Path::new("t/lambda/users-get/bootstrap")), "users-get");
        assert_eq!(function_of(Path::new("t/bench-release/users-get")), "users-get");
        let dir = std::env::temp_dir().join(format!("latch-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("a/bootstrap"), b"").unwrap();
        assert_eq!(binary_in(&dir, "a"), dir.join("a/bootstrap"));
        assert_eq!(binary_in(&dir, "b"), dir.join("b"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn elf_headers_name_the_architecture() {
        let mut header = [0u8; 20];
        header[..4].copy_from_slice(b"\x7fELF");
        header[18] = 0xb7;
        assert_eq!(elf_arch(&header), Some("aarch64"));
        header[18] = 0x3e;
        assert_eq!(elf_arch(&header), Some("x86_64"));
        assert_eq!(elf_arch(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn every_function_has_a_source_and_a_route() {
        let names = function_names(Path::new("../functions/src/bin")).unwrap();
        assert!(names.len() > 30, "{names:?}");
        for name in &names {
            assert!(latch::handlers::routes::by_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn invocations_fill_the_route() {
        let route = |name| latch::handlers::routes::by_name(name).unwrap();
        let create = Invocation::for_route(route("passwords-create"));
        assert_eq!(create.describe(), "POST /v1/passwords {}");
        let get = Invocation::for_route(route("users-get"));
        assert_eq!(get.path, "/v1/users/user-test-00000000-0000-4000-8000-000000000000");
        assert_eq!(get.body, None);
        assert_eq!(
            get.path_parameters["user_id"],
            "user-test-00000000-0000-4000-8000-000000000000"
        );
        let jwks = Invocation::for_route(route("sessions-jwks"));
        assert_eq!(jwks.path, format!("/v1/sessions/jwks/{PROJECT_ID}"));
        let member = Invocation::for_route(route("b2b-members-create"));
        assert_eq!(
            member.path,
            "/v1/b2b/organizations/organization-test-00000000-0000-4000-8000-000000000000/members"
        );
    }

    /// The event is what lambda_http takes for an API Gateway HTTP API, and becomes the request
    /// the router sees.
    #[test]
    fn lambda_http_reads_the_event_as_an_http_api_request() {
        use lambda_http::request::LambdaRequest;
        let route = latch::handlers::routes::by_name("b2b-organizations-update").unwrap();
        let inv = Invocation::for_route(route);
        let event = inv.event("Basic eDp5", "req-1", 1_700_000_000_000);
        assert_eq!(event["routeKey"], "PUT /v1/b2b/organizations/{organization_id}");
        let parsed: LambdaRequest = serde_json::from_value(event).unwrap();
        assert!(matches!(parsed, LambdaRequest::ApiGatewayV2(_)), "{parsed:?}");
        let req: lambda_http::http::Request<lambda_http::Body> = parsed.into();
        assert_eq!(req.method(), "PUT");
        assert_eq!(req.uri().path(), inv.path);
        assert_eq!(req.headers()["authorization"], "Basic eDp5");
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.body().as_ref(), b"{}");

        let get = Invocation::for_route(latch::handlers::routes::by_name("sessions-get").unwrap());
        let parsed: LambdaRequest = serde_json::from_value(get.event("Basic eDp5", "req-2", 0)).unwrap();
        let req: lambda_http::http::Request<lambda_http::Body> = parsed.into();
        assert_eq!((req.method().as_str(), req.uri().path()), ("GET", "/v1/sessions"));
        assert!(req.body().is_empty());
    }

    #[test]
    fn answers_give_status_and_error_type() {
        let body = br#"{"statusCode":400,"headers":{},"body":"{\"status_code\":400,\"error_type\":\"invalid_request\"}","isBase64Encoded":false,"cookies":[]}"#;
        assert_eq!(parse_answer(body).unwrap(), (400, Some("invalid_request".into())));
        assert_eq!(
            parse_answer(br#"{"statusCode":200,"body":"{\"keys\":[]}"}"#).unwrap(),
            (200, None)
        );
        assert!(parse_answer(b"{}").is_err());
        assert!(parse_answer(b"nope").is_err());
    }

    #[test]
    fn sizes_summarise_the_stripped_figures() {
        let a = binary("a", "aarch64", 10, Some(5));
        let b = binary("b", "aarch64", 12, Some(9));
        let c = binary("c", "aarch64", 11, None);
        let s = size_summary("arm64", &[&a, &b, &c]).unwrap();
        assert_eq!((s.min_bytes, s.median_bytes, s.max_bytes), (5, 9, 11));
        assert_eq!(s.largest, "c");
        assert!(!s.stripped);
        assert!(size_summary("arm64", &[]).is_none());
        assert_eq!(mb(10_450_000), "10.45 MB");
        assert_eq!(mib(10_240), "10.0 MiB");
    }

    #[test]
    fn section_shows_sizes_cold_starts_and_failures() {
        let md = section(&fixture(), 10.0, 50.0);
        assert!(
            md.contains(
                "| arm64 | 2 | 10.40 MB | 10.50 MB | 10.50 MB | `passwords-create` | — (see the deployed profile below) |"
            ),
            "{md}"
        );
        // Without a deployed-profile build this profile's largest arm64 binary is judged.
        let mut bench_only = fixture();
        bench_only.deployed.clear();
        let md_bench_only = section(&bench_only, 10.0, 50.0);
        assert!(
            md_bench_only
                .contains("| arm64 | 2 | 10.40 MB | 10.50 MB | 10.50 MB | `passwords-create` | ≤ 10 MB MISS |"),
            "{md_bench_only}"
        );
        assert!(
            md.contains("| x86_64 | 2 | 10.90 MB | 11.00 MB | 11.00 MB | `passwords-create` | — |"),
            "{md}"
        );
        assert!(
            md.contains("| `passwords-create` | arm64 | 7.90 MB | 8.00 MB | 0.75 |"),
            "{md}"
        );
        assert!(
            md.contains("| `passwords-create` | 11.00 MB | 10.50 MB | 400 invalid_request | 21.0 ms | 30.0 ms | 20.0 ms | 10.0 MiB | 10.1 MiB |"),
            "{md}"
        );
        assert!(
            md.contains("| `users-get` | 10.90 MB | 10.40 MB | not measured (see notes) |"),
            "{md}"
        );
        assert!(md.contains("Slowest function by median: `passwords-create`, 21.0 ms (target ≤ 50 ms: PASS)."));
        assert!(md.contains("took 250.0 ms"));
        assert!(md.contains("Not `cargo lambda watch`"));
    }
}
