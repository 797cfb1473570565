//! `/v1/b2b/passwords`: org-scoped authenticate, strength check, and the three resets.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::api::b2b_wire::{AuthFields, MemberObject, OrganizationObject};
use crate::api::openapi::{errors, Api};
use crate::api::sdk::{SdkCaller, SdkReply, SESSION_ERRORS};
use crate::api::{JsonBody, Reply};
use crate::domain::pkce::CodeChallenge;
use crate::domain::{EmailAddress, Password, SessionDuration};
use crate::error::{Error, ErrorType};
use crate::flows::emailed_links::{
    check_locale, email_factor, redeemable_member_link, reset_lifetime, reset_urls, start_reset, ResetStart,
};
use crate::flows::login::{self, password_factor, prove_password, record_success};
use crate::flows::members::{
    load_member, load_org, member_not_found, require_auth_method, session_member, sharing_password,
};
use crate::flows::mfa::{self, Decision, Primary};
use crate::flows::password_records;
use crate::policy::LudsRequirements;
use crate::sessions::{recently_proven, Issued, Outcome, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{AuthMethod, OrganizationRecord, PasswordRecord, PasswordReset, TokenKind, UserRecord};

fn member_reset_password() -> Error {
    Error::new(
        ErrorType::MemberResetPassword,
        "The password is correct but must be reset before logging in (it appears in a data breach).",
    )
}

/// The full B2B primary-auth response (password authenticate, email and existing-password reset).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthResponse {
    pub member_id: String,
    pub organization_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    #[serde(flatten)]
    pub auth: AuthFields,
}

