//! B2B response objects (`Member`, `Organization`, `MemberSession`) in the shape the official
//! SDKs parse (docs/reference/stytch-api.md §6): required-but-irrelevant arrays empty, required strings with no
//! meaningful value `""`, absent timestamps null.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::wire::{timestamp, FactorObject, MEMBER_ROLE};
use crate::sessions::Outcome;
use crate::store::{
    Allowance, JitProvisioning, MethodRestriction, MfaPolicy, OrganizationRecord, SessionRecord, UserRecord,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleSource {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub details: Map<String, Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberRole {
    pub role_id: String,
    pub sources: Vec<RoleSource>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberObject {
    pub organization_id: String,
    pub member_id: String,
    pub email_address: String,
    pub status: &'static str,
    pub name: String,
    pub sso_registrations: Vec<Value>,
    pub is_breakglass: bool,
    pub member_password_id: String,
    pub oauth_registrations: Vec<Value>,
    pub email_address_verified: bool,
    pub mfa_phone_number_verified: bool,
    pub is_admin: bool,
    pub totp_registration_id: String,
    pub retired_email_addresses: Vec<Value>,
    pub is_locked: bool,
    pub mfa_enrolled: bool,
    pub mfa_phone_number: String,
    pub default_mfa_method: String,
    pub roles: Vec<MemberRole>,
    pub trusted_metadata: Map<String, Value>,
    pub untrusted_metadata: Map<String, Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub external_id: Option<String>,
    #[schema(format = DateTime)]
    pub lock_created_at: Option<String>,
    #[schema(format = DateTime)]
    pub lock_expires_at: Option<String>,
}

/// The id of a member's verified TOTP registration, or `""`.
pub fn verified_totp_id(member: &UserRecord) -> String {
    member
        .member
        .as_ref()
        .and_then(|m| m.totp.as_ref())
        .filter(|t| t.verified)
        .map(|t| t.totp_registration_id.clone())
        .unwrap_or_default()
}

impl MemberObject {
    /// `user` must be a member (its `member` fields present); a plain user is shown with
    /// empty member fields rather than panicking.
    pub fn new(user: &UserRecord, now: DateTime<Utc>) -> Self {
        let locked = user.lock.is_locked(now);
        let m = user.member.as_ref();
        let direct = |role: &str| MemberRole {
            role_id: role.to_string(),
            sources: vec![RoleSource {
                kind: "direct_assignment",
                details: Map::new(),
            }],
        };
        let mut roles = vec![direct(MEMBER_ROLE)];
        roles.extend(
            m.map(|m| m.roles.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|r| direct(r)),
        );
        Self {
            organization_id: m.map(|m| m.organization_id.clone()).unwrap_or_default(),
            member_id: user.user_id.clone(),
            email_address: user.email.clone(),
            status: m.map(|m| m.status.as_str()).unwrap_or("active"),
            name: m.map(|m| m.name.clone()).unwrap_or_default(),
            sso_registrations: vec![],
            is_breakglass: m.is_some_and(|m| m.is_breakglass),
            member_password_id: user
                .password
                .as_ref()
                .map(|p| p.password_id.clone())
                .unwrap_or_default(),
            oauth_registrations: vec![],
            email_address_verified: user.email_verified,
            mfa_phone_number_verified: false,
            is_admin: m.is_some_and(|m| m.roles.iter().any(|r| r == "stytch_admin")),
            totp_registration_id: verified_totp_id(user),
            retired_email_addresses: vec![],
            is_locked: locked,
            mfa_enrolled: m.is_some_and(|m| m.mfa_enrolled),
            mfa_phone_number: m.map(|m| m.mfa_phone_number.clone()).unwrap_or_default(),
            default_mfa_method: m.map(|m| m.default_mfa_method.clone()).unwrap_or_default(),
            roles,
            trusted_metadata: user.trusted_metadata.clone(),
            untrusted_metadata: user.untrusted_metadata.clone(),
            created_at: timestamp(user.created_at),
            updated_at: timestamp(m.map(|m| m.updated_at).unwrap_or(user.created_at)),
            external_id: m.and_then(|m| m.external_id.clone()),
            lock_created_at: user.lock.lock_created_at.filter(|_| locked).map(timestamp),
            lock_expires_at: user.lock.lock_expires_at.filter(|_| locked).map(timestamp),
        }
    }
}

fn allowance(a: Allowance) -> &'static str {
    match a {
        Allowance::AllAllowed => "ALL_ALLOWED",
        Allowance::Restricted => "RESTRICTED",
        Allowance::NotAllowed => "NOT_ALLOWED",
    }
}

fn restriction(r: MethodRestriction) -> &'static str {
    match r {
        MethodRestriction::AllAllowed => "ALL_ALLOWED",
        MethodRestriction::Restricted => "RESTRICTED",
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationObject {
    pub organization_id: String,
    pub organization_name: String,
    pub organization_logo_url: String,
    pub organization_slug: String,
    pub sso_jit_provisioning: &'static str,
    pub sso_jit_provisioning_allowed_connections: Vec<String>,
    pub sso_active_connections: Vec<Value>,
    pub email_allowed_domains: Vec<String>,
    pub email_jit_provisioning: &'static str,
    pub email_invites: &'static str,
    pub auth_methods: &'static str,
    pub allowed_auth_methods: Vec<String>,
    pub mfa_policy: &'static str,
    pub rbac_email_implicit_role_assignments: Vec<Value>,
    pub mfa_methods: &'static str,
    pub allowed_mfa_methods: Vec<String>,
    pub oauth_tenant_jit_provisioning: &'static str,
    pub claimed_email_domains: Vec<String>,
    pub first_party_connected_apps_allowed_type: &'static str,
    pub allowed_first_party_connected_apps: Vec<String>,
    pub third_party_connected_apps_allowed_type: &'static str,
    pub allowed_third_party_connected_apps: Vec<String>,
    pub custom_roles: Vec<Value>,
    pub trusted_metadata: Map<String, Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub organization_external_id: Option<String>,
}

impl From<&OrganizationRecord> for OrganizationObject {
    fn from(o: &OrganizationRecord) -> Self {
        Self {
            organization_id: o.organization_id.clone(),
            organization_name: o.organization_name.clone(),
            organization_logo_url: o.organization_logo_url.clone(),
            organization_slug: o.organization_slug.clone(),
            sso_jit_provisioning: allowance(o.sso_jit_provisioning),
            sso_jit_provisioning_allowed_connections: vec![],
            sso_active_connections: vec![],
            email_allowed_domains: o.email_allowed_domains.clone(),
            email_jit_provisioning: match o.email_jit_provisioning {
                JitProvisioning::Restricted => "RESTRICTED",
                JitProvisioning::NotAllowed => "NOT_ALLOWED",
            },
            email_invites: allowance(o.email_invites),
            auth_methods: restriction(o.auth_methods),
            allowed_auth_methods: o.allowed_auth_methods.clone(),
            mfa_policy: match o.mfa_policy {
                MfaPolicy::Optional => "OPTIONAL",
                MfaPolicy::RequiredForAll => "REQUIRED_FOR_ALL",
            },
            rbac_email_implicit_role_assignments: vec![],
            mfa_methods: restriction(o.mfa_methods),
            allowed_mfa_methods: o.allowed_mfa_methods.clone(),
            oauth_tenant_jit_provisioning: "NOT_ALLOWED",
            claimed_email_domains: vec![],
            first_party_connected_apps_allowed_type: "ALL_ALLOWED",
            allowed_first_party_connected_apps: vec![],
            third_party_connected_apps_allowed_type: "ALL_ALLOWED",
            allowed_third_party_connected_apps: vec![],
            custom_roles: vec![],
            trusted_metadata: o.trusted_metadata.clone(),
            created_at: timestamp(o.created_at),
            updated_at: timestamp(o.updated_at),
            organization_external_id: o.organization_external_id.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberSessionObject {
    pub member_session_id: String,
    pub member_id: String,
    pub organization_id: String,
    pub organization_slug: String,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub last_accessed_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub authentication_factors: Vec<FactorObject>,
    pub roles: Vec<&'static str>,
    pub custom_claims: Map<String, Value>,
}

impl From<&SessionRecord> for MemberSessionObject {
    fn from(s: &SessionRecord) -> Self {
        let (organization_id, organization_slug) = s
            .organization
            .as_ref()
            .map(|o| (o.organization_id.clone(), o.slug.clone()))
            .unwrap_or_default();
        Self {
            member_session_id: s.session_id.clone(),
            member_id: s.user_id.clone(),
            organization_id,
            organization_slug,
            started_at: timestamp(s.started_at),
            last_accessed_at: timestamp(s.last_accessed_at),
            expires_at: timestamp(s.expires_at),
            authentication_factors: s.factors.iter().map(FactorObject::from).collect(),
            roles: vec![MEMBER_ROLE],
            custom_claims: s.custom_claims.clone(),
        }
    }
}

/// The member and organization a member call answers with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberResponse {
    pub member_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
}

impl MemberResponse {
    pub fn new(member: &UserRecord, org: &OrganizationRecord, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            member_id: member.user_id.clone(),
            member: MemberObject::new(member, now),
            organization: OrganizationObject::from(org),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberOptions {
    pub mfa_phone_number: String,
    pub totp_registration_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaRequired {
    pub member_options: MemberOptions,
    pub secondary_auth_initiated: Option<String>,
}

/// The session-or-IST half of every B2B primary-auth response (docs/reference/stytch-api.md §7).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthFields {
    pub session_token: String,
    pub session_jwt: String,
    pub member_session: Option<MemberSessionObject>,
    pub intermediate_session_token: String,
    #[schema(format = DateTime)]
    pub intermediate_session_token_expires_at: Option<String>,
    pub member_authenticated: bool,
    pub mfa_required: Option<MfaRequired>,
    pub primary_required: Option<Value>,
}

impl AuthFields {
    /// Nothing issued: the member must first log in to `org` with one of the methods it allows.
    pub fn primary_required(org: &OrganizationRecord) -> Self {
        let methods: Vec<&str> = if org.auth_methods == crate::store::MethodRestriction::AllAllowed {
            vec![
                crate::store::AuthMethod::Password.as_str(),
                crate::store::AuthMethod::MagicLink.as_str(),
            ]
        } else {
            org.allowed_auth_methods.iter().map(String::as_str).collect()
        };
        Self {
            session_token: String::new(),
            session_jwt: String::new(),
            member_session: None,
            intermediate_session_token: String::new(),
            intermediate_session_token_expires_at: None,
            member_authenticated: false,
            mfa_required: None,
            primary_required: Some(serde_json::json!({ "allowed_auth_methods": methods })),
        }
    }

    pub fn new(outcome: Outcome, member: &UserRecord) -> Self {
        match outcome {
            Outcome::Authenticated(issued) => Self {
                member_session: Some(MemberSessionObject::from(&issued.record)),
                session_token: issued.token,
                session_jwt: issued.jwt,
                intermediate_session_token: String::new(),
                intermediate_session_token_expires_at: None,
                member_authenticated: true,
                mfa_required: None,
                primary_required: None,
            },
            Outcome::NeedsMfa(ist) => Self {
                session_token: String::new(),
                session_jwt: String::new(),
                member_session: None,
                intermediate_session_token_expires_at: Some(timestamp(ist.record.expires_at)),
                intermediate_session_token: ist.token,
                member_authenticated: false,
                mfa_required: Some(MfaRequired {
                    member_options: MemberOptions {
                        mfa_phone_number: member
                            .member
                            .as_ref()
                            .map(|m| m.mfa_phone_number.clone())
                            .unwrap_or_default(),
                        totp_registration_id: verified_totp_id(member),
                    },
                    secondary_auth_initiated: None,
                }),
                primary_required: None,
            },
        }
    }
}
