//! What the store keeps. Secrets appear only as argon2id PHC strings and keyed digests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::lockout::LockState;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// A passwordless method (an emailed magic link) proved the user's email: mark it verified and,
/// if it was not verified before and a password exists, flag that password for a reset — the
/// one rule both backends apply inside the same atomic write (account pre-hijacking, Stytch's
/// third `reset_password` case). A user's password can exist beside an unverified email only if
/// it was set before anyone proved the address (signup, a migrate without `set_email_verified`,
/// a reset that proved only the old password): whoever set it may not own the mailbox, so the
/// owner's first passwordless login must not leave it usable. Only a reset by email clears the
/// flag. True if the password was flagged. (B2B members: see `handlers::b2b::magic_links`.)
pub fn prove_email(user: &mut UserRecord) -> bool {
    let first_proof = !user.email_verified;
    user.email_verified = true;
    match user.password.as_mut() {
        Some(p) if first_proof => {
            p.requires_reset = true;
            true
        }
        _ => false,
    }
}

/// The key that makes an email unique: per project for users, per organization for members.
/// Emails hold no whitespace (`EmailAddress`), so the space cannot be forged into a collision.
pub fn email_key(organization_id: Option<&str>, email: &str) -> String {
    match organization_id {
        Some(org) => format!("{org} {email}"),
        None => email.to_string(),
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
    /// Present for a B2B member: the user record is then scoped to one organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberFields>,
    /// How many times the stored password has changed (docs/security.md R7). Emailed tokens record it
    /// when issued and are refused once it has moved on; only the store sets it
    /// (`settle_credential_epoch`), inside the write that changes the password.
    #[serde(default)]
    pub credential_epoch: u64,
}

/// docs/security.md R7, the one rule: a write that changes the stored password (a reset, an import
/// setting one, a copy from another organization, a hash upgrade, a removal) moves the user's
/// `credential_epoch` on, which kills every emailed token issued before it (`token_survives`).
/// `always` counts the write as a change whatever the hash (a completed reset). Both backends
/// call this inside the atomic write, with `before` as read in it; whatever a `UserChange`
/// did to the epoch itself is overridden.
pub fn settle_credential_epoch(before: &UserRecord, after: &mut UserRecord, always: bool) {
    let hash = |u: &UserRecord| u.password.as_ref().map(|p| p.hash.clone());
    let changed = always || hash(before) != hash(after);
    after.credential_epoch = before.credential_epoch + u64::from(changed);
}

/// Whether `token` may still be redeemed against `user` as now stored: a token of a kind that
/// dies with the password (`TokenKind::dies_with_password`) only while the user's password has
/// not changed since it was issued. The stores apply this atomically with the consumption.
pub fn token_survives(token: &TokenRecord, user: &UserRecord) -> bool {
    !token.kind.dies_with_password() || token.credential_epoch == user.credential_epoch
}

impl UserRecord {
    pub fn organization_id(&self) -> Option<&str> {
        self.member.as_ref().map(|m| m.organization_id.as_str())
    }

    pub fn email_key(&self) -> String {
        email_key(self.organization_id(), &self.email)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Pending,
    Invited,
    Active,
    Deleted,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Pending => "pending",
            MemberStatus::Invited => "invited",
            MemberStatus::Active => "active",
            MemberStatus::Deleted => "deleted",
        }
    }
}

/// What a B2B member has beyond a user's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberFields {
    pub organization_id: String,
    pub status: MemberStatus,
    pub name: String,
    pub is_breakglass: bool,
    pub mfa_enrolled: bool,
    pub mfa_phone_number: String,
    pub external_id: Option<String>,
    /// Explicitly assigned roles (besides the implicit `stytch_member`).
    pub roles: Vec<String>,
    pub default_mfa_method: String,
    pub totp: Option<TotpRecord>,
    pub updated_at: DateTime<Utc>,
}

