//! `latch serve` across the ends of its life (issue 23; docs/security.md F3): SIGTERM lets the
//! requests under way finish and exits 0; kill -9 in a storm of signups loses no acknowledged
//! write and leaves nothing half-written; `latch backup` taken while serving restores and logs in.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::{Server, TempDir, LATCH};

const PASSWORD: &str = "violet staple correct battery horse 42";

async fn signup(server: &Server, email: &str) {
    let (status, body) = server
        .post("/v1/passwords", json!({"email": email, "password": PASSWORD}))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn login_status(server: &Server, email: &str) -> u16 {
    server
        .post(
            "/v1/passwords/authenticate",
            json!({"email": email, "password": PASSWORD}),
        )
        .await
        .0
}

/// `latch serve` hashing one costly argon2 at a time (`iterations` passes over 64 MiB), so that
/// logins queue on it for seconds, with a user to log in as.
async fn slow_server(dir: &TempDir, iterations: &str, extra: &[(&str, &str)]) -> (Server, &'static str) {
    let mut env = vec![
        ("LATCH_HASH_CONCURRENCY", "1"),
        ("LATCH_ARGON2_MEMORY_KIB", "65536"),
        ("LATCH_ARGON2_ITERATIONS", iterations),
        // Sixty logins of one user in flight at once are more than the lockout lets through.
        ("LATCH_LOCK_THRESHOLD", "100"),
    ];
    env.extend_from_slice(extra);
    let server = Server::start(&dir.0, &env);
    let email = "slow-login@example.com";
    signup(&server, email).await;
    (server, email)
}

/// `n` logins sent at once, each on a connection of its own; each task answers the status or
/// the transport error. The counter counts the logins answered.
fn logins_at_once(
    server: &Server,
    email: &'static str,
    n: usize,
) -> (Vec<tokio::task::JoinHandle<Result<u16, String>>>, Arc<AtomicUsize>) {
    let (base, auth) = (Arc::new(server.base.clone()), Arc::new(server.auth.clone()));
    let answered = Arc::new(AtomicUsize::new(0));
    let logins = (0..n)
        .map(|_| {
            let (base, auth, answered) = (base.clone(), auth.clone(), answered.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
                let resp = client
                    .post(format!("{base}/v1/passwords/authenticate"))
                    .basic_auth(&auth.0, Some(&auth.1))
                    .json(&json!({"email": email, "password": PASSWORD}))
                    .send()
                    .await;
                answered.fetch_add(1, Ordering::SeqCst);
                resp.map(|r| r.status().as_u16()).map_err(|e| e.to_string())
            })
        })
        .collect();
    (logins, answered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn f3_sigterm_lets_sixty_logins_under_way_finish_and_exits_zero() {
    let dir = TempDir::new("sigterm");
    let (mut server, email) = slow_server(&dir, "3", &[]).await;
    let (logins, answered) = logins_at_once(&server, email, 60);
    // Every request sent and read by the server (loopback), most still waiting for a hash.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_signal = answered.load(Ordering::SeqCst);
    server.signal(libc::SIGTERM);
    let mut statuses = Vec::new();
    for login in logins {
        statuses.push(login.await.unwrap());
    }
    assert!(
        before_signal < 60,
        "every login had answered before SIGTERM ({before_signal}): the test proved nothing"
    );
    let failed: Vec<_> = statuses.iter().filter(|s| **s != Ok(200)).collect();
    assert!(
        failed.is_empty(),
        "logins under way at SIGTERM did not all answer 200: {failed:?}"
    );
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("latch serve exits after SIGTERM");
    assert!(status.success(), "latch serve exited with {status}");
    // And it is gone: a new connection is refused.
    assert!(reqwest::get(format!("{}/openapi.json", server.base)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn f3_sigterm_waits_no_longer_than_the_grace_period() {
    // Sixty logins of about 0.1 s each, one at a time: seconds of work when SIGTERM comes. With a
    // grace period of 1 s the server closes what is left and exits 0 long before that work is
    // done (a drain without the bound would take it all).
    let dir = TempDir::new("grace");
    let (mut server, email) = slow_server(&dir, "6", &[("LATCH_SHUTDOWN_GRACE_SECS", "1")]).await;
    let (logins, _) = logins_at_once(&server, email, 60);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal(libc::SIGTERM);
    let signalled = std::time::Instant::now();
    let status = server
        .wait_exit(Duration::from_secs(30))
        .expect("latch serve exits after SIGTERM");
    let took = signalled.elapsed();
    assert!(status.success(), "latch serve exited with {status}");
    let mut unanswered = 0;
    for login in logins {
        if login.await.unwrap() != Ok(200) {
            unanswered += 1;
        }
    }
    assert!(
        unanswered > 0,
        "every login finished within the grace period: the test proved nothing"
    );
    assert!(
        took < Duration::from_secs(4),
        "latch serve took {took:?} to exit with a 1 s grace period and {unanswered} logins cut off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn f3_kill_9_in_a_signup_storm_loses_no_acknowledged_signup_and_half_writes_none() {
    let dir = TempDir::new("kill9");
    let server = Server::start(&dir.0, &[]);
    let (base, auth) = (Arc::new(server.base.clone()), Arc::new(server.auth.clone()));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let emails: Vec<String> = (0..160).map(|i| format!("storm-{i}@example.com")).collect();
    let storm: Vec<_> = emails
        .iter()
        .cloned()
        .map(|email| {
            let (base, auth, acknowledged) = (base.clone(), auth.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
                let ok = match client
                    .post(format!("{base}/v1/passwords"))
                    .basic_auth(&auth.0, Some(&auth.1))
                    .json(&json!({"email": email, "password": PASSWORD}))
                    .send()
                    .await
                {
                    Ok(resp) => resp.status().as_u16() == 200,
                    Err(_) => false,
                };
                if ok {
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
                (email, ok)
            })
        })
        .collect();
    // Kill in the middle: once some signups are acknowledged and most are not.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.load(Ordering::SeqCst) < 10 {
        assert!(std::time::Instant::now() < deadline, "no signup was acknowledged");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.signal(libc::SIGKILL);
    let mut outcomes = Vec::new();
    for s in storm {
        outcomes.push(s.await.unwrap());
    }
    drop(server);
    let acked: Vec<_> = outcomes.iter().filter(|(_, ok)| *ok).map(|(e, _)| e.clone()).collect();
    assert!(
        acked.len() < emails.len(),
        "every signup was acknowledged before the kill: the test proved nothing"
    );

    // Restarted on the same data: every acknowledged signup logs in; every other address is
    // either free (a signup succeeds) or a whole user (its password logs in), never half there.
    let restarted = Server::start(&dir.0, &[]);
    for email in &acked {
        assert_eq!(
            login_status(&restarted, email).await,
            200,
            "acknowledged {email} was lost"
        );
    }
    for (email, _) in outcomes.iter().filter(|(_, ok)| !*ok) {
        let (status, body) = restarted
            .post("/v1/passwords", json!({"email": email, "password": PASSWORD}))
            .await;
        match (status, body["error_type"].as_str()) {
            (200, _) => {}
            (400, Some("duplicate_email")) => {
                assert_eq!(login_status(&restarted, email).await, 200, "{email} is half-written")
            }
            other => panic!("{email} after the restart: {other:?} {body}"),
        }
    }
}

#[tokio::test]
async fn f3_a_backup_taken_while_serving_restores_and_logs_in() {
    let dir = TempDir::new("backup");
    let live = dir.0.join("live");
    let server = Server::start(&live, &[]);
    signup(&server, "kept@example.com").await;
    let file = dir.0.join("backup.sqlite3");
    let run = |file: &std::path::Path| {
        std::process::Command::new(LATCH)
            .arg("backup")
            .arg(file)
            .arg("--data-dir")
            .arg(&live)
            .output()
            .unwrap()
    };
    // Taken while the server runs (and keeps writing).
    let out = run(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    signup(&server, "after-backup@example.com").await;
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions()) & 0o777,
        0o600
    );
    // A backup never overwrites a file.
    let again = run(&file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    drop(server);

    // Restored as the README says: the backup as latch.sqlite3 beside the same credentials.
    let restored = dir.0.join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(live.join("credentials.json"), restored.join("credentials.json")).unwrap();
    std::fs::copy(&file, restored.join("latch.sqlite3")).unwrap();
    let server = Server::start(&restored, &[]);
    assert_eq!(login_status(&server, "kept@example.com").await, 200);
    // The snapshot is of its moment: what came after it is not in it.
    assert_eq!(login_status(&server, "after-backup@example.com").await, 404);
}
