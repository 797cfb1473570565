//! `/sdk/v1/b2b/organizations…`: what a page may look up through the frontend SDK — an
//! organization by its slug, whether an email is a member (the pre-built UI asks before it
//! shows a password field), and the page's own member and organization. The backend API has no
//! twin of the searches; they answer what Stytch's do, including the `null` for "none".
//!
//! The member search tells any page on an authorized origin whether an address is a member of an
//! organization, and whether it has a password: Stytch's does the same (docs/frontend-sdk.md).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{MemberObject, OrganizationObject};
use crate::api::openapi::Api;
use crate::api::sdk::{SdkCaller, SdkReply, SESSION_ERRORS};
use crate::api::JsonBody;
use crate::domain::organization::valid_slug;
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::flows::members::{load_org, member_by_email, session_member};
use crate::sessions::SessionRef;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OrganizationSearchRequest {
    pub organization_slug: String,
}

/// The part of an organization Stytch shows to anyone who knows its slug (its
/// `OrganizationBySlugMatch`): enough for a login page, no metadata.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationBySlug {
    pub organization_id: String,
    pub organization_name: String,
    pub organization_slug: String,
    pub organization_logo_url: String,
    pub sso_active_connections: Vec<Value>,
    pub sso_default_connection_id: Option<String>,
    pub email_jit_provisioning: &'static str,
    pub email_allowed_domains: Vec<String>,
    pub oauth_tenant_jit_provisioning: &'static str,
    pub allowed_oauth_tenants: Map<String, Value>,
    pub auth_methods: &'static str,
    pub allowed_auth_methods: Vec<String>,
    pub mfa_policy: &'static str,
}

impl From<OrganizationObject> for OrganizationBySlug {
    fn from(o: OrganizationObject) -> Self {
        Self {
            organization_id: o.organization_id,
            organization_name: o.organization_name,
            organization_slug: o.organization_slug,
            organization_logo_url: o.organization_logo_url,
            sso_active_connections: o.sso_active_connections,
            sso_default_connection_id: None,
            email_jit_provisioning: o.email_jit_provisioning,
            email_allowed_domains: o.email_allowed_domains,
            oauth_tenant_jit_provisioning: o.oauth_tenant_jit_provisioning,
            allowed_oauth_tenants: Map::new(),
            auth_methods: o.auth_methods,
            allowed_auth_methods: o.allowed_auth_methods,
            mfa_policy: o.mfa_policy,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationSearchResponse {
    /// Null when no organization has this slug (a 200, as Stytch answers).
    pub organization: Option<OrganizationBySlug>,
}

/// `POST /sdk/v1/b2b/organizations/search`.
pub async fn organization_search(
    State(st): State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<OrganizationSearchRequest>,
) -> Result<SdkReply<OrganizationSearchResponse>, Error> {
    let found = if valid_slug(&req.organization_slug) {
        st.store.organization_by_slug(&req.organization_slug).await?
    } else {
        None
    };
    Ok(SdkReply(OrganizationSearchResponse {
        organization: found.as_ref().map(|o| OrganizationObject::from(o).into()),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MemberSearchRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    pub organization_id: String,
}

/// What the pre-built UI needs to know of a member before it logs them in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberMatch {
    pub status: &'static str,
    pub name: String,
    pub member_password_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberSearchResponse {
    /// Null when the address is no member of the organization.
    pub member: Option<MemberMatch>,
}

/// `POST /sdk/v1/b2b/organizations/members/search`.
pub async fn member_search(
    State(st): State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<MemberSearchRequest>,
) -> Result<SdkReply<MemberSearchResponse>, Error> {
    let email = EmailAddress::parse(&req.email_address)?;
    let org = load_org(&st, &req.organization_id).await?;
    let member = member_by_email(&st, &org, &email).await?.map(|m| {
        let shown = MemberObject::new(&m, st.clock.now());
        MemberMatch {
            status: shown.status,
            name: shown.name,
            member_password_id: shown.member_password_id,
        }
    });
    Ok(SdkReply(MemberSearchResponse { member }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationMeResponse {
    pub organization: OrganizationObject,
}

/// `GET /sdk/v1/b2b/organizations/me`: the organization of the page's session.
pub async fn organization_me(
    State(st): State<AppState>,
    caller: SdkCaller,
) -> Result<SdkReply<OrganizationMeResponse>, Error> {
    let by = SessionRef::Token(caller.require_session()?);
    let (_, _, org, _) = session_member(&st, by, st.clock.now()).await?;
    Ok(SdkReply(OrganizationMeResponse {
        organization: OrganizationObject::from(&org),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberMeResponse {
    pub member: MemberObject,
}

/// `GET /sdk/v1/b2b/organizations/members/me`: the member of the page's session.
pub async fn member_me(State(st): State<AppState>, caller: SdkCaller) -> Result<SdkReply<MemberMeResponse>, Error> {
    let by = SessionRef::Token(caller.require_session()?);
    let now = st.clock.now();
    let (_, _, _, member) = session_member(&st, by, now).await?;
    Ok(SdkReply(MemberMeResponse {
        member: MemberObject::new(&member, now),
    }))
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const ORGANIZATION_SEARCH_API: Api = Api::body::<OrganizationSearchRequest, OrganizationSearchResponse>(&[]);

pub const MEMBER_SEARCH_API: Api = Api::body::<MemberSearchRequest, MemberSearchResponse>(&[&[
    ErrorType::InvalidEmail,
    ErrorType::OrganizationNotFound,
]]);

pub const ORGANIZATION_ME_API: Api = Api::bodiless::<OrganizationMeResponse>(&[SESSION_ERRORS]);

pub const MEMBER_ME_API: Api = Api::bodiless::<MemberMeResponse>(&[SESSION_ERRORS]);
