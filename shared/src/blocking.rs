//! Work that must not run on the async threads (argon2, zxcvbn, SQLite, file writes), run with the
//! caller's tracing span, so what it logs carries the request's id as the rest of the request does.
//! A bare `tokio::task::spawn_blocking` starts its closure outside any span.

use tokio::task::JoinHandle;

/// `tokio::task::spawn_blocking(work)`, inside the current span.
pub fn spawn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
}

/// `work` wrapped to run inside the current span wherever it is later run (a thread of its own).
pub fn in_current_span<T>(work: impl FnOnce() -> T + Send + 'static) -> impl FnOnce() -> T + Send + 'static {
    let span = tracing::Span::current();
    move || span.in_scope(work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_work_runs_inside_the_callers_span() {
        // Global: the work runs on other threads, which a thread-local default would not reach.
        // No other test of this binary sets one.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        let span = tracing::info_span!("request", request_id = "r-1");
        let id = span.id();
        let inside = {
            let _entered = span.enter();
            spawn(|| tracing::Span::current().id()).await.unwrap()
        };
        assert!(id.is_some());
        assert_eq!(inside, id);
        let wrapped = {
            let _entered = span.enter();
            in_current_span(|| tracing::Span::current().id())
        };
        assert_eq!(std::thread::spawn(wrapped).join().unwrap(), id);
    }
}
