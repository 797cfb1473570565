//! `/v1/b2b/recovery_codes`: the codes a member got with their TOTP registration — redeem one in
//! place of a TOTP code (`recover`), see the unused ones, or replace them all (`rotate`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{MemberObject, MemberSessionObject, OrganizationObject};
use crate::api::json::PathParams2;
use crate::api::openapi::{errors, Api};
use crate::api::sdk::{SdkCaller, SdkReply, SESSION_ERRORS};
use crate::api::{JsonBody, Reply};
use crate::error::{Error, ErrorType};
use crate::flows::login::{attempt_succeeded, claim_attempt};
use crate::flows::members::{load_member, load_org, member_not_found, session_member};
use crate::flows::mfa::{self, RecoveryCodes};
use crate::sessions::SessionRef;
use crate::state::AppState;
use crate::store::{FactorKind, FactorRecord, OrganizationRecord, TotpRecord, UserRecord};

/// The member's verified TOTP registration, which the recovery codes belong to.
fn verified_registration(member: &UserRecord) -> Result<TotpRecord, Error> {
    member
        .member
        .as_ref()
        .and_then(|m| m.totp.clone())
        .filter(|t| t.verified)
        .ok_or_else(|| {
            Error::new(
                ErrorType::TotpNotFound,
                "The member has no verified TOTP registration, so no recovery codes.",
            )
        })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RecoverRequest {
    pub organization_id: String,
    pub member_id: String,
    pub recovery_code: String,
    pub intermediate_session_token: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoverResponse {
    pub member_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    pub session_token: String,
    pub session_jwt: String,
    pub member_session: MemberSessionObject,
    pub recovery_codes_remaining: usize,
}

/// `POST /v1/b2b/recovery_codes/recover`: a recovery code in place of a TOTP code. A wrong code
/// counts toward the member's lock; each code works once, even to two requests at the same time
/// (the store removes it in the same atomic change that checks it is there).
pub async fn recover(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<RecoverRequest>,
) -> Result<Reply<RecoverResponse>, Error> {
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
    let registration = verified_registration(&member)?;
    let now = st.clock.now();
    let ticket = claim_attempt(&st, &member.user_id, member_not_found, now).await?;

    let digest = st
        .sessions
        .digester()
        .digest(&req.recovery_code.trim().to_ascii_lowercase());
    let wrong_code = || {
        Error::new(
            ErrorType::UnableToAuthenticateRecoveryCode,
            "The recovery code is not one of the member's unused codes.",
        )
    };
    // A code the member did not hold when loaded is refused without a write (the claim already
    // counted it): guessing is the common case under attack. A code held then is redeemed only
    // by the atomic change below, which checks again.
    if !registration.recovery_code_digests.contains(&digest) {
        return Err(wrong_code());
    }
    // The store may apply the change more than once (docs: store::UserChange); the flag holds
    // what the run that was written did.
    let redeemed = Arc::new(AtomicBool::new(false));
    let (flag, registration_id) = (redeemed.clone(), registration.totp_registration_id.clone());
    let change = Arc::new(move |u: &mut UserRecord| {
        flag.store(false, Ordering::SeqCst);
        let Some(t) = u
            .member
            .as_mut()
            .and_then(|m| m.totp.as_mut())
            .filter(|t| t.verified && t.totp_registration_id == registration_id)
        else {
            return;
        };
        if let Some(i) = t.recovery_code_digests.iter().position(|d| *d == digest) {
            t.recovery_code_digests.remove(i);
            if i < t.sealed_recovery_codes.len() {
                t.sealed_recovery_codes.remove(i);
            }
            flag.store(true, Ordering::SeqCst);
        }
    });
    let member = st
        .store
        .update_user(&member.user_id, change)
        .await?
        .ok_or_else(member_not_found)?;
    if !redeemed.load(Ordering::SeqCst) {
        return Err(wrong_code());
    }
    attempt_succeeded(&st, &member.user_id, ticket, now).await?;
    let remaining = member
        .member
        .as_ref()
        .and_then(|m| m.totp.as_ref())
        .map_or(0, |t| t.recovery_code_digests.len());
    let second = mfa::SecondFactor {
        org: &org,
        member_id: &member.user_id,
        proof,
        factor: FactorRecord::proved(FactorKind::RecoveryCode, now),
        duration,
        custom_claims: req.session_custom_claims.as_ref(),
    };
    let issued = mfa::complete_second_factor(&st, second, now).await?;
    Ok(Reply(RecoverResponse {
        member_id: member.user_id.clone(),
        member: MemberObject::new(&member, now),
        organization: OrganizationObject::from(&org),
        member_session: MemberSessionObject::from(&issued.record),
        session_token: issued.token,
        session_jwt: issued.jwt,
        recovery_codes_remaining: remaining,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CodesResponse {
    pub member_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    pub recovery_codes: Vec<String>,
}

fn codes_reply(
    st: &AppState,
    org: &OrganizationRecord,
    member: &UserRecord,
    recovery_codes: Vec<String>,
) -> CodesResponse {
    CodesResponse {
        member_id: member.user_id.clone(),
        member: MemberObject::new(member, st.clock.now()),
        organization: OrganizationObject::from(org),
        recovery_codes,
    }
}

async fn show(st: &AppState, org: &OrganizationRecord, member: &UserRecord) -> Result<CodesResponse, Error> {
    let codes = RecoveryCodes::shown(st, &verified_registration(member)?)?;
    Ok(codes_reply(st, org, member, codes))
}

/// `GET /v1/b2b/recovery_codes/{organization_id}/{member_id}`: the member's unused codes.
pub async fn get(
    State(st): State<AppState>,
    PathParams2(organization_id, member_id): PathParams2,
) -> Result<Reply<CodesResponse>, Error> {
    let org = load_org(&st, &organization_id).await?;
    let member = load_member(&st, &org, &member_id).await?;
    show(&st, &org, &member).await.map(Reply)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RotateRequest {
    pub organization_id: String,
    pub member_id: String,
}

async fn replace(st: &AppState, org: &OrganizationRecord, member: &UserRecord) -> Result<CodesResponse, Error> {
    let registration = verified_registration(member)?;
    let codes = RecoveryCodes::generate(st);
    let (digests, sealed) = (codes.digests.clone(), codes.sealed.clone());
    let now = st.clock.now();
    let change = Arc::new(move |u: &mut UserRecord| {
        let Some(m) = u.member.as_mut() else { return };
        if let Some(t) = m
            .totp
            .as_mut()
            .filter(|t| t.totp_registration_id == registration.totp_registration_id)
        {
            t.recovery_code_digests = digests.clone();
            t.sealed_recovery_codes = sealed.clone();
            m.updated_at = now;
        }
    });
    let written = st
        .store
        .update_user(&member.user_id, change)
        .await?
        .ok_or_else(member_not_found)?;
    // A registration replaced meanwhile keeps its own codes: these were never stored.
    let stored = verified_registration(&written)?.recovery_code_digests == codes.digests;
    if !stored {
        return Err(Error::new(
            ErrorType::TotpNotFound,
            "The member's TOTP registration changed meanwhile; rotate again.",
        ));
    }
    Ok(codes_reply(st, org, &written, codes.codes))
}

/// `POST /v1/b2b/recovery_codes/rotate`: every unused code is replaced by a new set.
pub async fn rotate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<RotateRequest>,
) -> Result<Reply<CodesResponse>, Error> {
    let org = load_org(&st, &req.organization_id).await?;
    let member = load_member(&st, &org, &req.member_id).await?;
    replace(&st, &org, &member).await.map(Reply)
}

// The frontend SDK's doors (`/sdk/v1/b2b/recovery_codes…`, crate::api::sdk): the IST from the
// body, the session from Authorization; `get` and `rotate` are the session's own member's.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkRecoverRequest {
    pub organization_id: String,
    pub member_id: String,
    pub recovery_code: String,
    pub intermediate_session_token: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
}

/// `POST /sdk/v1/b2b/recovery_codes/recover`.
pub async fn sdk_recover(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkRecoverRequest>,
) -> Result<SdkReply<RecoverResponse>, Error> {
    let req = RecoverRequest {
        organization_id: req.organization_id,
        member_id: req.member_id,
        recovery_code: req.recovery_code,
        intermediate_session_token: req.intermediate_session_token,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
    };
    recover(st, JsonBody(req)).await.map(SdkReply::from)
}

/// `GET /sdk/v1/b2b/recovery_codes`: the page's member's unused codes.
pub async fn sdk_get(State(st): State<AppState>, caller: SdkCaller) -> Result<SdkReply<CodesResponse>, Error> {
    let by = SessionRef::Token(caller.require_session()?);
    let (_, _, org, member) = session_member(&st, by, st.clock.now()).await?;
    show(&st, &org, &member).await.map(SdkReply)
}

/// `POST /sdk/v1/b2b/recovery_codes/rotate`: new codes for the page's member.
pub async fn sdk_rotate(State(st): State<AppState>, caller: SdkCaller) -> Result<SdkReply<CodesResponse>, Error> {
    let by = SessionRef::Token(caller.require_session()?);
    let (_, _, org, member) = session_member(&st, by, st.clock.now()).await?;
    replace(&st, &org, &member).await.map(SdkReply)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const RECOVER_API: Api = Api::body::<RecoverRequest, RecoverResponse>(&[
    &[
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationMfaMethods,
        ErrorType::MemberNotFound,
        ErrorType::TotpNotFound,
        ErrorType::UnableToAuthenticateRecoveryCode,
        ErrorType::UserLocked,
        ErrorType::NoSessionArguments,
        ErrorType::IntermediateSessionNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const GET_API: Api = Api::bodiless::<CodesResponse>(&[&[
    ErrorType::OrganizationNotFound,
    ErrorType::MemberNotFound,
    ErrorType::TotpNotFound,
]]);

pub const ROTATE_API: Api = Api::body::<RotateRequest, CodesResponse>(GET_API.errors);

pub const SDK_RECOVER_API: Api = RECOVER_API.taking::<SdkRecoverRequest>();

pub const SDK_GET_API: Api = Api::bodiless::<CodesResponse>(&[SESSION_ERRORS, &[ErrorType::TotpNotFound]]);

pub const SDK_ROTATE_API: Api = Api::bodiless::<CodesResponse>(SDK_GET_API.errors);
