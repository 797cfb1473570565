//! Stytch's user locks as pure state transitions; the store applies each one atomically.
//!
//! A login *claims* an attempt before the password is verified, counting it as a failure in
//! advance. So however many requests race, at most `threshold` passwords are ever verified
//! before the lock, and no increment is lost (SECURITY.md L1, L2).

use chrono::{DateTime, Utc};

use crate::config::LockoutSettings;
use crate::store::LockState;

/// Forget a lock that has expired, and the failures that led to it.
fn normalized(state: &LockState, now: DateTime<Utc>) -> LockState {
    match state.lock_expires_at {
        Some(until) if until <= now => LockState::default(),
        _ => state.clone(),
    }
}

fn locked(now: DateTime<Utc>, settings: LockoutSettings, failed: u32) -> LockState {
    LockState {
        failed_attempts: failed,
        lock_created_at: Some(now),
        lock_expires_at: Some(now + settings.ttl),
    }
}

/// Before verifying: take an attempt if the user is not locked and has attempts left.
pub fn claim(state: &LockState, now: DateTime<Utc>, settings: LockoutSettings) -> LockState {
    let state = normalized(state, now);
    if state.is_locked(now) {
        state
    } else if state.failed_attempts >= settings.threshold {
        locked(now, settings, state.failed_attempts)
    } else {
        LockState {
            failed_attempts: state.failed_attempts + 1,
            ..state
        }
    }
}

/// Whether the claim that turned `before` into `after` lets the password be verified.
pub fn claim_granted(after: &LockState, now: DateTime<Utc>) -> bool {
    !after.is_locked(now)
}

/// After a wrong password: the claimed attempt stays counted; reaching the threshold locks.
pub fn on_failure(state: &LockState, now: DateTime<Utc>, settings: LockoutSettings) -> LockState {
    let state = normalized(state, now);
    if !state.is_locked(now) && state.failed_attempts >= settings.threshold {
        locked(now, settings, state.failed_attempts)
    } else {
        state
    }
}

/// After a right password: the count starts again, unless a lock was set meanwhile.
pub fn on_success(state: &LockState, now: DateTime<Utc>) -> LockState {
    let state = normalized(state, now);
    if state.is_locked(now) {
        state
    } else {
        LockState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(threshold: u32) -> LockoutSettings {
        LockoutSettings {
            threshold,
            ttl: chrono::Duration::hours(1),
        }
    }

    #[test]
    fn threshold_failures_lock_and_the_lock_expires() {
        let s = settings(3);
        let t0 = Utc::now();
        let mut st = LockState::default();
        for _ in 0..3 {
            st = claim(&st, t0, s);
            assert!(claim_granted(&st, t0));
            st = on_failure(&st, t0, s);
        }
        assert!(st.is_locked(t0));
        assert_eq!(st.lock_created_at, Some(t0));
        assert_eq!(st.lock_expires_at, Some(t0 + chrono::Duration::hours(1)));
        // Locked: no claim is granted, so even the right password is never verified.
        assert!(!claim_granted(&claim(&st, t0, s), t0));
        // After expiry the slate is clean.
        let later = t0 + chrono::Duration::hours(1);
        let st = claim(&st, later, s);
        assert!(claim_granted(&st, later));
        assert_eq!(st.failed_attempts, 1);
    }

    #[test]
    fn success_before_the_lock_resets_the_count() {
        let s = settings(3);
        let t0 = Utc::now();
        let mut st = LockState::default();
        for _ in 0..2 {
            st = on_failure(&claim(&st, t0, s), t0, s);
        }
        st = on_success(&claim(&st, t0, s), t0);
        assert_eq!(st, LockState::default());
    }

    #[test]
    fn claims_beyond_the_threshold_are_refused_even_while_in_flight() {
        // 5 concurrent claims with threshold 3: three are granted, the rest lock.
        let s = settings(3);
        let t0 = Utc::now();
        let mut st = LockState::default();
        let granted = (0..5)
            .filter(|_| {
                st = claim(&st, t0, s);
                claim_granted(&st, t0)
            })
            .count();
        assert_eq!(granted, 3);
        assert!(st.is_locked(t0));
    }
}
