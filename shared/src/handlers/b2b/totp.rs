//! `/v1/b2b/totp`: register an authenticator app, and authenticate with its codes (the second
//! factor of the MFA rule, or an added factor of a session).

use crate::api::openapi::{errors, Api};
use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{MemberObject, MemberSessionObject, OrganizationObject};
use crate::api::sdk::{SdkCaller, SdkReply};
use crate::api::{JsonBody, Reply};
use crate::domain::ids::{new_id, IdKind};
use crate::error::{Error, ErrorType};
use crate::flows::login::{attempt_succeeded, claim_attempt};
use crate::flows::members::{load_member, load_org, member_not_found, require_mfa_method};
use crate::flows::mfa;
use crate::state::AppState;
use crate::store::{FactorKind, FactorRecord, MfaMethod, TotpRecord, UserRecord};
use crate::totp;

/// `expiration_minutes` of a registration: 5 to 1440, default 60.
fn registration_lifetime(minutes: Option<i64>) -> Result<chrono::Duration, Error> {
    let m = minutes.unwrap_or(60);
    if !(5..=1440).contains(&m) {
        return Err(Error::new(
            ErrorType::InvalidExpiration,
            "expiration_minutes must be between 5 and 1440.",
        ));
    }
    Ok(chrono::Duration::minutes(m))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateRequest {
    pub organization_id: String,
    pub member_id: String,
    pub expiration_minutes: Option<i64>,
    pub intermediate_session_token: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreateResponse {
    pub member_id: String,
    pub totp_registration_id: String,
    pub secret: String,
    pub qr_code: String,
    pub recovery_codes: Vec<String>,
    pub member: MemberObject,
    pub organization: OrganizationObject,
}

fn active_totp_exists() -> Error {
    Error::new(
        ErrorType::ActiveTotpExists,
        "The member already has a verified TOTP registration.",
    )
}

/// `POST /v1/b2b/totp`: a pending registration, replacing any earlier pending one. An IST or
/// session sent must be the member's.
pub async fn create(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<Reply<CreateResponse>, Error> {
    let lifetime = registration_lifetime(req.expiration_minutes)?;
    let org = load_org(&st, &req.organization_id).await?;
    require_mfa_method(&org, MfaMethod::Totp)?;
    let member = load_member(&st, &org, &req.member_id).await?;
    mfa::second_factor_proof(
        &st,
        &org,
        &member.user_id,
        req.intermediate_session_token.as_deref(),
        req.session_token.as_deref(),
        req.session_jwt.as_deref(),
    )
    .await?;
    let has_verified = |u: &UserRecord| {
        u.member
            .as_ref()
            .and_then(|m| m.totp.as_ref())
            .is_some_and(|t| t.verified)
    };
    if has_verified(&member) {
        return Err(active_totp_exists());
    }
    let now = st.clock.now();
    let secret = totp::generate_secret();
    let codes = mfa::RecoveryCodes::generate(&st);
    let registration = TotpRecord {
        totp_registration_id: new_id(IdKind::TotpRegistration, st.env),
        sealed_secret: st.totp_sealer.seal(&secret),
        recovery_code_digests: codes.digests,
        sealed_recovery_codes: codes.sealed,
        verified: false,
        created_at: now,
        expires_at: now + lifetime,
        last_used_step: None,
    };
    let id = registration.totp_registration_id.clone();
    let written = st
        .store
        .update_user(
            &member.user_id,
            Arc::new(move |u: &mut UserRecord| {
                if let Some(m) = u.member.as_mut() {
                    // A registration verified meanwhile is never replaced.
                    if !m.totp.as_ref().is_some_and(|t| t.verified) {
                        m.totp = Some(registration.clone());
                    }
                }
            }),
        )
        .await?
        .ok_or_else(member_not_found)?;
    let ours = written
        .member
        .as_ref()
        .and_then(|m| m.totp.as_ref())
        .is_some_and(|t| t.totp_registration_id == id);
    if !ours {
        return Err(active_totp_exists());
    }
    let qr_code = totp::qr_data_url(&totp::otpauth_uri(&org.organization_name, &member.email, &secret))
        .map_err(Error::internal)?;
    Ok(Reply(CreateResponse {
        member_id: member.user_id.clone(),
        totp_registration_id: id,
        secret: totp::encode_secret(&secret),
        qr_code,
        recovery_codes: codes.codes,
        member: MemberObject::new(&written, now),
        organization: OrganizationObject::from(&org),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaEnrollment {
    Enroll,
    Unenroll,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuthenticateRequest {
    pub organization_id: String,
    pub member_id: String,
    pub code: String,
    pub intermediate_session_token: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub set_mfa_enrollment: Option<MfaEnrollment>,
    pub set_default_mfa: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthenticateResponse {
    pub member_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    pub session_token: String,
    pub session_jwt: String,
    pub member_session: MemberSessionObject,
}

fn wrong_code() -> Error {
    Error::new(ErrorType::UnableToAuthenticateTotp, "The TOTP code is not valid.")
}

/// `POST /v1/b2b/totp/authenticate`: check the code (wrong codes count toward the member's
/// lock; each time step's code works once), then complete the login the IST began, or add the
/// factor to the session sent.
pub async fn authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AuthenticateRequest>,
) -> Result<Reply<AuthenticateResponse>, Error> {
    let call = mfa::TotpFactorCall {
        organization_id: &req.organization_id,
        member_id: &req.member_id,
        intermediate_session_token: req.intermediate_session_token.as_deref(),
        session_token: req.session_token.as_deref(),
        session_jwt: req.session_jwt.as_deref(),
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: req.session_custom_claims.as_ref(),
    };
    let (org, member, proof, duration) = mfa::begin_totp_factor(&st, call).await?;
    let now = st.clock.now();
    let registration = member
        .member
        .as_ref()
        .and_then(|m| m.totp.clone())
        .filter(|t| t.is_usable(now))
        .ok_or_else(|| Error::new(ErrorType::TotpNotFound, "The member has no TOTP registration."))?;

    let ticket = claim_attempt(&st, &member.user_id, member_not_found, now).await?;
    let secret = st
        .totp_sealer
        .open(&registration.sealed_secret)
        .map_err(Error::internal)?;
    // A wrong code needs no further write: the claim counted it.
    let Some(step) = totp::matching_step(&secret, &req.code, now.timestamp()) else {
        return Err(wrong_code());
    };
    if registration.last_used_step.is_some_and(|last| step <= last) {
        return Err(Error::new(
            ErrorType::TotpCodeAlreadyAuthenticated,
            "This code was already used; wait for the next one.",
        ));
    }
    attempt_succeeded(&st, &member.user_id, ticket, now).await?;

    let enrollment = req.set_mfa_enrollment;
    let make_default = req.set_default_mfa.unwrap_or(false);
    let registration_id = registration.totp_registration_id.clone();
    let change = Arc::new(move |u: &mut UserRecord| {
        let Some(m) = u.member.as_mut() else { return };
        if let Some(t) = m.totp.as_mut().filter(|t| t.totp_registration_id == registration_id) {
            t.verified = true;
            t.last_used_step = Some(t.last_used_step.map_or(step, |last| last.max(step)));
        }
        match enrollment {
            Some(MfaEnrollment::Enroll) => m.mfa_enrolled = true,
            Some(MfaEnrollment::Unenroll) => m.mfa_enrolled = false,
            None => {}
        }
        if make_default {
            m.default_mfa_method = "totp".into();
        }
        m.updated_at = now;
    });
    let member = st
        .store
        .update_user(&member.user_id, change)
        .await?
        .ok_or_else(member_not_found)?;
    let factor = FactorRecord {
        totp_id: Some(registration.totp_registration_id.clone()),
        ..FactorRecord::proved(FactorKind::Totp, now)
    };
    let second = mfa::SecondFactor {
        org: &org,
        member_id: &member.user_id,
        proof,
        factor,
        duration,
        custom_claims: req.session_custom_claims.as_ref(),
    };
    let issued = mfa::complete_second_factor(&st, second, now).await?;
    Ok(Reply(AuthenticateResponse {
        member_id: member.user_id.clone(),
        member: MemberObject::new(&member, now),
        organization: OrganizationObject::from(&org),
        member_session: MemberSessionObject::from(&issued.record),
        session_token: issued.token,
        session_jwt: issued.jwt,
    }))
}

// The frontend SDK's doors (`/sdk/v1/b2b/totp…`, crate::api::sdk): the session from
// Authorization, the intermediate session token from the body, as the SDK sends them.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkCreateRequest {
    pub organization_id: String,
    pub member_id: String,
    pub expiration_minutes: Option<i64>,
    pub intermediate_session_token: Option<String>,
}

/// `POST /sdk/v1/b2b/totp`.
pub async fn sdk_create(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkCreateRequest>,
) -> Result<SdkReply<CreateResponse>, Error> {
    let req = CreateRequest {
        organization_id: req.organization_id,
        member_id: req.member_id,
        expiration_minutes: req.expiration_minutes,
        intermediate_session_token: req.intermediate_session_token,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
    };
    create(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkAuthenticateRequest {
    pub organization_id: String,
    pub member_id: String,
    pub code: String,
    pub intermediate_session_token: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub set_mfa_enrollment: Option<MfaEnrollment>,
    pub set_default_mfa: Option<bool>,
}

/// `POST /sdk/v1/b2b/totp/authenticate`.
pub async fn sdk_authenticate(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkAuthenticateRequest>,
) -> Result<SdkReply<AuthenticateResponse>, Error> {
    let req = AuthenticateRequest {
        organization_id: req.organization_id,
        member_id: req.member_id,
        code: req.code,
        intermediate_session_token: req.intermediate_session_token,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        set_mfa_enrollment: req.set_mfa_enrollment,
        set_default_mfa: req.set_default_mfa,
    };
    authenticate(st, JsonBody(req)).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const CREATE_API: Api = Api::body::<CreateRequest, CreateResponse>(&[
    &[
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationMfaMethods,
        ErrorType::MemberNotFound,
        ErrorType::ActiveTotpExists,
        ErrorType::InvalidExpiration,
        ErrorType::NoSessionArguments,
        ErrorType::IntermediateSessionNotFound,
    ],
    errors::ATTACHED_SESSION,
]);

pub const AUTHENTICATE_API: Api = Api::body::<AuthenticateRequest, AuthenticateResponse>(&[
    &[
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationMfaMethods,
        ErrorType::MemberNotFound,
        ErrorType::TotpNotFound,
        ErrorType::UnableToAuthenticateTotp,
        ErrorType::TotpCodeAlreadyAuthenticated,
        ErrorType::UserLocked,
        ErrorType::NoSessionArguments,
        ErrorType::IntermediateSessionNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const SDK_CREATE_API: Api = CREATE_API.taking::<SdkCreateRequest>();

pub const SDK_AUTHENTICATE_API: Api = AUTHENTICATE_API.taking::<SdkAuthenticateRequest>();
