//! `POST /v1/passwords/migrate`: a password hash from another system, taken as it is, verified
//! with its own algorithm at the next login and then replaced by argon2id (docs/migration.md).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::openapi::{errors, Api};
use crate::api::wire::UserObject;
use crate::api::{JsonBody, Reply};
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::flows::password_records::add_imported_hash;
use crate::flows::users::new_user;
use crate::hashing::imported::HashFields;
use crate::state::AppState;
use crate::store::{Name, StoreError, UserRecord};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MigrateRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    #[serde(flatten)]
    pub hash: HashFields,
    pub trusted_metadata: Option<Map<String, Value>>,
    pub untrusted_metadata: Option<Map<String, Value>>,
    pub set_email_verified: Option<bool>,
    pub name: Option<Name>,
    /// Refused: consumer users in Latch have no phone numbers.
    pub phone_number: Option<String>,
    pub set_phone_number_verified: Option<bool>,
    /// Refused: consumer users in Latch have no external ids.
    pub external_id: Option<String>,
    /// Refused: consumer users in Latch have no RBAC roles.
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MigrateResponse {
    pub user_id: String,
    pub email_id: String,
    pub user_created: bool,
    pub user: UserObject,
}

/// A field Latch has nothing to store in: refused rather than dropped, so nothing an import sends
/// is silently lost.
fn unsupported(field: &str, given: bool) -> Result<(), Error> {
    if given {
        return Err(Error::new(
            ErrorType::BadRequest,
            format!("{field} is not supported for consumer users by Latch."),
        ));
    }
    Ok(())
}

/// `POST /v1/passwords/migrate`.
pub async fn migrate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<MigrateRequest>,
) -> Result<Reply<MigrateResponse>, Error> {
    let email = EmailAddress::parse(&req.email)?;
    let encoded = req.hash.parse()?.encode();
    unsupported(
        "phone_number",
        req.phone_number.as_deref().is_some_and(|p| !p.is_empty()),
    )?;
    unsupported("set_phone_number_verified", req.set_phone_number_verified == Some(true))?;
    unsupported("external_id", req.external_id.as_deref().is_some_and(|e| !e.is_empty()))?;
    unsupported("roles", req.roles.as_ref().is_some_and(|r| !r.is_empty()))?;
    let verify_email = req.set_email_verified.unwrap_or(false);
    let now = st.clock.now();
    // A user created (or deleted) by a racing request between the lookup and the write is found
    // on the second pass.
    for _ in 0..2 {
        if let Some(user) = st.store.user_by_email(None, email.as_str()).await? {
            if let Some(user) = add_imported_hash(&st, &user.user_id, &encoded, verify_email).await? {
                return Ok(Reply(MigrateResponse::new(&user, false, now)));
            }
            continue;
        }
        let mut user = new_user(&st, &email, encoded.clone(), now);
        user.email_verified = verify_email;
        user.name = req.name.clone().unwrap_or_default();
        user.trusted_metadata = req.trusted_metadata.clone().unwrap_or_default();
        user.untrusted_metadata = req.untrusted_metadata.clone().unwrap_or_default();
        match st.store.create_user(&user, None).await {
            Ok(()) => return Ok(Reply(MigrateResponse::new(&user, true, now))),
            Err(StoreError::DuplicateEmail) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::unavailable(
        "the user was created or deleted concurrently twice while migrating",
    ))
}

impl MigrateResponse {
    fn new(user: &UserRecord, created: bool, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            user_id: user.user_id.clone(),
            email_id: user.email_id.clone(),
            user_created: created,
            user: UserObject::new(user, now),
        }
    }
}

pub const MIGRATE_API: Api =
    Api::body::<MigrateRequest, MigrateResponse>(&[&[ErrorType::InvalidEmail], errors::IMPORTED_HASH]);
