//! Response objects in the exact shape the official SDKs parse (docs/reference/stytch-api.md §6). Built from store
//! records; required-but-irrelevant arrays are empty, absent timestamps are null, never "".

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::store::{Attributes, FactorKind, FactorRecord, Name, SessionRecord, UserRecord};

/// The role every consumer user and session carries.
pub const CONSUMER_ROLE: &str = "stytch_user";
/// The role every member and member session carries.
pub const MEMBER_ROLE: &str = "stytch_member";

/// RFC 3339 UTC with a `Z`, as Stytch sends.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailObject {
    pub email_id: String,
    pub email: String,
    pub verified: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordObject {
    pub password_id: String,
    pub requires_reset: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserObject {
    pub user_id: String,
    pub emails: Vec<EmailObject>,
    pub status: &'static str,
    pub phone_numbers: Vec<Value>,
    pub webauthn_registrations: Vec<Value>,
    pub providers: Vec<Value>,
    pub totps: Vec<Value>,
    pub crypto_wallets: Vec<Value>,
    pub biometric_registrations: Vec<Value>,
    pub is_locked: bool,
    pub roles: Vec<&'static str>,
    pub name: Name,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub password: Option<PasswordObject>,
    pub trusted_metadata: Map<String, Value>,
    pub untrusted_metadata: Map<String, Value>,
    #[schema(format = DateTime)]
    pub lock_created_at: Option<String>,
    #[schema(format = DateTime)]
    pub lock_expires_at: Option<String>,
}

impl UserObject {
    pub fn new(user: &UserRecord, now: DateTime<Utc>) -> Self {
        let locked = user.lock.is_locked(now);
        Self {
            user_id: user.user_id.clone(),
            emails: vec![EmailObject {
                email_id: user.email_id.clone(),
                email: user.email.clone(),
                verified: user.email_verified,
            }],
            status: "active",
            phone_numbers: vec![],
            webauthn_registrations: vec![],
            providers: vec![],
            totps: vec![],
            crypto_wallets: vec![],
            biometric_registrations: vec![],
            is_locked: locked,
            roles: vec![CONSUMER_ROLE],
            name: user.name.clone(),
            created_at: timestamp(user.created_at),
            password: user.password.as_ref().map(|p| PasswordObject {
                password_id: p.password_id.clone(),
                requires_reset: p.requires_reset,
            }),
            trusted_metadata: user.trusted_metadata.clone(),
            untrusted_metadata: user.untrusted_metadata.clone(),
            lock_created_at: user.lock.lock_created_at.filter(|_| locked).map(timestamp),
            lock_expires_at: user.lock.lock_expires_at.filter(|_| locked).map(timestamp),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailFactorObject {
    pub email_id: String,
    pub email_address: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FactorObject {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub delivery_method: &'static str,
    #[schema(format = DateTime)]
    pub last_authenticated_at: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_factor: Option<EmailFactorObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator_app_factor: Option<AuthenticatorAppFactorObject>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthenticatorAppFactorObject {
    pub totp_id: String,
}

impl From<&FactorRecord> for FactorObject {
    fn from(f: &FactorRecord) -> Self {
        let (kind, delivery_method) = match f.kind {
            FactorKind::Password => ("password", "knowledge"),
            FactorKind::MagicLink => ("magic_link", "email"),
            FactorKind::Totp => ("totp", "authenticator_app"),
        };
        Self {
            kind,
            delivery_method,
            last_authenticated_at: timestamp(f.last_authenticated_at),
            created_at: timestamp(f.created_at),
            updated_at: timestamp(f.updated_at),
            email_factor: match (&f.email_id, &f.email) {
                (Some(id), Some(email)) => Some(EmailFactorObject {
                    email_id: id.clone(),
                    email_address: email.clone(),
                }),
                _ => None,
            },
            authenticator_app_factor: f
                .totp_id
                .as_ref()
                .map(|id| AuthenticatorAppFactorObject { totp_id: id.clone() }),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionObject {
    pub session_id: String,
    pub user_id: String,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub last_accessed_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub attributes: Attributes,
    pub custom_claims: Map<String, Value>,
    pub roles: Vec<&'static str>,
    pub authentication_factors: Vec<FactorObject>,
}

impl From<&SessionRecord> for SessionObject {
    fn from(s: &SessionRecord) -> Self {
        Self {
            session_id: s.session_id.clone(),
            user_id: s.user_id.clone(),
            started_at: timestamp(s.started_at),
            last_accessed_at: timestamp(s.last_accessed_at),
            expires_at: timestamp(s.expires_at),
            attributes: s.attributes.clone(),
            custom_claims: s.custom_claims.clone(),
            roles: vec![if s.organization.is_some() {
                MEMBER_ROLE
            } else {
                CONSUMER_ROLE
            }],
            authentication_factors: s.factors.iter().map(FactorObject::from).collect(),
        }
    }
}

impl SessionObject {
    /// The `https://stytch.com/session` JWT claim: every key the SDKs' local verifiers read.
    pub fn jwt_claim(&self) -> Value {
        serde_json::json!({
            "id": self.session_id,
            "started_at": self.started_at,
            "last_accessed_at": self.last_accessed_at,
            "expires_at": self.expires_at,
            "attributes": self.attributes,
            "authentication_factors": self.authentication_factors,
            "roles": self.roles,
        })
    }
}
