//! `/v1/b2b/sessions`: authenticate, revoke, list, exchange (into another organization of the
//! same email). (JWKS is the consumer handler: one key set.)

use crate::api::openapi::{errors, Api};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{AuthFields, MemberObject, MemberSessionObject, OrganizationObject};
use crate::api::sdk::{SdkCaller, SdkReply, SdkSessionRequest, SESSION_ERRORS};
use crate::api::wire::Empty;
use crate::api::{JsonBody, QueryParams, Reply};
use crate::domain::EmailAddress;
use crate::domain::SessionDuration;
use crate::error::{Error, ErrorType};
use crate::flows::members::{load_member, load_org, member_by_email, member_not_found, session_member};
use crate::flows::mfa::{self, Primary};
use crate::sessions::{one_revoke_argument, refuse_authorization_check, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{AuthMethod, FactorKind, FactorRecord};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuthenticateRequest {
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    /// Stytch's RBAC check. Latch does not enforce RBAC yet, so a request carrying one is
    /// refused (400 `bad_request`) rather than answered as if the check had passed.
    pub authorization_check: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthenticateResponse {
    pub member_session: MemberSessionObject,
    pub session_token: String,
    pub session_jwt: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
}

/// `POST /v1/b2b/sessions/authenticate`: exactly one of token or JWT; a JWT past its `exp` is
/// accepted while its session is active, and a fresh one returned.
pub async fn authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AuthenticateRequest>,
) -> Result<Reply<AuthenticateResponse>, Error> {
    refuse_authorization_check(req.authorization_check.as_ref())?;
    let by = SessionRef::required(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    let now = st.clock.now();
    let (record, token, org, member) = session_member(&st, by, now).await?;
    // The slug may have changed since the session began; the JWT names the current one.
    let issued = st
        .sessions
        .authenticated(
            record,
            token,
            Some(org.org_ref()),
            duration,
            req.session_custom_claims.as_ref(),
            now,
        )
        .await?;
    Ok(Reply(AuthenticateResponse {
        member_session: MemberSessionObject::from(&issued.record),
        session_token: issued.token,
        session_jwt: issued.jwt,
        member: MemberObject::new(&member, now),
        organization: OrganizationObject::from(&org),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    pub member_session_id: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub member_id: Option<String>,
}

/// `POST /v1/b2b/sessions/revoke`: exactly one of `member_session_id`, `session_token`,
/// `session_jwt`, or `member_id` (every session of that member).
pub async fn revoke(State(st): State<AppState>, JsonBody(req): JsonBody<RevokeRequest>) -> Result<Reply<Empty>, Error> {
    one_revoke_argument(
        &[
            &req.member_session_id,
            &req.session_token,
            &req.session_jwt,
            &req.member_id,
        ],
        "member_session_id, session_token, session_jwt or member_id",
    )?;
    let now = st.clock.now();
    if let Some(member_id) = req.member_id.filter(|m| !m.is_empty()) {
        let member = st
            .store
            .user_by_id(&member_id)
            .await?
            .filter(|u| u.member.is_some())
            .ok_or_else(member_not_found)?;
        for s in st.store.sessions_for_user(&member.user_id, now).await? {
            st.store.delete_session(&s.session_id).await?;
        }
        return Ok(Reply(Empty {}));
    }
    let session_id = match req.member_session_id.filter(|s| !s.is_empty()) {
        Some(id) => id,
        None => {
            let by = SessionRef::required(req.session_token.as_deref(), req.session_jwt.as_deref())?;
            st.sessions.find(by, Scope::AnyOrganization, now).await?.0.session_id
        }
    };
    st.sessions.revoke(&session_id, Scope::AnyOrganization).await?;
    Ok(Reply(Empty {}))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ListQuery {
    pub organization_id: String,
    pub member_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse {
    pub member_sessions: Vec<MemberSessionObject>,
}

/// `GET /v1/b2b/sessions?organization_id=…&member_id=…`: the member's active sessions.
pub async fn list(
    State(st): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Reply<ListResponse>, Error> {
    let org = load_org(&st, &q.organization_id).await?;
    let member = load_member(&st, &org, &q.member_id).await?;
    let sessions = st.store.sessions_for_user(&member.user_id, st.clock.now()).await?;
    Ok(Reply(ListResponse {
        member_sessions: sessions
            .iter()
            .filter(|s| Scope::Organization(&org.organization_id).admits(s))
            .map(MemberSessionObject::from)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExchangeRequest {
    pub organization_id: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExchangeResponse {
    pub member_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    #[serde(flatten)]
    pub auth: AuthFields,
}

/// The factors of a session that hold in another organization: a proven email (the address is
/// the same member's there). A password is the organization's own, and so are TOTP and recovery
/// codes: none of them carries over (docs/b2b.md).
fn carried_factor(session_factors: &[FactorRecord], target: &crate::store::UserRecord) -> Option<FactorRecord> {
    session_factors
        .iter()
        .filter(|f| f.kind == FactorKind::MagicLink && f.email.as_deref() == Some(target.email.as_str()))
        .max_by_key(|f| f.last_authenticated_at)
        .map(|f| FactorRecord {
            email_id: Some(target.email_id.clone()),
            email: Some(target.email.clone()),
            ..f.clone()
        })
}

/// `POST /v1/b2b/sessions/exchange`: a member session for a session in another organization
/// where the same email is a member, under that organization's rules: a carried email factor
/// it allows starts a session there, or an IST when it requires MFA; without one, nothing is
/// issued and `primary_required` names the methods to log in there with. The session sent stays.
pub async fn exchange(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<ExchangeRequest>,
) -> Result<Reply<ExchangeResponse>, Error> {
    let by = SessionRef::required(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    crate::flows::emailed_links::check_locale(req.locale.as_deref())?;
    let now = st.clock.now();
    let (record, _, _, member) = session_member(&st, by, now).await?;
    let target_org = load_org(&st, &req.organization_id).await?;
    let email = EmailAddress::parse(&member.email)?;
    let target = member_by_email(&st, &target_org, &email).await?.ok_or_else(|| {
        Error::new(
            ErrorType::MemberNotFound,
            "The session's email is no member of that organization.",
        )
    })?;
    let carried =
        carried_factor(&record.factors, &target).filter(|_| target_org.allows_auth_method(AuthMethod::MagicLink));
    let Some(factor) = carried else {
        return Ok(Reply(ExchangeResponse {
            member_id: target.user_id.clone(),
            member: MemberObject::new(&target, now),
            organization: OrganizationObject::from(&target_org),
            auth: AuthFields::primary_required(&target_org),
        }));
    };
    let decision = mfa::decide(
        &st,
        Primary {
            org: &target_org,
            member: &target,
            factor,
            attach: None,
            ist: None,
            duration,
            custom_claims: req.session_custom_claims.as_ref(),
        },
        now,
    )?;
    let outcome = mfa::carry_out(&st, &target_org, &target, decision).await?;
    Ok(Reply(ExchangeResponse {
        member_id: target.user_id.clone(),
        member: MemberObject::new(&target, now),
        organization: OrganizationObject::from(&target_org),
        auth: AuthFields::new(outcome, &target),
    }))
}

// The frontend SDK's doors (crate::api::sdk): the session from Authorization.

/// `POST /sdk/v1/b2b/sessions/authenticate`: the SDK calls it on every page load and every
/// 3 minutes. Without a session it is `user_unauthenticated`, which the SDK takes as logged out
/// (any other answer it retries for ever).
pub async fn sdk_authenticate(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkSessionRequest>,
) -> Result<SdkReply<AuthenticateResponse>, Error> {
    let req = AuthenticateRequest {
        session_token: Some(caller.require_session()?.to_string()),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        authorization_check: None,
    };
    authenticate(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkExchangeRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub locale: Option<String>,
}

/// `POST /sdk/v1/b2b/sessions/exchange`: the page's session into another organization.
pub async fn sdk_exchange(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkExchangeRequest>,
) -> Result<SdkReply<ExchangeResponse>, Error> {
    let req = ExchangeRequest {
        organization_id: req.organization_id,
        session_token: Some(caller.require_session()?.to_string()),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        locale: req.locale,
    };
    exchange(st, JsonBody(req)).await.map(SdkReply::from)
}

/// `POST /sdk/v1/b2b/sessions/revoke`: the page's own session; the SDK sends no body.
pub async fn sdk_revoke(st: State<AppState>, caller: SdkCaller) -> Result<SdkReply<Empty>, Error> {
    let req = RevokeRequest {
        member_session_id: None,
        session_token: Some(caller.require_session()?.to_string()),
        session_jwt: None,
        member_id: None,
    };
    revoke(st, JsonBody(req)).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const AUTHENTICATE_API: Api = Api::body::<AuthenticateRequest, AuthenticateResponse>(&[
    &[
        ErrorType::NoSessionArguments,
        ErrorType::OrganizationNotFound,
        ErrorType::MemberNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const REVOKE_API: Api = Api::body::<RevokeRequest, Empty>(&[errors::SESSION_REVOKE, &[ErrorType::MemberNotFound]]);

pub const LIST_API: Api =
    Api::query::<ListQuery, ListResponse>(&[&[ErrorType::OrganizationNotFound, ErrorType::MemberNotFound]]);

pub const EXCHANGE_API: Api = Api::body::<ExchangeRequest, ExchangeResponse>(&[
    &[
        ErrorType::NoSessionArguments,
        ErrorType::InvalidLocale,
        ErrorType::OrganizationNotFound,
        ErrorType::MemberNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const SDK_EXCHANGE_API: Api = Api::body::<SdkExchangeRequest, ExchangeResponse>(&[
    SESSION_ERRORS,
    &[
        ErrorType::InvalidLocale,
        ErrorType::OrganizationNotFound,
        ErrorType::MemberNotFound,
    ],
    errors::SESSION_OPTIONS,
]);

pub const SDK_AUTHENTICATE_API: Api = Api::body::<SdkSessionRequest, AuthenticateResponse>(&[
    SESSION_ERRORS,
    &[ErrorType::OrganizationNotFound, ErrorType::MemberNotFound],
    errors::SESSION_OPTIONS,
]);

pub const SDK_REVOKE_API: Api = Api::bodiless::<Empty>(&[SESSION_ERRORS]);
