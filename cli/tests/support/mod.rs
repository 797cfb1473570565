//! What the CLI's black-box tests share: a temporary data directory and `latch serve` started on
//! an ephemeral loopback port with the credentials it generates there.
#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const LATCH: &str = env!("CARGO_BIN_EXE_latch");

/// A directory removed on every exit, failures included.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("latch-cli-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `latch serve` on an ephemeral loopback port, killed (by its PID) when dropped.
pub struct Server {
    pub base: String,
    pub auth: (String, String),
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start it on `data_dir` with the breach check off (no network) and `env` on top.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(LATCH);
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("LATCH_BREACH_CHECK_ON_AUTH", "false")
            .env("LATCH_BREACH_CHECK_ON_CREATE", "false")
            .env("RUST_LOG", "warn")
            .env_remove("LATCH_PROJECT_ID")
            .env_remove("LATCH_SECRET")
            .env_remove("LATCH_TOKEN_PEPPER")
            .env_remove("LATCH_STORE")
            .env_remove("LATCH_MAILER")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("latch serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Drained to the end so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("latch serve prints its address");
            if let Some(url) = line.strip_prefix("Latch is listening on ") {
                break url.trim_end_matches('/').to_owned();
            }
        };
        let creds: Value =
            serde_json::from_str(&std::fs::read_to_string(data_dir.join("credentials.json")).unwrap()).unwrap();
        let auth = (
            creds["project_id"].as_str().unwrap().to_owned(),
            creds["secret"].as_str().unwrap().to_owned(),
        );
        Self { base, auth, child }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Send `signal` to the server (by its PID).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the PID of the child this test started and still owns.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0, "kill({signal})");
    }

    /// Wait for the server to exit, at most `limit`; None if it is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// POST `body` with the project's credentials on a connection of its own: the status and
    /// the JSON answer (Null if it is not JSON).
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client().post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    /// GET with the project's credentials, as `post`.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client().get(format!("{}{path}", self.base))).await
    }

    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap()
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = request
            .basic_auth(&self.auth.0, Some(&self.auth.1))
            .send()
            .await
            .expect("latch serve answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}
