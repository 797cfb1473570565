//! Consumer users: a new one, and one looked up by the id a request names.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::password_records;
use crate::domain::ids::{looks_like, new_id, IdKind};
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::sessions::{Scope, SessionRef};
use crate::state::AppState;
use crate::store::{Name, SessionRecord, UserRecord};

/// A new consumer user with this password hash, email unverified, nothing else set (not yet
/// stored).
pub fn new_user(st: &AppState, email: &EmailAddress, hash: String, now: DateTime<Utc>) -> UserRecord {
    UserRecord {
        user_id: new_id(IdKind::User, st.env),
        email: email.as_str().to_string(),
        email_id: new_id(IdKind::Email, st.env),
        email_verified: false,
        password: Some(password_records::fresh(st, hash)),
        name: Name::default(),
        trusted_metadata: Map::new(),
        untrusted_metadata: Map::new(),
        created_at: now,
        lock: Default::default(),
        member: None,
        credential_epoch: 0,
    }
}

/// The user a `user_id` names: `invalid_user_id` for something that is not an id,
/// `user_not_found` for an id with no user.
pub async fn load(st: &AppState, user_id: &str) -> Result<UserRecord, Error> {
    if !looks_like(IdKind::User, user_id) {
        return Err(Error::new(
            ErrorType::InvalidUserId,
            "user_id is not a user id (user-test-… or user-live-…).",
        ));
    }
    st.store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| Error::new(ErrorType::UserNotFound, "No user has this id."))
}

/// A consumer session, with its token and user: what every call made with a consumer session
/// starts from. A member session, or one whose user is gone, is `session_not_found`.
pub async fn session_user(
    st: &AppState,
    by: SessionRef<'_>,
    now: DateTime<Utc>,
) -> Result<(SessionRecord, String, UserRecord), Error> {
    let (context, token) = st.sessions.find_context(by, Scope::Consumer, now).await?;
    let user = context
        .user
        .ok_or_else(|| Error::new(ErrorType::SessionNotFound, "The session's user no longer exists."))?;
    Ok((context.session, token, user))
}
