//! Logging in with a password, consumer and B2B: prove it under the lockout rules, upgrade an
//! older hash, judge whether it must be reset first, and record the success with the session it
//! buys.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{EmailAddress, Password};
use crate::error::{Error, ErrorType};
use crate::hashing::Verified;
use crate::lockout;
use crate::sessions::objects::timestamp;
use crate::state::AppState;
use crate::store::{FactorKind, FactorRecord, LockState, LoginRecorded, PasswordRecord, SessionWrite, UserRecord};

/// The factor of a proved password.
pub fn password_factor(now: DateTime<Utc>) -> FactorRecord {
    FactorRecord::proved(FactorKind::Password, now)
}

pub fn email_not_found() -> Error {
    Error::new(ErrorType::EmailNotFound, "No user has this email address.")
}

pub fn user_gone() -> Error {
    Error::new(ErrorType::UserNotFound, "The user no longer exists.")
}

fn wrong_credentials() -> Error {
    Error::new(
        ErrorType::UnauthorizedCredentials,
        "The email and password do not match.",
    )
}

/// `user_locked`, saying until when.
pub fn locked(until: Option<DateTime<Utc>>) -> Error {
    let until = until.map(timestamp).unwrap_or_default();
    Error::new(
        ErrorType::UserLocked,
        format!("This user is locked after too many failed attempts; the lock expires at {until}."),
    )
}

/// A password proved right under the lockout rules, its success not yet recorded.
pub struct ProvenPassword {
    /// The user as the claim left them: the attempt counts as a failure until recorded.
    pub user: UserRecord,
    /// The stored password, upgraded to argon2id if it was of an older kind.
    pub stored: PasswordRecord,
    pub ticket: lockout::Ticket,
}

/// Check `password` for the user (`organization_id` None) or the member with this email. The
/// attempt is claimed as the user is read, so racing requests cannot exceed the threshold (L2),
/// and a wrong password needs no further write: the claim counted it. An unknown address costs
/// the same hashing work as a wrong password (E1) before `not_found`. The caller records the
/// success with `record_success`, together with the session it writes.
pub async fn prove_password(
    st: &AppState,
    organization_id: Option<&str>,
    email: &EmailAddress,
    password: &Password,
    not_found: fn() -> Error,
) -> Result<ProvenPassword, Error> {
    // Room for the hash is reserved before the attempt is claimed: a full queue answers 503
    // without counting toward anyone's lockout, and a claimed attempt always gets its hash.
    let room = st.hasher.reserve()?;
    let now = st.clock.now();
    let Some((user, ticket)) = st
        .store
        .claim_login(organization_id, email.as_str(), now, st.settings.lockout)
        .await?
    else {
        st.hasher.dummy_verify_in(&room, password).await?;
        return Err(not_found());
    };
    let Some(ticket) = ticket else {
        return Err(locked(user.lock.lock_expires_at));
    };
    let Some(stored) = user.password.clone() else {
        st.hasher.dummy_verify_in(&room, password).await?;
        return Err(wrong_credentials());
    };
    let Verified::Match { upgrade } = st.hasher.verify_in(&room, password, &stored.hash).await? else {
        return Err(wrong_credentials());
    };
    let stored = match upgrade {
        Some(new_hash) => upgrade_hash(st, &user, stored, new_hash).await,
        None => stored,
    };
    Ok(ProvenPassword { user, stored, ticket })
}

/// A proven password that must be changed before it buys a session: already flagged, or found
/// breached now. Then the success is recorded (the password was right), a newly found breach is
/// flagged so that only the emailed reset clears it, and the answer is `None`; otherwise the
/// proven password comes back, its success still to record.
pub async fn unless_reset_required(
    st: &AppState,
    proven: ProvenPassword,
    password: &Password,
    gone: fn() -> Error,
) -> Result<Option<ProvenPassword>, Error> {
    let flagged = proven.stored.requires_reset;
    if !flagged && !st.policy.breached_at_login(password).await {
        return Ok(Some(proven));
    }
    let hash = proven.stored.hash.clone();
    let user = record_success(st, proven, None, gone).await?;
    if !flagged {
        st.store.require_password_reset(&user.user_id, &hash).await?;
    }
    Ok(None)
}