impl MemberFields {
    /// A member of `organization_id` in `status`, with nothing else set.
    pub fn new(organization_id: impl Into<String>, status: MemberStatus, now: DateTime<Utc>) -> Self {
        Self {
            organization_id: organization_id.into(),
            status,
            name: String::new(),
            is_breakglass: false,
            mfa_enrolled: false,
            mfa_phone_number: String::new(),
            external_id: None,
            roles: vec![],
            default_mfa_method: String::new(),
            totp: None,
            updated_at: now,
        }
    }
}

/// A member's TOTP registration. The shared secret must be usable to check codes, so it is
/// sealed (encrypted under a key derived from the pepper), not hashed; recovery codes are digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpRecord {
    pub totp_registration_id: String,
    pub sealed_secret: String,
    pub recovery_code_digests: Vec<String>,
    /// The same codes, sealed like the secret and in the same order, so that a member can be
    /// shown the unused ones again (`GET /v1/b2b/recovery_codes/…`). Empty in registrations
    /// made before codes were kept sealed: those show none.
    #[serde(default)]
    pub sealed_recovery_codes: Vec<String>,
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    /// A pending (unverified) registration must be verified before this.
    pub expires_at: DateTime<Utc>,
    /// The last time step a code was accepted for: a code works once.
    pub last_used_step: Option<i64>,
}

impl TotpRecord {
    /// Verified, or pending and not yet expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.verified || self.expires_at > now
    }
}

/// A pure change to a user, applied atomically by the store (possibly more than once, so it
/// must be a function of its input). It must not change the user's id or email.
pub type UserChange = std::sync::Arc<dyn Fn(&mut UserRecord) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Password,
    MagicLink,
    Totp,
    RecoveryCode,
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
    /// For TOTP factors: the registration used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_id: Option<String>,
}

impl FactorRecord {
    /// A factor of `kind` proved at `now`, naming no email and no TOTP registration.
    pub fn proved(kind: FactorKind, now: DateTime<Utc>) -> Self {
        Self {
            kind,
            last_authenticated_at: now,
            created_at: now,
            updated_at: now,
            email_id: None,
            email: None,
            totp_id: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Present for a member session: the organization it is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgRef>,
}

/// An organization as a member session and its JWT name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    pub organization_id: String,
    pub slug: String,
}

impl SessionRecord {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The private key. A secret kept in the store, sealed (docs/security.md X2, X3).
    #[serde(flatten)]
    pub private_key: StoredPrivateKey,
    pub created_at: DateTime<Utc>,
}

/// A signing key's private half as the store holds it; the field name tells which.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredPrivateKey {
    /// Sealed (`totp::SecretSealer` under the signing-key purpose) PKCS#8 DER, as
    /// base64(nonce ‖ ciphertext). What Latch writes.
    #[serde(rename = "sealed_private_key")]
    Sealed(String),
    /// PKCS#8 PEM in clear, as versions before sealing wrote it: read, and sealed at the
    /// next start (`sessions::keys`), never written.
    #[serde(rename = "private_key_pem")]
    ClearPem(String),
}

impl std::fmt::Debug for StoredPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sealed(_) => "Sealed(..)",
            Self::ClearPem(_) => "ClearPem(<redacted>)",
        })
    }
}

/// What a one-time token may be redeemed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The reset link of the reset email (`stytch_token_type=reset_password`).
    ResetPassword,
    /// The "log in without password" link (`stytch_token_type=magic_links`).
    MagicLink,
    /// A B2B login, signup or "log in without password" link (`multi_tenant_magic_links`).
    MultiTenantMagicLink,
    /// A B2B reset link (`multi_tenant_passwords`).
    MultiTenantPassword,
    /// A B2B intermediate session: primary factors proved, MFA still to do.
    IntermediateSession,
}

