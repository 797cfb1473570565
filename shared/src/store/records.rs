//! What the store keeps. Secrets appear only as argon2id PHC strings and keyed digests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub middle_name: String,
    #[serde(default)]
    pub last_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRecord {
    pub password_id: String,
    /// argon2id PHC string.
    pub hash: String,
    /// Set when a login found the password breached: only a reset clears it.
    #[serde(default)]
    pub requires_reset: bool,
}

/// Set `requires_reset` on the user's password if its hash is still `hash`; the one rule both
/// backends apply inside their atomic read-modify-write.
pub fn flag_reset(user: &mut UserRecord, hash: &str) -> bool {
    match user.password.as_mut() {
        Some(p) if p.hash == hash => {
            p.requires_reset = true;
            true
        }
        _ => false,
    }
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: String,
    /// Case-folded; unique across users.
    pub email: String,
    pub email_id: String,
    pub email_verified: bool,
    pub password: Option<PasswordRecord>,
    pub name: Name,
    pub trusted_metadata: Map<String, Value>,
    pub untrusted_metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub lock: LockState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Password,
    MagicLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorRecord {
    pub kind: FactorKind,
    pub last_authenticated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For email factors: which address was proven.
    #[serde(default)]
    pub email_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    #[serde(default)]
    pub ip_address: String,
    #[serde(default)]
    pub user_agent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub session_id: String,
    pub user_id: String,
    /// Keyed digest of the opaque session token; the token itself is never stored.
    pub token_digest: String,
    pub started_at: DateTime<Utc>,
    pub last_accessed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub attributes: Attributes,
    pub custom_claims: Map<String, Value>,
    pub factors: Vec<FactorRecord>,
}

impl SessionRecord {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// PKCS#8 PEM. The signing key is a secret kept in the store (SECURITY.md X2).
    pub private_key_pem: String,
    pub created_at: DateTime<Utc>,
}

/// What a one-time token may be redeemed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The reset link of the reset email (`stytch_token_type=reset_password`).
    ResetPassword,
    /// The "log in without password" link (`stytch_token_type=magic_links`).
    MagicLink,
}

/// A single-use emailed token. Only its keyed digest is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub token_digest: String,
    pub kind: TokenKind,
    pub user_id: String,
    pub email_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// PKCE: base64url(SHA-256(code_verifier)) when the start call sent a challenge.
    pub code_challenge: Option<String>,
    /// The end user's IP and user agent at the start call, for `options.*_match_required`.
    pub attributes: Attributes,
    pub used: bool,
}

impl TokenRecord {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.used && self.expires_at > now
    }
}