/// Record a proven password's success as one write with the session the login writes (if
/// any): the count of failures starts again. Returns the user as now stored.
pub async fn record_success(
    st: &AppState,
    proven: ProvenPassword,
    session: Option<SessionWrite<'_>>,
    gone: fn() -> Error,
) -> Result<UserRecord, Error> {
    match st
        .store
        .record_login(&proven.user, proven.ticket, st.clock.now(), session)
        .await?
    {
        LoginRecorded::Recorded => Ok(UserRecord {
            lock: LockState::default(),
            password: Some(proven.stored),
            ..proven.user
        }),
        LoginRecorded::Locked(lock) => Err(locked(lock.lock_expires_at)),
        LoginRecorded::UserGone => Err(gone()),
        LoginRecorded::SessionGone => Err(crate::sessions::not_found()),
    }
}

/// Store the argon2id hash that replaces a just-verified imported (or weaker) one, if the stored
/// hash is still the one verified (docs/security.md H3). With cross-organization passwords the other
/// memberships sharing the hash are upgraded with it. Best effort: a failed write leaves the old
/// hash, which still verifies, and the next login tries again; the login itself stands.
async fn upgrade_hash(st: &AppState, user: &UserRecord, stored: PasswordRecord, new_hash: String) -> PasswordRecord {
    let old_hash = stored.hash.clone();
    let mut targets = vec![user.user_id.clone()];
    if user.member.is_some() && st.settings.cross_org_passwords {
        match st.store.members_with_email(&user.email).await {
            Ok(members) => targets.extend(
                members
                    .into_iter()
                    .filter(|m| m.user_id != user.user_id && m.password.as_ref().is_some_and(|p| p.hash == old_hash))
                    .map(|m| m.user_id),
            ),
            Err(e) => tracing::warn!(error = %e, "could not list the other memberships to upgrade"),
        }
    }
    let mut result = stored;
    for user_id in targets {
        let (old, new) = (old_hash.clone(), new_hash.clone());
        let change = std::sync::Arc::new(move |u: &mut UserRecord| {
            if let Some(p) = u.password.as_mut().filter(|p| p.hash == old) {
                p.hash = new.clone();
            }
        });
        match st.store.update_user(&user_id, change).await {
            Ok(Some(written)) if user_id == user.user_id => {
                if let Some(p) = written.password {
                    result = p;
                }
                tracing::info!(%user_id, "password hash upgraded to argon2id");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(%user_id, error = %e, "could not store the upgraded password hash"),
        }
    }
    result
}

/// Claim one attempt against the user's lock before a secret is checked (a wrong secret then
/// needs no further write: the claim counted it), or `user_locked`; `gone` if there is no such
/// user.
pub async fn claim_attempt(
    st: &AppState,
    user_id: &str,
    gone: fn() -> Error,
    now: DateTime<Utc>,
) -> Result<lockout::Ticket, Error> {
    let settings = st.settings.lockout;
    let claim = Arc::new(move |s: &_| lockout::claim(s, now, settings));
    let (before, after) = st.store.update_lock(user_id, claim).await?.ok_or_else(gone)?;
    lockout::ticket(&before, &after, now).ok_or_else(|| locked(after.lock_expires_at))
}

/// The secret an attempt claimed was right: the attempt no longer counts.
pub async fn attempt_succeeded(
    st: &AppState,
    user_id: &str,
    ticket: lockout::Ticket,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let success = Arc::new(move |s: &_| lockout::on_success(s, now, ticket));
    st.store.update_lock(user_id, success).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::users::new_user;
    use crate::test_support::{runtime, state_with};

    /// A full hashing queue answers 503 before the login claims an attempt: overload never counts
    /// toward the account's lock. (Capacity 0: the queue is always full.)
    #[test]
    fn a_full_hashing_queue_does_not_count_toward_the_lock() {
        runtime().block_on(async {
            let st = state_with(|s| {
                s.hashing.concurrency = 0;
                s.hashing.queue = 0;
            })
            .await;
            let email = EmailAddress::parse("full-queue@example.com").unwrap();
            // Any stored hash will do: the login must not get as far as checking it.
            let user = new_user(
                &st,
                &email,
                "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
                st.clock.now(),
            );
            st.store.create_user(&user, None).await.unwrap();
            let password = Password::parse("a-password-to-check".to_string()).unwrap();
            for _ in 0..3 {
                let refused = prove_password(&st, None, &email, &password, email_not_found)
                    .await
                    .err()
                    .expect("refused");
                assert_eq!(refused, Error::overloaded());
            }
            let stored = st.store.user_by_id(&user.user_id).await.unwrap().unwrap();
            assert_eq!(stored.lock.failed_attempts, 0);
        })
    }
}
