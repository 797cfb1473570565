//! The session as Stytch shapes it, in responses and in the `https://stytch.com/session` claim of
//! the session JWT: one shape for both, so the claim and the response cannot disagree.
//! (`crate::api::wire` re-exports these with the other response objects.)

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::store::{Attributes, FactorKind, FactorRecord, SessionRecord};
/// The role every consumer user and session carries.
pub const CONSUMER_ROLE: &str = "stytch_user";
/// The role every member and member session carries.
pub const MEMBER_ROLE: &str = "stytch_member";

/// RFC 3339 UTC with a `Z`, as Stytch sends.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
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
            FactorKind::RecoveryCode => ("recovery_codes", "recovery_code"),
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
