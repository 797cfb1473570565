//! Keeping reset start from telling, by its latency, whether an address has an account: its two
//! paths are kept equally slow.
//!
//! Reset start does real work only for a known address (the mail, the token write). Sleeping the
//! unknown path for "what the known one took" alone is not enough: a fresh process has no
//! measurement yet (its first unknown address answered at once), and a short sleep rounds up to
//! the timer's millisecond tick, so the padded path ended slower than the real one. Both paths
//! therefore wait for one deadline: a configured minimum, or the known path's recent average if
//! that is longer. The same deadline, reached by the same timer, from the first request on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The moving average of the real path's work, and the minimum both paths answer after.
#[derive(Debug, Default)]
pub struct LatencyMirror {
    micros: AtomicU64,
    floor: Duration,
}

impl LatencyMirror {
    pub fn new(floor: Duration) -> Self {
        Self {
            micros: AtomicU64::new(0),
            floor,
        }
    }

    /// Record one run of the real path's work (weight 1/8, so a few slow sends do not dominate).
    pub fn record(&self, took: Duration) {
        let sample = took.as_micros().min(u64::MAX as u128) as u64;
        let _ = self.micros.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some(if old == 0 { sample } else { old - old / 8 + sample / 8 })
        });
    }

    /// How long after its arrival a request answers: the floor, or the recent average if longer.
    pub fn target(&self) -> Duration {
        self.floor
            .max(Duration::from_micros(self.micros.load(Ordering::Relaxed)))
    }

    /// Wait until `target()` after `began`; both paths call this last.
    pub async fn pad(&self, began: Instant) {
        tokio::time::sleep_until(began + self.target()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_follows_the_samples() {
        let m = LatencyMirror::default();
        m.record(Duration::from_millis(80));
        assert_eq!(m.micros.load(Ordering::Relaxed), 80_000);
        for _ in 0..100 {
            m.record(Duration::from_millis(8));
        }
        assert!(m.micros.load(Ordering::Relaxed) < 10_000);
    }

    #[test]
    fn the_floor_holds_before_any_sample_and_a_longer_average_wins() {
        let m = LatencyMirror::new(Duration::from_millis(20));
        assert_eq!(m.target(), Duration::from_millis(20), "a fresh process already pads");
        m.record(Duration::from_millis(2));
        assert_eq!(m.target(), Duration::from_millis(20));
        m.record(Duration::from_millis(900));
        assert!(m.target() > Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn both_paths_end_at_one_deadline() {
        // The paused clock makes this exact, not timed: a path that already spent 15 ms of
        // work and one that spent none both end 20 ms after they began.
        let m = LatencyMirror::new(Duration::from_millis(20));
        let began = Instant::now();
        tokio::time::advance(Duration::from_millis(15)).await;
        m.record(began.elapsed());
        m.pad(began).await;
        assert_eq!(began.elapsed(), Duration::from_millis(20));
        let began = Instant::now();
        m.pad(began).await;
        assert_eq!(began.elapsed(), Duration::from_millis(20));
    }
}
