//! Closed-loop load: a number of workers send requests back to back for a fixed time, each
//! timing its own (the login, hot-path, soak and ramp measures), and the client they share.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

/// The longest the client waits for an answer: far beyond any wait a bounded hashing queue
/// gives (the ramp shows it), so that a slow answer is measured, not cut off.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// The HTTP client of a load of `connections` connections: that many kept alive, and dropped
/// after 20 s idle, before `latch serve`'s idle timeout (30 s) could close one under a request.
pub fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(Duration::from_secs(20))
        .timeout(CLIENT_TIMEOUT)
        .build()
        .context("HTTP client")
}

/// `workers` workers call `send(worker)` back to back until `duration` has passed; `send` answers
/// whether the request succeeded. Returns the latencies of the successful ones (ms), the count
/// of the others, and the time until the last one ended (s).
pub async fn burst<F, Fut>(workers: usize, duration: Duration, send: F) -> anyhow::Result<(Vec<f64>, usize, f64)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<bool>> + Send + 'static,
{
    let send = Arc::new(send);
    let start = Instant::now();
    let deadline = start + duration;
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let send = send.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if send(worker).await? {
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                }
                anyhow::Ok((latencies, errors))
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for handle in handles {
        let (l, e) = handle.await.context("load worker")??;
        latencies.extend(l);
        errors += e;
    }
    Ok((latencies, errors, start.elapsed().as_secs_f64()))
}
