//! Password records, consumer and B2B: a new one for a hash, the one a new password replaces
//! the old with, and an imported hash given to an existing account.

use std::sync::Arc;

use crate::domain::ids::{new_id, IdKind};
use crate::domain::{EmailAddress, Password};
use crate::error::{Error, ErrorType};
use crate::state::AppState;
use crate::store::{PasswordRecord, UserRecord};

/// A password record of its own for `hash`, not flagged for a reset.
pub fn fresh(st: &AppState, hash: String) -> PasswordRecord {
    PasswordRecord {
        password_id: new_id(IdKind::Password, st.env),
        hash,
        requires_reset: false,
    }
}

/// The record a new password replaces `account`'s with, once it passes the policy: hashed, the
/// password id kept (a fresh one if the account had none), any pending reset cleared.
pub async fn replacement(st: &AppState, password: &Password, account: &UserRecord) -> Result<PasswordRecord, Error> {
    let email = EmailAddress::parse(&account.email)?;
    st.policy.require_acceptable(password, Some(&email)).await?;
    let hash = st.hasher.hash(password).await?;
    Ok(match &account.password {
        Some(old) => PasswordRecord {
            password_id: old.password_id.clone(),
            hash,
            requires_reset: false,
        },
        None => fresh(st, hash),
    })
}

pub fn password_already_exists() -> Error {
    Error::new(
        ErrorType::PasswordAlreadyExists,
        "This email already has a different password; migrate never replaces one (a reset does).",
    )
}

/// Give an existing account the imported hash, in one atomic change: set it if the account has
/// no password; the very same hash again is a success (a retried import row); any other
/// password is `password_already_exists`. `verify_email` marks the email verified when the hash
/// is (now) the account's. None if the account is gone.
pub async fn add_imported_hash(
    st: &AppState,
    user_id: &str,
    encoded: &str,
    verify_email: bool,
) -> Result<Option<UserRecord>, Error> {
    let (hash, record) = (encoded.to_string(), fresh(st, encoded.to_string()));
    let change = Arc::new(move |u: &mut UserRecord| {
        if u.password.is_none() {
            u.password = Some(record.clone());
        }
        if verify_email && u.password.as_ref().is_some_and(|p| p.hash == hash) {
            u.email_verified = true;
        }
    });
    let Some(written) = st.store.update_user(user_id, change).await? else {
        return Ok(None);
    };
    match &written.password {
        Some(p) if p.hash == encoded => Ok(Some(written)),
        _ => Err(password_already_exists()),
    }
}
