//! Stytch's user locks as pure state transitions; the store applies each one atomically.
//!
//! A login *claims* an attempt before the password is verified, counting it as a failure in
//! advance; the claim that takes the last attempt locks the user in advance too. So however many
//! requests race, at most `threshold` passwords are ever verified before the lock, no increment
//! is lost (docs/security.md L1, L2), and a wrong password needs no second write: the claim already
//! recorded it. Only a success writes again, to start the count afresh (and lift the lock its own
//! claim set), together with the session it starts.

use chrono::{DateTime, Utc};

use crate::config::LockoutSettings;
use serde::{Deserialize, Serialize};

/// The failed-login counter and lock of one user (Stytch's user locks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockState {
    pub failed_attempts: u32,
    pub lock_created_at: Option<DateTime<Utc>>,
    pub lock_expires_at: Option<DateTime<Utc>>,
}

impl LockState {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.lock_expires_at.is_some_and(|until| until > now)
    }
}

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

/// A granted claim: the right to verify one password, and what a success must undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// When the attempt was claimed.
    pub at: DateTime<Utc>,
    /// This claim took the last attempt and so set the lock, which its success lifts.
    pub took_last: bool,
}

/// Before verifying: take an attempt if the user is not locked and has attempts left. The
/// attempt that reaches the threshold locks the user at once (it is undone if it succeeds).
pub fn claim(state: &LockState, now: DateTime<Utc>, settings: LockoutSettings) -> LockState {
    let state = normalized(state, now);
    if state.is_locked(now) {
        state
    } else if state.failed_attempts >= settings.threshold {
        // Only a record written before claims locked in advance can be here: lock it now.
        locked(now, settings, state.failed_attempts)
    } else if state.failed_attempts + 1 >= settings.threshold {
        locked(now, settings, state.failed_attempts + 1)
    } else {
        LockState {
            failed_attempts: state.failed_attempts + 1,
            ..state
        }
    }
}

/// Whether the claim that turned `before` into `after` (at `now`) lets a password be verified.
pub fn ticket(before: &LockState, after: &LockState, now: DateTime<Utc>) -> Option<Ticket> {
    let before = normalized(before, now);
    let granted = !before.is_locked(now) && after.failed_attempts == before.failed_attempts + 1;
    granted.then(|| Ticket {
        at: now,
        took_last: after.is_locked(now),
    })
}

/// Whether `state` is locked by anyone but the holder of `ticket`. Times are compared to the
/// microsecond, the precision the stores keep.
fn locked_by_another(state: &LockState, now: DateTime<Utc>, ticket: Ticket) -> bool {
    let own = ticket.took_last
        && state
            .lock_created_at
            .is_some_and(|at| at.timestamp_micros() == ticket.at.timestamp_micros());
    state.is_locked(now) && !own
}

/// After a right password: the count starts again (and the ticket's own lock is lifted), unless
/// another attempt locked the user meanwhile.
pub fn on_success(state: &LockState, now: DateTime<Utc>, ticket: Ticket) -> LockState {
    let state = normalized(state, now);
    if locked_by_another(&state, now, ticket) {
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

    /// Claim at `now`: the state after, and the ticket if granted.
    fn take(st: &LockState, now: DateTime<Utc>, s: LockoutSettings) -> (LockState, Option<Ticket>) {
        let after = claim(st, now, s);
        let t = ticket(st, &after, now);
        (after, t)
    }

    #[test]
    fn threshold_failures_lock_and_the_lock_expires() {
        let s = settings(3);
        let t0 = Utc::now();
        let mut st = LockState::default();
        for i in 1..=3 {
            let (after, t) = take(&st, t0, s);
            assert!(t.is_some(), "attempt {i} is granted");
            // A wrong password writes nothing more: the claim counted it.
            st = after;
        }
        assert!(st.is_locked(t0));
        assert_eq!(st.failed_attempts, 3);
        assert_eq!(st.lock_created_at, Some(t0));
        assert_eq!(st.lock_expires_at, Some(t0 + chrono::Duration::hours(1)));
        // Locked: no claim is granted, so even the right password is never verified.
        let (after, t) = take(&st, t0, s);
        assert_eq!(t, None);
        assert_eq!(after, st);
        // After expiry the slate is clean.
        let later = t0 + chrono::Duration::hours(1);
        let (st, t) = take(&st, later, s);
        assert!(t.is_some());
        assert_eq!(st.failed_attempts, 1);
        assert!(!st.is_locked(later));
    }

    #[test]
    fn success_before_the_lock_resets_the_count() {
        let s = settings(3);
        let t0 = Utc::now();
        let (st, _) = take(&LockState::default(), t0, s);
        let (st, t) = take(&st, t0, s);
        assert_eq!(st.failed_attempts, 2);
        assert_eq!(on_success(&st, t0, t.unwrap()), LockState::default());
    }

    #[test]
    fn the_last_attempt_locks_in_advance_and_its_success_lifts_the_lock() {
        let s = settings(3);
        let t0 = Utc::now();
        let mut st = LockState::default();
        for _ in 0..2 {
            st = take(&st, t0, s).0;
        }
        let t1 = t0 + chrono::Duration::seconds(1);
        let (st, t) = take(&st, t1, s);
        let t = t.unwrap();
        assert!(t.took_last);
        // While its password is verified, everyone else finds the user locked...
        assert!(st.is_locked(t1));
        assert_eq!(take(&st, t1, s).1, None);
        // ...and the right password lifts the lock it set.
        assert_eq!(on_success(&st, t1, t), LockState::default());
    }

    #[test]
    fn a_success_does_not_lift_a_lock_another_attempt_set() {
        let s = settings(3);
        let t0 = Utc::now();
        let (st, early) = take(&LockState::default(), t0, s);
        let st = take(&st, t0, s).0;
        let t1 = t0 + chrono::Duration::milliseconds(5);
        // The third attempt, claimed meanwhile, took the last one and locked.
        let st = take(&st, t1, s).0;
        assert!(st.is_locked(t1));
        let after = on_success(&st, t1, early.unwrap());
        assert!(
            after.is_locked(t1),
            "the first attempt's success leaves the lock in place"
        );
    }

    #[test]
    fn claims_beyond_the_threshold_are_refused_even_while_in_flight() {
        // 5 concurrent claims with threshold 3: three are granted, the rest find the lock.
        let s = settings(3);
        let t0 = Utc::now();
        let mut st = LockState::default();
        let granted = (0..5)
            .filter(|_| {
                let (after, t) = take(&st, t0, s);
                st = after;
                t.is_some()
            })
            .count();
        assert_eq!(granted, 3);
        assert!(st.is_locked(t0));
    }

    #[test]
    fn a_threshold_of_one_locks_at_the_first_claim() {
        let s = settings(1);
        let t0 = Utc::now();
        let (st, t) = take(&LockState::default(), t0, s);
        assert!(t.unwrap().took_last);
        assert!(st.is_locked(t0));
    }
}