fn auth_response(st: &AppState, org: &OrganizationRecord, member: &UserRecord, outcome: Outcome) -> AuthResponse {
    AuthResponse {
        member_id: member.user_id.clone(),
        organization_id: org.organization_id.clone(),
        auth: AuthFields::new(outcome, member),
        member: MemberObject::new(member, st.clock.now()),
        organization: OrganizationObject::from(org),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuthenticateRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
}

/// `POST /v1/b2b/passwords/authenticate`.
pub async fn authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AuthenticateRequest>,
) -> Result<Reply<AuthResponse>, Error> {
    let email = EmailAddress::parse(&req.email_address)?;
    let password = Password::parse(req.password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    SessionRef::from_optional(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    check_locale(req.locale.as_deref())?;
    let org = load_org(&st, &req.organization_id).await?;
    require_auth_method(&org, AuthMethod::Password)?;
    let proven = prove_password(&st, Some(&org.organization_id), &email, &password, member_not_found).await?;
    let Some(proven) = login::unless_reset_required(&st, proven, &password, member_not_found).await? else {
        return Err(member_reset_password());
    };
    // The success is recorded (the count starts again) before the MFA rule decides what the
    // login gets, which writes its own session or intermediate session.
    let member = record_success(&st, proven, None, member_not_found).await?;
    let now = st.clock.now();
    let attach = mfa::attached_session(
        &st,
        req.session_token.as_deref(),
        req.session_jwt.as_deref(),
        &org,
        &member.user_id,
    )
    .await?;
    let ist = mfa::find_ist(&st, req.intermediate_session_token.as_deref(), &org, &member.user_id).await?;
    let decision = mfa::decide(
        &st,
        Primary {
            org: &org,
            member: &member,
            factor: password_factor(now),
            attach,
            ist,
            duration,
            custom_claims: req.session_custom_claims.as_ref(),
        },
        now,
    )?;
    let outcome = mfa::carry_out(&st, &org, &member, decision).await?;
    Ok(Reply(auth_response(&st, &org, &member, outcome)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StrengthCheckRequest {
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_email)]
    pub email_address: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ZxcvbnFeedback {
    pub warning: String,
    pub suggestions: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StrengthCheckResponse {
    #[serde(flatten)]
    pub verdict: crate::policy::StrengthVerdict,
    pub zxcvbn_feedback: ZxcvbnFeedback,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub luds_feedback: Option<LudsRequirements>,
}

/// `POST /v1/b2b/passwords/strength_check`: the consumer check in the B2B shape.
pub async fn strength_check(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<StrengthCheckRequest>,
) -> Result<Reply<StrengthCheckResponse>, Error> {
    let email = req.email_address.as_deref().map(EmailAddress::parse).transpose()?;
    let password = Password::parse(req.password)?;
    let (verdict, strength) = st.policy.judge(&password, email.as_ref()).await?;
    Ok(Reply(StrengthCheckResponse {
        verdict,
        zxcvbn_feedback: ZxcvbnFeedback {
            warning: strength.warning,
            suggestions: strength.suggestions,
        },
        luds_feedback: strength.luds,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetStartRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    pub reset_password_redirect_url: Option<String>,
    pub reset_password_expiration_minutes: Option<i64>,
    pub code_challenge: Option<String>,
    pub login_redirect_url: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResetStartResponse {
    pub member_id: String,
    pub member_email_id: String,
    pub member: MemberObject,
}

/// `POST /v1/b2b/passwords/email/reset/start`: email a reset link and a "log in without a
/// password" link. Rate-limited per organization and address; an unknown member is answered
/// no faster than a known one; a failed send leaves no usable token.
pub async fn reset_start(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<ResetStartRequest>,
) -> Result<Reply<ResetStartResponse>, Error> {
    let began = Instant::now();
    let email = EmailAddress::parse(&req.email_address)?;
    let (reset_url, login_url) = reset_urls(
        &st,
        req.reset_password_redirect_url.as_deref(),
        req.login_redirect_url.as_deref(),
    )?;
    let lifetime = reset_lifetime(req.reset_password_expiration_minutes)?;
    let code_challenge = CodeChallenge::parse_opt(req.code_challenge.as_deref())?;
    check_locale(req.locale.as_deref())?;
    let org = load_org(&st, &req.organization_id).await?;
    require_auth_method(&org, AuthMethod::Password)?;
    let start = ResetStart {
        organization: Some(&org),
        email: &email,
        reset_url,
        login_url,
        lifetime,
        code_challenge,
        attributes: Default::default(),
    };
    let Some(member) = start_reset(&st, began, start).await? else {
        return Err(member_not_found());
    };
    Ok(Reply(ResetStartResponse {
        member_id: member.user_id.clone(),
        member_email_id: member.email_id.clone(),
        member: MemberObject::new(&member, st.clock.now()),
    }))
}

/// Complete a reset that revokes every session of the member, under the MFA rule: the new
/// session (if MFA does not stand in the way) is written with the password; an IST after.
async fn reset_with_mfa(
    st: &AppState,
    org: &OrganizationRecord,
    member: &UserRecord,
    token: Option<crate::store::TokenRecord>,
    password: PasswordRecord,
    primary: Primary<'_>,
    already_used: impl FnOnce() -> Error,
) -> Result<(UserRecord, Outcome), Error> {
    let now = st.clock.now();
    let decision = mfa::decide(st, primary, now)?;
    let (new_session, ist_to_consume): (Option<Issued>, _) = match &decision {
        Decision::Start(issued, ist) => (Some((**issued).clone()), ist.clone()),
        _ => (None, None),
    };
    if let Some(ist) = &ist_to_consume {
        mfa::consume_ist(st, ist).await?;
    }
    let reset = PasswordReset {
        user_id: member.user_id.clone(),
        token,
        password,
        keep_session: None,
        new_session: new_session.as_ref().map(|i| i.record.clone()),
        same_password_for: sharing_password(st, member).await?,
    };
    let Some(written) = st.store.complete_reset(&reset).await? else {
        return Err(already_used());
    };
    let outcome = match (decision, new_session) {
        (_, Some(issued)) => Outcome::Authenticated(issued),
        (Decision::Mfa(ist, factors), None) => mfa::after_reset_mfa(st, org, &written, ist, factors).await?,
        _ => return Err(Error::internal("a reset decided to attach to a session")),
    };
    Ok((written, outcome))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EmailResetRequest {
    pub password_reset_token: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub code_verifier: Option<String>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailResetResponse {
    pub member_email_id: String,
    #[serde(flatten)]
    pub rest: AuthResponse,
}

/// `POST /v1/b2b/passwords/email/reset`: use the emailed token once, set the password, verify
/// the email (a pending member becomes active), clear the lock, revoke every session; then the
/// MFA rule — a reset never stands in for the second factor.
pub async fn email_reset(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<EmailResetRequest>,
) -> Result<Reply<EmailResetResponse>, Error> {
    let password = Password::parse(req.password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    check_locale(req.locale.as_deref())?;
    let (token, org, member) = redeemable_member_link(
        &st,
        &req.password_reset_token,
        TokenKind::MultiTenantPassword,
        req.code_verifier.as_deref(),
    )
    .await?;
    require_auth_method(&org, AuthMethod::Password)?;
    let now = st.clock.now();
    let ist = mfa::find_ist(&st, req.intermediate_session_token.as_deref(), &org, &member.user_id).await?;
    let record = password_records::replacement(&st, &password, &member).await?;
    let primary = Primary {
        org: &org,
        member: &member,
        factor: email_factor(&member, now),
        attach: None,
        ist,
        duration,
        custom_claims: req.session_custom_claims.as_ref(),
    };
    let (member, outcome) = reset_with_mfa(&st, &org, &member, Some(token), record, primary, || {
        Error::new(
            ErrorType::UnableToAuthPasswordResetToken,
            "The password reset token was already used.",
        )
    })
    .await?;
    Ok(Reply(EmailResetResponse {
        member_email_id: member.email_id.clone(),
        rest: auth_response(&st, &org, &member, outcome),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExistingPasswordResetRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub existing_password: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub new_password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub locale: Option<String>,
}

/// `POST /v1/b2b/passwords/existing_password/reset`: the current password (a failure counts
/// toward the lock) buys a new one; every session is revoked; then the MFA rule.
pub async fn existing_password_reset(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<ExistingPasswordResetRequest>,
) -> Result<Reply<AuthResponse>, Error> {
    let email = EmailAddress::parse(&req.email_address)?;
    let existing = Password::parse(req.existing_password)?;
    let new = Password::parse(req.new_password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    check_locale(req.locale.as_deref())?;
    let org = load_org(&st, &req.organization_id).await?;
    require_auth_method(&org, AuthMethod::Password)?;
    // The completed reset clears the lock, so the success needs no write of its own unless the
    // new password is refused.
    let proven = prove_password(&st, Some(&org.organization_id), &email, &existing, member_not_found).await?;
    // A flagged password cannot buy its own replacement: only the emailed reset can.
    if proven.stored.requires_reset {
        record_success(&st, proven, None, member_not_found).await?;
        return Err(member_reset_password());
    }
    let record = match password_records::replacement(&st, &new, &proven.user).await {
        Ok(record) => record,
        Err(e) => {
            record_success(&st, proven, None, member_not_found).await?;
            return Err(e);
        }
    };
    let member = proven.user;
    let now = st.clock.now();
    let primary = Primary {
        org: &org,
        member: &member,
        factor: password_factor(now),
        attach: None,
        ist: None,
        duration,
        custom_claims: req.session_custom_claims.as_ref(),
    };
    let (member, outcome) = reset_with_mfa(&st, &org, &member, None, record, primary, member_not_found).await?;
    Ok(Reply(auth_response(&st, &org, &member, outcome)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SessionResetRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionResetResponse {
    pub member_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    #[serde(flatten)]
    pub auth: AuthFields,
}

/// `POST /v1/b2b/passwords/session/reset`: a session of this organization with a factor proved
/// in the last 5 minutes sets the password; it stays, the member's other sessions are revoked.
pub async fn session_reset(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<SessionResetRequest>,
) -> Result<Reply<SessionResetResponse>, Error> {
    let password = Password::parse(req.password)?;
    let by = SessionRef::required(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    check_locale(req.locale.as_deref())?;
    let org = load_org(&st, &req.organization_id).await?;
    require_auth_method(&org, AuthMethod::Password)?;
    let now = st.clock.now();
    let (session, token) = st
        .sessions
        .find(by, Scope::Organization(&org.organization_id), now)
        .await?;
    if !recently_proven(&session, now, |_| true) {
        return Err(Error::new(
            ErrorType::SessionTooOldToResetPassword,
            "The session must have proved a factor within the last 5 minutes.",
        ));
    }
    let member = load_member(&st, &org, &session.user_id).await?;
    let record = password_records::replacement(&st, &password, &member).await?;
    let mut session = session;
    session.organization = Some(org.org_ref());
    let issued =
        st.sessions
            .prepare_refresh(session, token, None, duration, req.session_custom_claims.as_ref(), now)?;
    let reset = PasswordReset {
        user_id: member.user_id.clone(),
        token: None,
        password: record,
        keep_session: Some(issued.record.clone()),
        new_session: None,
        same_password_for: sharing_password(&st, &member).await?,
    };
    let Some(member) = st.store.complete_reset(&reset).await? else {
        return Err(Error::new(
            ErrorType::SessionNotFound,
            "The session or its member no longer exists.",
        ));
    };
    Ok(Reply(SessionResetResponse {
        member_id: member.user_id.clone(),
        member: MemberObject::new(&member, now),
        organization: OrganizationObject::from(&org),
        auth: AuthFields::new(Outcome::Authenticated(issued), &member),
    }))
}

// The frontend SDK's doors (`/sdk/v1/b2b/passwords/…`, crate::api::sdk): each takes what the
// browser SDK sends, the session from Authorization (never from the body), no custom claims (a
// page may not write its own session's claims), and runs its backend twin above.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkAuthenticateRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
}

/// `POST /sdk/v1/b2b/passwords/authenticate`: the session the page holds, if any, gets the factor.
pub async fn sdk_authenticate(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkAuthenticateRequest>,
) -> Result<SdkReply<AuthResponse>, Error> {
    let req = AuthenticateRequest {
        organization_id: req.organization_id,
        email_address: req.email_address,
        password: req.password,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        locale: req.locale,
        intermediate_session_token: req.intermediate_session_token,
    };
    authenticate(st, JsonBody(req)).await.map(SdkReply::from)
}

/// `POST /sdk/v1/b2b/passwords/strength_check`: the backend check, as is.
pub async fn sdk_strength_check(
    st: State<AppState>,
    _caller: SdkCaller,
    body: JsonBody<StrengthCheckRequest>,
) -> Result<SdkReply<StrengthCheckResponse>, Error> {
    strength_check(st, body).await.map(SdkReply::from)
}

/// `POST /sdk/v1/b2b/passwords/email/reset/start`: the same start, answered without the member
/// (the page learns only that a mail went out).
pub async fn sdk_reset_start(
    st: State<AppState>,
    _caller: SdkCaller,
    body: JsonBody<ResetStartRequest>,
) -> Result<SdkReply<crate::api::wire::Empty>, Error> {
    reset_start(st, body).await?;
    Ok(SdkReply(crate::api::wire::Empty {}))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkEmailResetRequest {
    pub password_reset_token: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub code_verifier: Option<String>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
}

/// `POST /sdk/v1/b2b/passwords/email/reset`.
pub async fn sdk_email_reset(
    st: State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<SdkEmailResetRequest>,
) -> Result<SdkReply<EmailResetResponse>, Error> {
    let req = EmailResetRequest {
        password_reset_token: req.password_reset_token,
        password: req.password,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        code_verifier: req.code_verifier,
        locale: req.locale,
        intermediate_session_token: req.intermediate_session_token,
    };
    email_reset(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkExistingPasswordResetRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub existing_password: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub new_password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub locale: Option<String>,
}

/// `POST /sdk/v1/b2b/passwords/existing_password/reset`.
pub async fn sdk_existing_password_reset(
    st: State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<SdkExistingPasswordResetRequest>,
) -> Result<SdkReply<AuthResponse>, Error> {
    let req = ExistingPasswordResetRequest {
        organization_id: req.organization_id,
        email_address: req.email_address,
        existing_password: req.existing_password,
        new_password: req.new_password,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        locale: req.locale,
    };
    existing_password_reset(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkSessionResetRequest {
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub locale: Option<String>,
}

/// `POST /sdk/v1/b2b/passwords/session/reset`: the SDK sends no organization, so it is the
/// session's own.
pub async fn sdk_session_reset(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkSessionResetRequest>,
) -> Result<SdkReply<SessionResetResponse>, Error> {
    let token = caller.require_session()?;
    let (_, _, org, _) = session_member(&st, SessionRef::Token(token), st.clock.now()).await?;
    let req = SessionResetRequest {
        organization_id: org.organization_id,
        password: req.password,
        session_token: Some(token.to_string()),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        locale: req.locale,
    };
    session_reset(st, JsonBody(req)).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const AUTHENTICATE_API: Api = Api::body::<AuthenticateRequest, AuthResponse>(&[
    &[
        ErrorType::InvalidLocale,
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ErrorType::InvalidEmail,
        ErrorType::PasswordTooLong,
        ErrorType::UnauthorizedCredentials,
        ErrorType::MemberResetPassword,
        ErrorType::UserLocked,
        ErrorType::EmailNotFound,
        ErrorType::MemberNotFound,
        ErrorType::IntermediateSessionNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const STRENGTH_CHECK_API: Api =
    Api::body::<StrengthCheckRequest, StrengthCheckResponse>(&[&[ErrorType::PasswordTooLong, ErrorType::InvalidEmail]]);

pub const RESET_START_API: Api = Api::body::<ResetStartRequest, ResetStartResponse>(&[
    &[
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ErrorType::InvalidEmail,
        ErrorType::EmailNotFound,
        ErrorType::MemberNotFound,
    ],
    errors::RESET_REDIRECTS,
    errors::EMAILED_LINK,
]);

pub const EMAIL_RESET_API: Api = Api::body::<EmailResetRequest, EmailResetResponse>(&[
    &[
        ErrorType::InvalidLocale,
        ErrorType::UnableToAuthPasswordResetToken,
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ErrorType::MemberNotFound,
        ErrorType::IntermediateSessionNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
    errors::PKCE_VERIFIER,
]);

pub const EXISTING_PASSWORD_RESET_API: Api = Api::body::<ExistingPasswordResetRequest, AuthResponse>(&[
    &[
        ErrorType::InvalidLocale,
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ErrorType::InvalidEmail,
        ErrorType::UnauthorizedCredentials,
        ErrorType::EmailNotFound,
        ErrorType::MemberNotFound,
        ErrorType::UserLocked,
        ErrorType::IntermediateSessionNotFound,
        ErrorType::MemberResetPassword,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);

/// What a session reset refuses for its own reasons, behind either door.
const SESSION_RESET_ERRORS: &[ErrorType] = &[
    ErrorType::InvalidLocale,
    ErrorType::NoSessionArguments,
    ErrorType::SessionTooOldToResetPassword,
    ErrorType::OrganizationNotFound,
    ErrorType::OperationRestrictedByOrganizationAuthMethods,
    ErrorType::MemberNotFound,
];

pub const SESSION_RESET_API: Api = Api::body::<SessionResetRequest, SessionResetResponse>(&[
    SESSION_RESET_ERRORS,
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);

pub const SDK_AUTHENTICATE_API: Api = AUTHENTICATE_API.taking::<SdkAuthenticateRequest>();

pub const SDK_STRENGTH_CHECK_API: Api = STRENGTH_CHECK_API;

pub const SDK_RESET_START_API: Api = RESET_START_API.answering::<crate::api::wire::Empty>();

pub const SDK_EMAIL_RESET_API: Api = EMAIL_RESET_API.taking::<SdkEmailResetRequest>();

pub const SDK_EXISTING_PASSWORD_RESET_API: Api =
    EXISTING_PASSWORD_RESET_API.taking::<SdkExistingPasswordResetRequest>();

pub const SDK_SESSION_RESET_API: Api = Api::body::<SdkSessionResetRequest, SessionResetResponse>(&[
    SESSION_ERRORS,
    SESSION_RESET_ERRORS,
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);
