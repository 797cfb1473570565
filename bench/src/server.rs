//! A `latch serve` child process on a loopback port chosen by the OS, with its own data
//! directory, stopped by its PID when dropped, whatever happened in between.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

pub struct Server {
    child: Child,
    data_dir: PathBuf,
    pub base: String,
    pub project_id: String,
    pub secret: String,
}

#[derive(Deserialize)]
struct Credentials {
    project_id: String,
    secret: String,
}

/// Settings the server inherits from the bench's environment: the hashing ones, so both sides
/// use the same parameters. Every other `LATCH_*` variable is removed.
fn inherited(var: &str) -> bool {
    var.starts_with("LATCH_ARGON2_") || var == "LATCH_HASH_CONCURRENCY"
}

impl Server {
    /// Start with these variables set besides (e.g. the DynamoDB backend's).
    pub fn start_with(binary: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let data_dir = std::env::temp_dir().join(format!(
            "latch-bench-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&data_dir).with_context(|| data_dir.display().to_string())?;
        let log = std::fs::File::create(data_dir.join("server.log")).context("server log")?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data_dir);
        for (var, _) in std::env::vars() {
            if var.starts_with("LATCH_") && !inherited(&var) {
                command.env_remove(var);
            }
        }
        command.envs(env.iter().copied());
        let mut child = command
            // No network: the breach check would call HaveIBeenPwned.
            .env("LATCH_BREACH_CHECK_ON_AUTH", "false")
            .env("LATCH_BREACH_CHECK_ON_CREATE", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        // From here on the guard owns the child: an early return still stops it.
        let mut server = Self {
            child,
            data_dir,
            base: String::new(),
            project_id: String::new(),
            secret: String::new(),
        };
        server.base = wait_for_address(stdout)?;
        let creds: Credentials = serde_json::from_str(
            &std::fs::read_to_string(server.data_dir.join("credentials.json")).context("credentials.json")?,
        )
        .context("credentials.json")?;
        server.project_id = creds.project_id;
        server.secret = creds.secret;
        Ok(server)
    }

    /// Start a server (with `env`), say where as `name`, run `measure` against it, and print the
    /// server log's tail when that fails; the server is stopped in any case.
    pub async fn measure<T>(
        binary: &Path,
        env: &[(&str, &str)],
        name: &str,
        measure: impl AsyncFnOnce(&Server) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let server = Self::start_with(binary, env)?;
        eprintln!("{name}: latch serve (pid {}) at {}", server.pid(), server.base);
        let result = measure(&server).await;
        if result.is_err() {
            eprintln!("server log (tail):\n{}", server.log_tail());
        }
        result
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// Reads the server's stdout until it says where it listens; a thread keeps draining it after.
fn wait_for_address(stdout: std::process::ChildStdout) -> anyhow::Result<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent {
                if let Some(rest) = line.strip_prefix("Latch is listening on ") {
                    let _ = tx.send(rest.trim().trim_end_matches('/').to_string());
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(base) => Ok(base),
        Err(_) => bail!("latch serve did not report its address within 60 s"),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // `Child::kill` signals this child's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
