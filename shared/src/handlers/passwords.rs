//! `/v1/passwords`: create, authenticate, strength check.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::openapi::{errors, Api};
use crate::api::sdk::{SdkCaller, SdkReply};
use crate::api::wire::{SessionFields, UserObject};
use crate::api::{JsonBody, Reply};
use crate::domain::{EmailAddress, Password, SessionDuration};
use crate::error::{Error, ErrorType};
use crate::flows::login::{self, email_not_found, password_factor, prove_password, record_success, user_gone};
use crate::flows::users::new_user;
use crate::policy::LudsRequirements;
use crate::sessions::{Scope, SessionRef};
use crate::state::AppState;
use crate::store::{Name, StoreError};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub trusted_metadata: Option<Map<String, Value>>,
    pub untrusted_metadata: Option<Map<String, Value>>,
    pub name: Option<Name>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreateResponse {
    pub user_id: String,
    pub email_id: String,
    #[serde(flatten)]
    pub session: SessionFields,
    pub user: UserObject,
}

/// `POST /v1/passwords`. Errors come in a fixed order (docs/security.md E2): malformed input
/// (`invalid_email`, `password_too_long`, `invalid_session_duration_minutes`), then
/// `weak_password`, then `breached_password`, then `duplicate_email` — so whether an email is
/// registered is only revealed to a request that would otherwise have succeeded.
pub async fn create(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<Reply<CreateResponse>, Error> {
    let email = EmailAddress::parse(&req.email)?;
    let password = Password::parse(req.password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    st.policy.require_acceptable(&password, Some(&email)).await?;

    let hash = st.hasher.hash(&password).await?;
    let now = st.clock.now();
    let mut user = new_user(&st, &email, hash, now);
    user.name = req.name.unwrap_or_default();
    user.trusted_metadata = req.trusted_metadata.unwrap_or_default();
    user.untrusted_metadata = req.untrusted_metadata.unwrap_or_default();
    // The user and their first session are one write: a failure leaves neither.
    let session = duration
        .map(|d| {
            st.sessions.prepare(
                &user.user_id,
                password_factor(now),
                d,
                req.session_custom_claims.as_ref(),
                now,
            )
        })
        .transpose()?;
    match st.store.create_user(&user, session.as_ref().map(|s| &s.record)).await {
        Ok(()) => {}
        Err(StoreError::DuplicateEmail) => {
            return Err(Error::new(
                ErrorType::DuplicateEmail,
                "A user with this email already exists.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Reply(CreateResponse {
        user_id: user.user_id.clone(),
        email_id: user.email_id.clone(),
        session: session.into(),
        user: UserObject::new(&user, now),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuthenticateRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthenticateResponse {
    pub user_id: String,
    #[serde(flatten)]
    pub session: SessionFields,
    pub user: UserObject,
}

/// `POST /v1/passwords/authenticate`.
pub async fn authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AuthenticateRequest>,
) -> Result<Reply<AuthenticateResponse>, Error> {
    let email = EmailAddress::parse(&req.email)?;
    let password = Password::parse(req.password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    let existing = SessionRef::from_optional(req.session_token.as_deref(), req.session_jwt.as_deref())?;

    let proven = prove_password(&st, None, &email, &password, email_not_found).await?;
    let Some(proven) = login::unless_reset_required(&st, proven, &password, user_gone).await? else {
        return Err(Error::new(
            ErrorType::ResetPassword,
            "The password is correct but must be reset by email before logging in.",
        ));
    };

    let now = st.clock.now();
    let user_id = proven.user.user_id.clone();
    // A session the request names that is not the user's: the password was right, so the
    // attempt is recorded as a success before the session error is answered.
    let attach = match st
        .sessions
        .find_for_user(existing, Scope::Consumer, &user_id, now)
        .await
    {
        Ok(attach) => attach,
        Err(e) => {
            record_success(&st, proven, None, user_gone).await?;
            return Err(e);
        }
    };
    let prepared = st.sessions.prepare_after_primary_factor(
        attach,
        &user_id,
        password_factor(now),
        duration,
        req.session_custom_claims.as_ref(),
        now,
    )?;
    let user = record_success(&st, proven, prepared.as_ref().map(|p| p.write()), user_gone).await?;
    let issued = prepared.map(|p| p.into_issued());
    Ok(Reply(AuthenticateResponse {
        user_id: user.user_id.clone(),
        session: issued.into(),
        user: UserObject::new(&user, now),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StrengthCheckRequest {
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_email)]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub warning: String,
    pub suggestions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub luds_requirements: Option<LudsRequirements>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StrengthCheckResponse {
    #[serde(flatten)]
    pub verdict: crate::policy::StrengthVerdict,
    pub feedback: Feedback,
}

/// `POST /v1/passwords/strength_check`.
pub async fn strength_check(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<StrengthCheckRequest>,
) -> Result<Reply<StrengthCheckResponse>, Error> {
    let email = req.email.as_deref().map(EmailAddress::parse).transpose()?;
    let password = Password::parse(req.password)?;
    let (verdict, strength) = st.policy.judge(&password, email.as_ref()).await?;
    Ok(Reply(StrengthCheckResponse {
        verdict,
        feedback: Feedback {
            warning: strength.warning,
            suggestions: strength.suggestions,
            luds_requirements: strength.luds,
        },
    }))
}

// The frontend SDK's doors (`/sdk/v1/passwords…`, crate::api::sdk): each takes what the browser
// SDK sends, the session from Authorization (never from the body), no custom claims or metadata
// (a page may not write what only the backend may), and runs its backend twin above.

/// What `passwords.create` and `passwords.authenticate` send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkCredentialsRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
}

/// `POST /sdk/v1/passwords`: a sign-up from a page.
pub async fn sdk_create(
    st: State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<SdkCredentialsRequest>,
) -> Result<SdkReply<CreateResponse>, Error> {
    let req = CreateRequest {
        email: req.email,
        password: req.password,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        trusted_metadata: None,
        untrusted_metadata: None,
        name: None,
    };
    create(st, JsonBody(req)).await.map(SdkReply::from)
}

/// `POST /sdk/v1/passwords/authenticate`: the session the page holds, if any, gets the factor.
pub async fn sdk_authenticate(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkCredentialsRequest>,
) -> Result<SdkReply<AuthenticateResponse>, Error> {
    let req = AuthenticateRequest {
        email: req.email,
        password: req.password,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
    };
    authenticate(st, JsonBody(req)).await.map(SdkReply::from)
}

/// `POST /sdk/v1/passwords/strength_check`: the backend check, as is.
pub async fn sdk_strength_check(
    st: State<AppState>,
    _caller: SdkCaller,
    body: JsonBody<StrengthCheckRequest>,
) -> Result<SdkReply<StrengthCheckResponse>, Error> {
    strength_check(st, body).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const CREATE_API: Api = Api::body::<CreateRequest, CreateResponse>(&[
    &[ErrorType::InvalidEmail, ErrorType::DuplicateEmail],
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);

pub const AUTHENTICATE_API: Api = Api::body::<AuthenticateRequest, AuthenticateResponse>(&[
    &[
        ErrorType::InvalidEmail,
        ErrorType::PasswordTooLong,
        ErrorType::UnauthorizedCredentials,
        ErrorType::ResetPassword,
        ErrorType::UserLocked,
        ErrorType::EmailNotFound,
        ErrorType::UserNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const STRENGTH_CHECK_API: Api =
    Api::body::<StrengthCheckRequest, StrengthCheckResponse>(&[&[ErrorType::PasswordTooLong, ErrorType::InvalidEmail]]);

pub const SDK_CREATE_API: Api = CREATE_API.taking::<SdkCredentialsRequest>();

pub const SDK_AUTHENTICATE_API: Api = AUTHENTICATE_API.taking::<SdkCredentialsRequest>();

pub const SDK_STRENGTH_CHECK_API: Api = STRENGTH_CHECK_API;
