//! Response objects in the exact shape the official SDKs parse (docs/reference/stytch-api.md §6). Built from store
//! records; required-but-irrelevant arrays are empty, absent timestamps are null, never "".

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

pub use crate::sessions::objects::{
    timestamp, AuthenticatorAppFactorObject, EmailFactorObject, FactorObject, SessionObject, CONSUMER_ROLE, MEMBER_ROLE,
};
use crate::sessions::Issued;
use crate::store::{Name, UserRecord};

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

/// The session half of a response: empty strings and no session object when none was made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionFields {
    pub session_token: String,
    pub session_jwt: String,
    pub session: Option<SessionObject>,
}

impl From<Option<Issued>> for SessionFields {
    fn from(issued: Option<Issued>) -> Self {
        match issued {
            Some(i) => Self {
                session: Some(SessionObject::from(&i.record)),
                session_token: i.token,
                session_jwt: i.jwt,
            },
            None => Self {
                session_token: String::new(),
                session_jwt: String::new(),
                session: None,
            },
        }
    }
}

/// The body of an answer that has nothing to say but its request id and status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Empty {}
