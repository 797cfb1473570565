//! `POST /v1/b2b/passwords/migrate`: a member's password from another system's hash, in one
//! organization (docs/migration.md). With cross-organization passwords the email has one
//! password everywhere, so the hash must agree with any the email already has.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{MemberObject, OrganizationObject};
use crate::api::openapi::{errors, Api};
use crate::api::{JsonBody, Reply};
use crate::domain::organization::{parse_member_name, parse_phone_and_external_id};
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::flows::members::{insert_member, load_org, member_by_email, new_member, propagate_password};
use crate::flows::password_records::{self, add_imported_hash, password_already_exists};
use crate::hashing::imported::HashFields;
use crate::state::AppState;
use crate::store::{MemberStatus, OrganizationRecord, UserRecord};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MigrateRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    pub organization_id: String,
    #[serde(flatten)]
    pub hash: HashFields,
    pub name: Option<String>,
    pub trusted_metadata: Option<Map<String, Value>>,
    pub untrusted_metadata: Option<Map<String, Value>>,
    pub roles: Option<Vec<String>>,
    /// Accepted; it concerns sessions with SSO factors, which Latch does not have.
    pub preserve_existing_sessions: Option<bool>,
    pub mfa_phone_number: Option<String>,
    /// Accepted; Latch sends no SMS, so a phone number's verification changes nothing.
    pub set_phone_number_verified: Option<bool>,
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MigrateResponse {
    pub member_id: String,
    pub member_created: bool,
    pub member: MemberObject,
    pub organization: OrganizationObject,
}

/// With cross-organization passwords: the email's password in any other organization must be
/// this very hash (or absent), since the email has one password everywhere.
async fn agrees_across_organizations(st: &AppState, email: &EmailAddress, encoded: &str) -> Result<(), Error> {
    if !st.settings.cross_org_passwords {
        return Ok(());
    }
    let members = st.store.members_with_email(email.as_str()).await?;
    if members
        .iter()
        .any(|m| m.password.as_ref().is_some_and(|p| p.hash != encoded))
    {
        return Err(password_already_exists());
    }
    Ok(())
}

/// A new active member with the imported hash and a verified email, from the request's fields.
fn member_from(
    st: &AppState,
    org: &OrganizationRecord,
    email: &EmailAddress,
    req: &MigrateRequest,
    encoded: &str,
) -> Result<UserRecord, Error> {
    let (phone, external_id) =
        parse_phone_and_external_id(req.mfa_phone_number.as_deref(), req.external_id.as_deref())?;
    let mut member = new_member(st, org, email, MemberStatus::Active);
    member.email_verified = true;
    member.password = Some(password_records::fresh(st, encoded.to_string()));
    member.trusted_metadata = req.trusted_metadata.clone().unwrap_or_default();
    member.untrusted_metadata = req.untrusted_metadata.clone().unwrap_or_default();
    if let Some(m) = member.member.as_mut() {
        m.name = parse_member_name(req.name.as_deref())?;
        m.mfa_phone_number = phone;
        m.external_id = external_id;
        m.roles = req.roles.clone().unwrap_or_default();
    }
    Ok(member)
}

/// `POST /v1/b2b/passwords/migrate`. The member's email is marked verified, as Stytch documents.
pub async fn migrate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<MigrateRequest>,
) -> Result<Reply<MigrateResponse>, Error> {
    let email = EmailAddress::parse(&req.email_address)?;
    let encoded = req.hash.parse()?.encode();
    let org = load_org(&st, &req.organization_id).await?;
    let new = member_from(&st, &org, &email, &req, &encoded)?;
    agrees_across_organizations(&st, &email, &encoded).await?;
    // A member created (or deleted) by a racing request between the lookup and the write is
    // found on the second pass.
    for _ in 0..2 {
        let (written, created) = match member_by_email(&st, &org, &email).await? {
            Some(member) => match add_imported_hash(&st, &member.user_id, &encoded, true).await? {
                Some(written) => (written, false),
                None => continue,
            },
            None => match insert_member(&st, &new).await {
                Ok(()) => (new.clone(), true),
                Err(e) if e.error_type == ErrorType::DuplicateMemberEmail => continue,
                Err(e) => return Err(e),
            },
        };
        propagate_password(&st, &written).await?;
        return Ok(Reply(MigrateResponse {
            member_id: written.user_id.clone(),
            member_created: created,
            member: MemberObject::new(&written, st.clock.now()),
            organization: OrganizationObject::from(&org),
        }));
    }
    Err(Error::unavailable(
        "the member was created or deleted concurrently twice while migrating",
    ))
}

pub const MIGRATE_API: Api = Api::body::<MigrateRequest, MigrateResponse>(&[
    &[
        ErrorType::InvalidEmail,
        ErrorType::OrganizationNotFound,
        ErrorType::InvalidPhoneNumber,
    ],
    errors::IMPORTED_HASH,
]);
