//! SECURITY X3: `latch serve` keeps its data directory private: the directory and the outbox
//! 0700, every file in them (the SQLite database, its `-wal` and `-shm`, `credentials.json`,
//! the outbox's messages) 0600: in a directory it creates, in an empty one that exists with
//! 0755, and in one an older version (or a 022 umask) left at 0755 with 0644 files.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;
use support::{Server, TempDir};

/// A signup and a reset email, so the store and the outbox have been written.
async fn write_something(server: &Server, tag: &str) {
    let email = format!("{tag}@example.com");
    let password = "violet staple correct battery horse 42";
    let (status, _) = server
        .post("/v1/passwords", json!({"email": email, "password": password}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post("/v1/passwords/email/reset/start", json!({"email": email}))
        .await;
    assert_eq!(status, 200);
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every directory 0700 and every file 0600 under `dir`, and the files Latch writes present.
fn assert_private(dir: &Path, when: &str) {
    let mut seen = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        assert_eq!(mode(&d), 0o700, "{when}: directory {}", d.display());
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{when}: file {}", path.display());
                seen.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    for expected in [
        "latch.sqlite3",
        "latch.sqlite3-wal",
        "latch.sqlite3-shm",
        "credentials.json",
    ] {
        assert!(seen.iter().any(|s| s == expected), "{when}: no {expected} in {seen:?}");
    }
    assert!(
        seen.iter().any(|s| s.starts_with("outbox/") && s.ends_with(".eml")),
        "{when}: no outbox message in {seen:?}"
    );
}

/// Everything under `dir` as an older version with a 022 umask left it: 0755 and 0644.
fn widen(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn x3_latch_serve_keeps_its_data_dir_0700_and_its_files_0600() {
    let root = TempDir::new("modes");

    // A directory it creates.
    let created = root.0.join("created");
    {
        let server = Server::start(&created, &[]);
        write_something(&server, "created").await;
        assert_private(&created, "created by latch serve");
    }

    // An empty directory that exists with 0755.
    let existing = root.0.join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).unwrap();
    {
        let server = Server::start(&existing, &[]);
        write_something(&server, "existing").await;
        assert_private(&existing, "an existing 0755 directory");
    }

    // The first directory (killed while running, so its -wal and -shm are still there) as an
    // older version left it: tightened at start, before a request, and still after writes.
    widen(&created);
    assert_eq!(mode(&created.join("latch.sqlite3-wal")), 0o644);
    {
        let server = Server::start(&created, &[]);
        assert_private(&created, "left at 0755/0644, at start");
        write_something(&server, "again").await;
        assert_private(&created, "left at 0755/0644, after writes");
    }
}
