//! The request rate: evenly spaced slots, one every 1/rate seconds, handed out in order. No
//! bursts, so no second ever sees more than `rate` requests (plus one at its edge), which is
//! what a server's per-second limit counts; an idle spell earns no credit.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn per_second(rate: u32) -> Self {
        assert!(rate > 0, "rate must be positive");
        Self {
            interval: Duration::from_secs(1) / rate,
            next: Mutex::new(None),
        }
    }

    /// Wait for the next slot.
    pub async fn acquire(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(slot).await;
    }

    /// Take the next slot at or after `now`.
    fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match *next {
            Some(n) if n > now => n,
            _ => now,
        };
        *next = Some(slot + self.interval);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_by_the_interval_and_idle_time_earns_nothing() {
        let limiter = RateLimiter::per_second(100);
        let t0 = Instant::now();
        let slots: Vec<_> = (0..5).map(|_| limiter.reserve(t0) - t0).collect();
        assert_eq!(slots, (0..5).map(|i| Duration::from_millis(10 * i)).collect::<Vec<_>>());
        // Long after the last slot: the next one is now, and the one after an interval later.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(limiter.reserve(later), later);
        assert_eq!(limiter.reserve(later), later + Duration::from_millis(10));
    }

    #[test]
    fn a_second_holds_at_most_rate_requests() {
        let limiter = RateLimiter::per_second(50);
        let start = Instant::now();
        // 200 callers, some arriving late: slots never bunch up.
        let times: Vec<Duration> = (0..200u64)
            .map(|i| limiter.reserve(start + Duration::from_millis(i * i / 20)) - start)
            .collect();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(in_window <= 50, "{in_window} requests within a second from {t:?}");
        }
        assert!(times.windows(2).all(|w| w[1] - w[0] >= Duration::from_millis(20)));
    }

    #[tokio::test]
    async fn acquire_waits_for_the_slot() {
        let limiter = RateLimiter::per_second(20);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(100));
    }
}
