//! `/v1/b2b/organizations`: create, get, update, delete; and members create and get.

use crate::api::json::PathParam;
use crate::api::openapi::Api;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{MemberResponse, OrganizationObject};
use crate::api::{JsonBody, QueryParams, Reply};
use crate::domain::ids::{looks_like, new_id, IdKind};
use crate::domain::organization::{
    parse_member_name, parse_name, parse_phone_and_external_id, parse_slug, slug_from_name,
};
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::flows::members::{
    find_org, inherit_password, insert_member, load_member, load_org, member_by_email, member_not_found, new_member,
    organization_not_found,
};
use crate::state::AppState;
use crate::store::{
    Allowance, AuthMethod, JitProvisioning, MemberStatus, MethodRestriction, MfaMethod, MfaPolicy, OrganizationRecord,
    StoreError,
};

/// Public mail providers: anyone can get an address there, so such a domain in
/// `email_allowed_domains` would let the world join the organization. Stytch refuses common
/// domains the same way; this is the well-known core of such lists (the major providers and
/// their regional and legacy names).
pub const COMMON_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "live.com",
    "live.co.uk",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.co.jp",
    "yahoo.fr",
    "yahoo.de",
    "ymail.com",
    "rocketmail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "mail.com",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "web.de",
    "t-online.de",
    "zoho.com",
    "tutanota.com",
    "hey.com",
    "fastmail.com",
    "comcast.net",
    "att.net",
    "verizon.net",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "naver.com",
];