impl TokenKind {
    /// Every emailed link dies when the password changes (docs/security.md R7); an intermediate
    /// session is no emailed link and lives out its ten minutes (docs/security.md J3).
    pub fn dies_with_password(self) -> bool {
        !matches!(self, TokenKind::IntermediateSession)
    }
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
    /// B2B tokens are bound to one organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// For an intermediate session: the factors proved so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<FactorRecord>,
    /// The user's `credential_epoch` when the token was issued (docs/security.md R7). A token stored
    /// before the field existed reads as 0 and dies with the next password change.
    #[serde(default)]
    pub credential_epoch: u64,
}

impl TokenRecord {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.used && self.expires_at > now
    }
}

/// Stytch's three-way settings (`ALL_ALLOWED` / `RESTRICTED` / `NOT_ALLOWED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Allowance {
    AllAllowed,
    Restricted,
    NotAllowed,
}

/// `email_jit_provisioning` has no `ALL_ALLOWED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JitProvisioning {
    Restricted,
    NotAllowed,
}

/// `auth_methods` / `mfa_methods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MethodRestriction {
    AllAllowed,
    Restricted,
}

/// The primary authentication methods `allowed_auth_methods` may name (Stytch's set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Sso,
    MagicLink,
    EmailOtp,
    Password,
    GoogleOauth,
    MicrosoftOauth,
    SlackOauth,
    GithubOauth,
    HubspotOauth,
}

impl AuthMethod {
    /// The wire name, as stored in `allowed_auth_methods`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Sso => "sso",
            AuthMethod::MagicLink => "magic_link",
            AuthMethod::EmailOtp => "email_otp",
            AuthMethod::Password => "password",
            AuthMethod::GoogleOauth => "google_oauth",
            AuthMethod::MicrosoftOauth => "microsoft_oauth",
            AuthMethod::SlackOauth => "slack_oauth",
            AuthMethod::GithubOauth => "github_oauth",
            AuthMethod::HubspotOauth => "hubspot_oauth",
        }
    }
}

/// The MFA methods `allowed_mfa_methods` may name (Stytch's set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    SmsOtp,
    Totp,
}

impl MfaMethod {
    /// The wire name, as stored in `allowed_mfa_methods`.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaMethod::SmsOtp => "sms_otp",
            MfaMethod::Totp => "totp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaPolicy {
    Optional,
    RequiredForAll,
}

/// A B2B organization (tenant) and the settings Latch acts on or keeps for the SDKs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationRecord {
    pub organization_id: String,
    pub organization_name: String,
    /// Unique in the project; usable wherever an organization id is.
    pub organization_slug: String,
    pub organization_logo_url: String,
    pub organization_external_id: Option<String>,
    pub trusted_metadata: Map<String, Value>,
    pub sso_jit_provisioning: Allowance,
    pub email_allowed_domains: Vec<String>,
    pub email_jit_provisioning: JitProvisioning,
    pub email_invites: Allowance,
    pub auth_methods: MethodRestriction,
    pub allowed_auth_methods: Vec<String>,
    pub mfa_policy: MfaPolicy,
    pub mfa_methods: MethodRestriction,
    pub allowed_mfa_methods: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrganizationRecord {
    /// May a member of this organization authenticate with `method`? Everything is allowed
    /// under `auth_methods: ALL_ALLOWED`; under `RESTRICTED` only what `allowed_auth_methods`
    /// names (a stored name Latch does not know matches nothing: the rule fails closed).
    pub fn allows_auth_method(&self, method: AuthMethod) -> bool {
        self.auth_methods == MethodRestriction::AllAllowed
            || self.allowed_auth_methods.iter().any(|m| m == method.as_str())
    }

    /// May a member of this organization use `method` as a second factor? As
    /// `allows_auth_method`, for `mfa_methods` and `allowed_mfa_methods`.
    pub fn allows_mfa_method(&self, method: MfaMethod) -> bool {
        self.mfa_methods == MethodRestriction::AllAllowed
            || self.allowed_mfa_methods.iter().any(|m| m == method.as_str())
    }

    pub fn org_ref(&self) -> OrgRef {
        OrgRef {
            organization_id: self.organization_id.clone(),
            slug: self.organization_slug.clone(),
        }
    }
}
