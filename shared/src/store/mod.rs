//! The store port, in the domain's terms: "create this user if the email is free", "claim a
//! login attempt" — never "put item". Each operation is atomic in every backend.

pub mod dynamo;
pub mod records;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use chrono::{DateTime, Utc};

pub use records::*;

use crate::config::LockoutSettings;
use crate::error::Error;
use crate::lockout::Ticket;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the email address is already in use")]
    DuplicateEmail,
    #[error("the item already exists")]
    Conflict,
    /// Busy, throttled, timed out, I/O: the operation did not happen and may be retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored item does not decode: a bug or tampering, never the caller's fault.
    #[error("store data corrupt: {0}")]
    Corrupt(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Error::unavailable(e),
            _ => Error::internal(e),
        }
    }
}

/// Everything a completed password reset writes, applied as one unit.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub user_id: String,
    /// The emailed reset token it redeems, as read (consumed only if `token_survives`).
    pub token: Option<TokenRecord>,
    pub password: PasswordRecord,
    /// The session that survives the reset, as it should now be stored (refreshed).
    pub keep_session: Option<SessionRecord>,
    /// A session the reset starts.
    pub new_session: Option<SessionRecord>,
    /// The other memberships of the email, which take the same password in the same write
    /// (cross-organization passwords, docs/b2b.md "Passwords"): all of them or none, so a reset
    /// cut short never leaves the old password working elsewhere. One gone meanwhile is skipped.
    pub same_password_for: Vec<SharedPassword>,
}

/// A membership that takes the password another membership of its email is given.
#[derive(Debug, Clone)]
pub struct SharedPassword {
    pub user_id: String,
    /// Its password id if it has no password yet (one it has is kept).
    pub new_password_id: String,
}

impl SharedPassword {
    /// The one rule for a membership taking a shared password: this hash, under its own password
    /// id, no pending reset; its credential epoch moves if the hash changed.
    pub fn apply_to(&self, member: &mut UserRecord, hash: &str) {
        let before = member.clone();
        let password_id = member
            .password
            .as_ref()
            .map_or_else(|| self.new_password_id.clone(), |p| p.password_id.clone());
        member.password = Some(PasswordRecord {
            password_id,
            hash: hash.to_string(),
            requires_reset: false,
        });
        settle_credential_epoch(&before, member, false);
    }
}

impl PasswordReset {
    /// What a completed reset does to the user, the one rule both backends apply inside their
    /// transaction: the new password (no pending reset), the email proven if an emailed token
    /// was redeemed, any lock cleared.
    pub fn apply_to(&self, user: &mut UserRecord) {
        let before = user.clone();
        user.password = Some(self.password.clone());
        settle_credential_epoch(&before, user, true);
        // Only the emailed reset token proves the address; the existing password or a session
        // does not, so the email stays as it was (and `prove_email` still guards it).
        user.email_verified |= self.token.is_some();
        user.lock = LockState::default();
        // The emailed link (or the session) proved the address: a pending member joins.
        if let Some(m) = user.member.as_mut() {
            if matches!(m.status, MemberStatus::Pending | MemberStatus::Invited) {
                m.status = MemberStatus::Active;
            }
        }
    }
}

/// A pure change to a user's lock state, applied atomically by the store (a backend with
/// optimistic writes may apply it more than once, so it must be a function of its input).
pub type LockChange = std::sync::Arc<dyn Fn(&LockState) -> LockState + Send + Sync>;

/// The session a successful login writes together with its lock reset.
#[derive(Debug, Clone, Copy)]
pub enum SessionWrite<'a> {
    /// A new session (its user must still exist).
    Insert(&'a SessionRecord),
    /// The session the request named, refreshed (it must not have been revoked meanwhile).
    Refresh(&'a SessionRecord),
}

/// What `record_login` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRecorded {
    Recorded,
    /// Another attempt locked the user while this one was verified: nothing was written.
    Locked(LockState),
    /// The user was deleted meanwhile: nothing was written.
    UserGone,
    /// The session to refresh was revoked meanwhile: nothing was written.
    SessionGone,
}