/// Lower-cased domains of dot-separated labels, like `example.com`; a public mail provider's
/// domain (`COMMON_EMAIL_DOMAINS`) is refused.
fn parse_domains(domains: Vec<String>) -> Result<Vec<String>, Error> {
    domains
        .into_iter()
        .map(|d| {
            let d = d.trim().to_ascii_lowercase();
            let ok = d.split('.').count() >= 2
                && d.split('.').all(|l| {
                    !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !ok {
                Err(Error::new(
                    ErrorType::BadRequest,
                    format!("email_allowed_domains: {d:?} is not a domain like example.com."),
                ))
            } else if COMMON_EMAIL_DOMAINS.contains(&d.as_str()) {
                Err(Error::new(
                    ErrorType::OrganizationSettingsDomainTooCommon,
                    format!(
                        "email_allowed_domains: {d} is a public mail provider's domain; anyone could join \
                         the organization with it."
                    ),
                ))
            } else {
                Ok(d)
            }
        })
        .collect()
}

/// The wire names of the methods sent, once each, in the order sent.
fn method_names<M: Copy>(methods: Vec<M>, name: fn(M) -> &'static str) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(methods.len());
    for m in methods {
        if !names.iter().any(|n| n == name(m)) {
            names.push(name(m).to_string());
        }
    }
    names
}

/// `RESTRICTED` with nothing allowed is refused, as Stytch does, rather than stored as a
/// setting that locks every member out.
fn check_method_settings(org: &OrganizationRecord) -> Result<(), Error> {
    if org.auth_methods == MethodRestriction::Restricted && org.allowed_auth_methods.is_empty() {
        return Err(Error::new(
            ErrorType::AllowedAuthMethodsRequiredForRestricted,
            "auth_methods RESTRICTED needs a non-empty allowed_auth_methods.",
        ));
    }
    if org.mfa_methods == MethodRestriction::Restricted && org.allowed_mfa_methods.is_empty() {
        return Err(Error::new(
            ErrorType::AllowedMfaMethodsRequiredForRestricted,
            "mfa_methods RESTRICTED needs a non-empty allowed_mfa_methods.",
        ));
    }
    Ok(())
}

/// The settings a create or update may send; absent fields keep their value (update) or take
/// Stytch's default (create). Unknown enum values are refused by the JSON extractor.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct OrganizationFields {
    pub organization_name: Option<String>,
    pub organization_slug: Option<String>,
    pub organization_logo_url: Option<String>,
    pub organization_external_id: Option<String>,
    pub trusted_metadata: Option<Map<String, Value>>,
    pub sso_jit_provisioning: Option<Allowance>,
    pub email_allowed_domains: Option<Vec<String>>,
    pub email_jit_provisioning: Option<JitProvisioning>,
    pub email_invites: Option<Allowance>,
    pub auth_methods: Option<MethodRestriction>,
    pub allowed_auth_methods: Option<Vec<AuthMethod>>,
    pub mfa_policy: Option<MfaPolicy>,
    pub mfa_methods: Option<MethodRestriction>,
    pub allowed_mfa_methods: Option<Vec<MfaMethod>>,
}

impl OrganizationFields {
    /// Did the call set any auth setting? Decides the `email_invites` default (docs/reference/stytch-api.md §4).
    fn sets_auth_settings(&self) -> bool {
        self.sso_jit_provisioning.is_some()
            || self.email_allowed_domains.is_some()
            || self.email_jit_provisioning.is_some()
            || self.email_invites.is_some()
            || self.auth_methods.is_some()
            || self.allowed_auth_methods.is_some()
            || self.mfa_policy.is_some()
            || self.mfa_methods.is_some()
            || self.allowed_mfa_methods.is_some()
    }

    /// Apply the fields sent to `org`, checking each, then the settings they make together.
    fn apply(self, org: &mut OrganizationRecord) -> Result<(), Error> {
        if let Some(name) = self.organization_name {
            org.organization_name = parse_name(&name)?;
        }
        if let Some(slug) = self.organization_slug {
            org.organization_slug = parse_slug(&slug)?;
        }
        if let Some(v) = self.organization_logo_url {
            org.organization_logo_url = v;
        }
        if let Some(v) = self.organization_external_id {
            org.organization_external_id = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = self.trusted_metadata {
            org.trusted_metadata = v;
        }
        if let Some(v) = self.sso_jit_provisioning {
            org.sso_jit_provisioning = v;
        }
        if let Some(v) = self.email_allowed_domains {
            org.email_allowed_domains = parse_domains(v)?;
        }
        if let Some(v) = self.email_jit_provisioning {
            org.email_jit_provisioning = v;
        }
        if let Some(v) = self.email_invites {
            org.email_invites = v;
        }
        if let Some(v) = self.auth_methods {
            org.auth_methods = v;
        }
        if let Some(v) = self.allowed_auth_methods {
            org.allowed_auth_methods = method_names(v, AuthMethod::as_str);
        }
        if let Some(v) = self.mfa_policy {
            org.mfa_policy = v;
        }
        if let Some(v) = self.mfa_methods {
            org.mfa_methods = v;
        }
        if let Some(v) = self.allowed_mfa_methods {
            org.allowed_mfa_methods = method_names(v, MfaMethod::as_str);
        }
        check_method_settings(org)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationResponse {
    pub organization: OrganizationObject,
}

fn slug_taken() -> Error {
    Error::new(
        ErrorType::OrganizationSlugAlreadyUsed,
        "Another organization already uses this organization_slug.",
    )
}

/// `POST /v1/b2b/organizations`.
pub async fn create(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<OrganizationFields>,
) -> Result<Reply<OrganizationResponse>, Error> {
    let name = parse_name(req.organization_name.as_deref().unwrap_or_default())?;
    let slug = match req.organization_slug.as_deref() {
        Some(s) => parse_slug(s)?,
        None => parse_slug(&slug_from_name(&name))?,
    };
    let now = st.clock.now();
    let mut org = OrganizationRecord {
        organization_id: new_id(IdKind::Organization, st.env),
        organization_name: name,
        organization_slug: slug,
        organization_logo_url: String::new(),
        organization_external_id: None,
        trusted_metadata: Map::new(),
        sso_jit_provisioning: Allowance::AllAllowed,
        email_allowed_domains: vec![],
        email_jit_provisioning: JitProvisioning::NotAllowed,
        email_invites: if req.sets_auth_settings() {
            Allowance::NotAllowed
        } else {
            Allowance::AllAllowed
        },
        auth_methods: MethodRestriction::AllAllowed,
        allowed_auth_methods: vec![],
        mfa_policy: MfaPolicy::Optional,
        mfa_methods: MethodRestriction::AllAllowed,
        allowed_mfa_methods: vec![],
        created_at: now,
        updated_at: now,
    };
    req.apply(&mut org)?;
    match st.store.create_organization(&org).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(slug_taken()),
        Err(e) => return Err(e.into()),
    }
    Ok(Reply(OrganizationResponse {
        organization: OrganizationObject::from(&org),
    }))
}

/// `GET /v1/b2b/organizations/{organization_id}` (id or slug).
pub async fn get(
    State(st): State<AppState>,
    PathParam(organization_id): PathParam,
) -> Result<Reply<OrganizationResponse>, Error> {
    let org = load_org(&st, &organization_id).await?;
    Ok(Reply(OrganizationResponse {
        organization: OrganizationObject::from(&org),
    }))
}

/// `PUT /v1/b2b/organizations/{organization_id}`: the fields sent replace the stored ones.
pub async fn update(
    State(st): State<AppState>,
    PathParam(organization_id): PathParam,
    JsonBody(req): JsonBody<OrganizationFields>,
) -> Result<Reply<OrganizationResponse>, Error> {
    let mut org = load_org(&st, &organization_id).await?;
    let previous_slug = org.organization_slug.clone();
    req.apply(&mut org)?;
    org.updated_at = st.clock.now();
    match st.store.update_organization(&org, &previous_slug).await {
        Ok(true) => {}
        Ok(false) => return Err(organization_not_found()),
        Err(StoreError::Conflict) => return Err(slug_taken()),
        Err(e) => return Err(e.into()),
    }
    Ok(Reply(OrganizationResponse {
        organization: OrganizationObject::from(&org),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeleteResponse {
    pub organization_id: String,
}

/// `DELETE /v1/b2b/organizations/{organization_id}`: the organization and all its members.
pub async fn delete(
    State(st): State<AppState>,
    PathParam(organization_id): PathParam,
) -> Result<Reply<DeleteResponse>, Error> {
    let Some(org) = find_org(&st, &organization_id).await? else {
        if looks_like(IdKind::Organization, &organization_id) {
            // A delete cut short once the organization item was gone left members behind
            // (DynamoDB: docs/dynamodb.md, "What is not one transaction"); the client's retry
            // finishes that sweep, then is answered as for any deleted organization.
            st.store.delete_organization(&organization_id).await?;
        }
        return Err(organization_not_found());
    };
    if !st.store.delete_organization(&org.organization_id).await? {
        return Err(organization_not_found());
    }
    Ok(Reply(DeleteResponse {
        organization_id: org.organization_id,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateMemberRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    pub name: Option<String>,
    pub trusted_metadata: Option<Map<String, Value>>,
    pub untrusted_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub create_member_as_pending: bool,
    #[serde(default)]
    pub is_breakglass: bool,
    pub mfa_phone_number: Option<String>,
    #[serde(default)]
    pub mfa_enrolled: bool,
    pub roles: Option<Vec<String>>,
    pub external_id: Option<String>,
}

/// `POST /v1/b2b/organizations/{organization_id}/members`.
pub async fn create_member(
    State(st): State<AppState>,
    PathParam(organization_id): PathParam,
    JsonBody(req): JsonBody<CreateMemberRequest>,
) -> Result<Reply<MemberResponse>, Error> {
    let email = EmailAddress::parse(&req.email_address)?;
    let (phone, external_id) =
        parse_phone_and_external_id(req.mfa_phone_number.as_deref(), req.external_id.as_deref())?;
    let name = parse_member_name(req.name.as_deref())?;
    let org = load_org(&st, &organization_id).await?;
    let status = if req.create_member_as_pending {
        MemberStatus::Pending
    } else {
        MemberStatus::Active
    };
    let mut member = new_member(&st, &org, &email, status);
    member.trusted_metadata = req.trusted_metadata.unwrap_or_default();
    member.untrusted_metadata = req.untrusted_metadata.unwrap_or_default();
    if let Some(m) = member.member.as_mut() {
        m.name = name;
        m.is_breakglass = req.is_breakglass;
        m.mfa_enrolled = req.mfa_enrolled;
        m.mfa_phone_number = phone;
        m.external_id = external_id;
        m.roles = req.roles.unwrap_or_default();
    }
    inherit_password(&st, &mut member).await?;
    insert_member(&st, &member).await?;
    Ok(Reply(MemberResponse::new(&member, &org, st.clock.now())))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GetMemberQuery {
    pub member_id: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: Option<String>,
}

/// `GET /v1/b2b/organizations/{organization_id}/member?member_id=…|email_address=…`.
pub async fn get_member(
    State(st): State<AppState>,
    PathParam(organization_id): PathParam,
    QueryParams(q): QueryParams<GetMemberQuery>,
) -> Result<Reply<MemberResponse>, Error> {
    let member_id = q.member_id.filter(|m| !m.is_empty());
    let email = q.email_address.filter(|e| !e.is_empty());
    let org = load_org(&st, &organization_id).await?;
    let member = match (member_id, email) {
        (Some(id), None) => load_member(&st, &org, &id).await?,
        (None, Some(email)) => {
            let email = EmailAddress::parse(&email)?;
            member_by_email(&st, &org, &email).await?.ok_or_else(member_not_found)?
        }
        _ => {
            return Err(Error::new(
                ErrorType::InvalidMemberGetFields,
                "Send exactly one of member_id and email_address.",
            ))
        }
    };
    Ok(Reply(MemberResponse::new(&member, &org, st.clock.now())))
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

/// What the organization's fields are refused for, on create and update alike.
const FIELD_ERRORS: &[ErrorType] = &[
    ErrorType::InvalidOrganizationName,
    ErrorType::InvalidOrganizationSlug,
    ErrorType::OrganizationSlugAlreadyUsed,
    ErrorType::OrganizationSettingsDomainTooCommon,
    ErrorType::AllowedAuthMethodsRequiredForRestricted,
    ErrorType::AllowedMfaMethodsRequiredForRestricted,
];

pub const CREATE_API: Api = Api::body::<OrganizationFields, OrganizationResponse>(&[FIELD_ERRORS]);

pub const GET_API: Api = Api::bodiless::<OrganizationResponse>(&[&[ErrorType::OrganizationNotFound]]);

pub const UPDATE_API: Api =
    Api::body::<OrganizationFields, OrganizationResponse>(&[&[ErrorType::OrganizationNotFound], FIELD_ERRORS]);

pub const DELETE_API: Api = Api::bodiless::<DeleteResponse>(&[&[ErrorType::OrganizationNotFound]]);

pub const CREATE_MEMBER_API: Api = Api::body::<CreateMemberRequest, MemberResponse>(&[&[
    ErrorType::OrganizationNotFound,
    ErrorType::InvalidEmail,
    ErrorType::DuplicateMemberEmail,
    ErrorType::InvalidPhoneNumber,
]]);

pub const GET_MEMBER_API: Api = Api::query::<GetMemberQuery, MemberResponse>(&[&[
    ErrorType::OrganizationNotFound,
    ErrorType::MemberNotFound,
    ErrorType::InvalidMemberGetFields,
    ErrorType::InvalidEmail,
]]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_mail_domains_are_refused_case_blind() {
        for common in ["gmail.com", "GMail.COM", " outlook.com "] {
            let err = parse_domains(vec![common.into()]).unwrap_err();
            assert_eq!(
                err.error_type,
                ErrorType::OrganizationSettingsDomainTooCommon,
                "{common}"
            );
        }
        assert_eq!(
            parse_domains(vec!["Acme.Example".into(), "gmail.com.acme.example".into()]).unwrap(),
            ["acme.example", "gmail.com.acme.example"]
        );
        assert!(COMMON_EMAIL_DOMAINS
            .iter()
            .all(|d| parse_domains(vec![d.to_string()]).is_err()));
    }

    /// SECURITY X4: the policy rule fails closed on a stored name it does not know, and
    /// ALL_ALLOWED ignores the list.
    #[test]
    fn method_rules() {
        let now = chrono::Utc::now();
        let mut org = OrganizationRecord {
            organization_id: "organization-test-1".into(),
            organization_name: "Org".into(),
            organization_slug: "org".into(),
            organization_logo_url: String::new(),
            organization_external_id: None,
            trusted_metadata: Map::new(),
            sso_jit_provisioning: Allowance::AllAllowed,
            email_allowed_domains: vec![],
            email_jit_provisioning: JitProvisioning::NotAllowed,
            email_invites: Allowance::AllAllowed,
            auth_methods: MethodRestriction::Restricted,
            allowed_auth_methods: vec!["Password".into(), "magic_link".into()],
            mfa_policy: MfaPolicy::Optional,
            mfa_methods: MethodRestriction::Restricted,
            allowed_mfa_methods: vec!["sms_otp".into()],
            created_at: now,
            updated_at: now,
        };
        assert!(!org.allows_auth_method(AuthMethod::Password));
        assert!(org.allows_auth_method(AuthMethod::MagicLink));
        assert!(!org.allows_mfa_method(MfaMethod::Totp));
        assert!(org.allows_mfa_method(MfaMethod::SmsOtp));
        org.auth_methods = MethodRestriction::AllAllowed;
        org.mfa_methods = MethodRestriction::AllAllowed;
        assert!(org.allows_auth_method(AuthMethod::Password));
        assert!(org.allows_mfa_method(MfaMethod::Totp));
        assert_eq!(
            method_names(
                vec![AuthMethod::Password, AuthMethod::Sso, AuthMethod::Password],
                AuthMethod::as_str
            ),
            ["password", "sso"]
        );
    }
}
