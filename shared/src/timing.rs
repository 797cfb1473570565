//! Keeping two paths equally slow, so their latency does not tell an attacker which was taken.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A moving average of how long the expensive path took; the cheap path waits that long.
#[derive(Debug, Default)]
pub struct LatencyMirror {
    micros: AtomicU64,
}

impl LatencyMirror {
    /// Record one run of the expensive path (weight 1/8, so a few slow sends do not dominate).
    pub fn record(&self, took: Duration) {
        let sample = took.as_micros().min(u64::MAX as u128) as u64;
        let _ = self.micros.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some(if old == 0 { sample } else { old - old / 8 + sample / 8 })
        });
    }

    /// Wait as long as the expensive path usually takes, minus what was already spent.
    pub async fn mirror(&self, spent: Duration) {
        let target = Duration::from_micros(self.micros.load(Ordering::Relaxed));
        if let Some(rest) = target.checked_sub(spent) {
            tokio::time::sleep(rest).await;
        }
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
}