/// How a session is named to [`Store::session_context`]: by its token's digest, or (from a
/// verified JWT) by its id and its user's.
#[derive(Debug, Clone, Copy)]
pub enum SessionKey<'a> {
    TokenDigest(&'a str),
    Id { session_id: &'a str, user_id: &'a str },
}

/// A session with what `sessions/authenticate` answers beside it: its user (a member for a member
/// session) and, for a member session, its organization; None where that no longer exists. The
/// caller checks the session is active, belongs to the user named and that the member is its
/// organization's.
#[derive(Debug, Clone)]
pub struct SessionContext {
    pub session: SessionRecord,
    pub user: Option<UserRecord>,
    pub organization: Option<OrganizationRecord>,
}

#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Insert a user, and with it their first session if given, as one write; `DuplicateEmail` if
    /// the email is taken (decided atomically by the store). For a member the email is unique
    /// within its organization, and the organization must exist (`Conflict` if it does not).
    async fn create_user(&self, user: &UserRecord, session: Option<&SessionRecord>) -> Result<(), StoreError>;
    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// The user (`organization_id` None) or the organization's member with this email.
    async fn user_by_email(&self, organization_id: Option<&str>, email: &str)
        -> Result<Option<UserRecord>, StoreError>;
    /// The members of every organization with this email (cross-organization passwords).
    async fn members_with_email(&self, email: &str) -> Result<Vec<UserRecord>, StoreError>;
    /// Find the user (`organization_id` None) or the organization's member with this email and,
    /// in the same atomic step, claim a login attempt (`lockout::claim`). Returns the user as
    /// the claim left them, with the ticket if the attempt was granted; None if there is no
    /// such user. The claim is the read: one round trip on DynamoDB in the common case.
    async fn claim_login(
        &self,
        organization_id: Option<&str>,
        email: &str,
        now: DateTime<Utc>,
        settings: LockoutSettings,
    ) -> Result<Option<(UserRecord, Option<Ticket>)>, StoreError>;
    /// Record a successful login as one write: the lock state `lockout::on_success` gives for
    /// `ticket` and, if given, the session the login starts or refreshes. Nothing is written
    /// unless all of it is (see `LoginRecorded`).
    async fn record_login(
        &self,
        user: &UserRecord,
        ticket: Ticket,
        now: DateTime<Utc>,
        session: Option<SessionWrite<'_>>,
    ) -> Result<LoginRecorded, StoreError>;
    /// Apply `change` to the user atomically; returns the user as written, or None if there is
    /// no such user. A change of the password moves the credential epoch on in the same write
    /// (`settle_credential_epoch`, docs/security.md R7).
    async fn update_user(&self, user_id: &str, change: UserChange) -> Result<Option<UserRecord>, StoreError>;
    /// Mark the user's password as needing a reset, if it is still the one whose hash is
    /// `hash`: a reset that replaced it meanwhile must not be undone. True if the flag was set.
    async fn require_password_reset(&self, user_id: &str, hash: &str) -> Result<bool, StoreError>;
    /// Mark the user's email verified (a magic link proved it) and, in the same write, flag a
    /// password set before the email was verified (`records::prove_email`).
    async fn verify_email(&self, user_id: &str) -> Result<bool, StoreError>;
    /// Delete a user and every session of theirs. False if there was no such user.
    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError>;
    /// Apply `change` to the user's lock state atomically; returns (before, after), or None if
    /// there is no such user.
    async fn update_lock(
        &self,
        user_id: &str,
        change: LockChange,
    ) -> Result<Option<(LockState, LockState)>, StoreError>;

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session_by_id(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn session_by_token_digest(&self, digest: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Overwrite a session's mutable fields (expiry, last access, claims, factors). False if gone.
    async fn update_session(&self, session: &SessionRecord) -> Result<bool, StoreError>;
    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError>;
    /// The session `key` names with its user and organization ([`SessionContext`]), each read
    /// as its own lookup would read it. None if there is no such session (for a token) or none
    /// with that id (for a JWT; the caller compares the user). A backend with round trips to save
    /// reads them together (DynamoDB: one `BatchGetItem` where it knows the keys).
    async fn session_context(&self, key: SessionKey<'_>) -> Result<Option<SessionContext>, StoreError> {
        let session = match key {
            SessionKey::TokenDigest(digest) => self.session_by_token_digest(digest).await?,
            SessionKey::Id { session_id, .. } => self.session_by_id(session_id).await?,
        };
        let Some(session) = session else { return Ok(None) };
        let user = self.user_by_id(&session.user_id).await?;
        let organization = match &session.organization {
            Some(org) => self.organization_by_id(&org.organization_id).await?,
            None => None,
        };
        Ok(Some(SessionContext {
            session,
            user,
            organization,
        }))
    }
    /// The user's sessions still active at `now`.
    async fn sessions_for_user(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>, StoreError>;

    /// Store emailed tokens, all or none (a reset email's two links work together or not at all).
    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError>;
    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Rewrite a token's record (an intermediate session gaining a factor) if it is still unused.
    /// False if it is gone or used.
    async fn update_token(&self, token: &TokenRecord) -> Result<bool, StoreError>;
    /// Mark a token (as read) used if it is still unused and, for a kind that dies with the
    /// password, its user's password has not changed since it was issued (`token_survives`,
    /// decided in the same atomic step): true for exactly one caller, however many race.
    async fn consume_token(&self, token: &TokenRecord) -> Result<bool, StoreError>;
    /// Complete a reset atomically: consume the token (if given; refused as in `consume_token`),
    /// replace the password and move the credential epoch on (so every other emailed token of
    /// the user dies, docs/security.md R7), verify the email (if a token was given), clear the lock, revoke the user's
    /// sessions except `keep_session` (written as given), and store `new_session` if given.
    /// Nothing happens unless all of it does, and once it returns Ok no revoked session can be
    /// found, however many the user had. Returns the user as written, or None if the token was
    /// already used or outlived by a password change, or the user or kept session is gone.
    async fn complete_reset(&self, reset: &PasswordReset) -> Result<Option<UserRecord>, StoreError>;

    /// Count one event for `key` in the fixed window starting at `window_start`; returns the
    /// count including this one. Atomic, so racing requests cannot all slip under a limit.
    async fn hit_rate_limit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError>;

    /// Insert an organization; `Conflict` if its slug is taken (decided atomically).
    async fn create_organization(&self, org: &OrganizationRecord) -> Result<(), StoreError>;
    async fn organization_by_id(&self, organization_id: &str) -> Result<Option<OrganizationRecord>, StoreError>;
    async fn organization_by_slug(&self, slug: &str) -> Result<Option<OrganizationRecord>, StoreError>;
    /// Replace an organization read with slug `previous_slug`; `Conflict` if a changed slug is
    /// taken. False if the organization is gone.
    async fn update_organization(&self, org: &OrganizationRecord, previous_slug: &str) -> Result<bool, StoreError>;
    /// Delete an organization, then every member of it with their sessions and tokens. Once
    /// this returns true the organization is gone and no member of it can be found or created.
    async fn delete_organization(&self, organization_id: &str) -> Result<bool, StoreError>;

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Insert a key; `Conflict` if any key already exists (first writer wins).
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError>;
    /// Replace the key `current` (same kid) with `new`, if the store still holds exactly
    /// `current`; `Conflict` if it holds something else or nothing (first writer wins: used
    /// to seal a key an older version left in clear).
    async fn replace_signing_key(&self, current: &SigningKeyRecord, new: &SigningKeyRecord) -> Result<(), StoreError>;
}
