//! Password resets (by email, with the existing password, with a session) and the "log in
//! without password" magic link from the reset email.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::api::openapi::{errors, Api};
use crate::api::sdk::{SdkCaller, SdkReply, SESSION_ERRORS};
use crate::api::wire::Empty;
use crate::api::wire::{SessionFields, UserObject};
use crate::api::{JsonBody, Reply};
use crate::domain::pkce::CodeChallenge;
use crate::domain::{EmailAddress, Password, SessionDuration};
use crate::error::{Error, ErrorType};
use crate::flows::emailed_links::{
    check_locale, email_factor, redeemable, reset_lifetime, reset_urls, start_reset, MatchOptions, ResetStart,
};
use crate::flows::login::{email_not_found, password_factor, prove_password, record_success, user_gone};
use crate::flows::password_records;
use crate::sessions::{recently_proven, Issued, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{Attributes, FactorKind, FactorRecord, PasswordReset, TokenKind, UserRecord};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetStartRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    pub reset_password_redirect_url: Option<String>,
    pub login_redirect_url: Option<String>,
    pub reset_password_expiration_minutes: Option<i64>,
    pub code_challenge: Option<String>,
    pub attributes: Option<Attributes>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResetStartResponse {
    pub user_id: String,
    pub email_id: String,
}

/// `POST /v1/passwords/email/reset/start`: email a reset link and a "log in without password"
/// link. Rate-limited per address; `email_not_found` for an unknown address, answered no
/// faster than a known one; a failed send leaves no usable token behind.
pub async fn start(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<ResetStartRequest>,
) -> Result<Reply<ResetStartResponse>, Error> {
    let began = Instant::now();
    let email = EmailAddress::parse(&req.email)?;
    let (reset_url, login_url) = reset_urls(
        &st,
        req.reset_password_redirect_url.as_deref(),
        req.login_redirect_url.as_deref(),
    )?;
    let lifetime = reset_lifetime(req.reset_password_expiration_minutes)?;
    let code_challenge = CodeChallenge::parse_opt(req.code_challenge.as_deref())?;
    check_locale(req.locale.as_deref())?;
    let start = ResetStart {
        organization: None,
        email: &email,
        reset_url,
        login_url,
        lifetime,
        code_challenge,
        attributes: req.attributes.unwrap_or_default(),
    };
    let Some(user) = start_reset(&st, began, start).await? else {
        return Err(email_not_found());
    };
    Ok(Reply(ResetStartResponse {
        user_id: user.user_id,
        email_id: user.email_id,
    }))
}

/// After a reset that revokes every session: a new one if asked for, to be stored with the reset.
fn new_session(
    st: &AppState,
    user_id: &str,
    factor: FactorRecord,
    duration: Option<SessionDuration>,
    claims: Option<&Map<String, Value>>,
) -> Result<Option<Issued>, Error> {
    duration
        .map(|d| st.sessions.prepare(user_id, factor, d, claims, st.clock.now()))
        .transpose()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ResetResponse {
    pub user_id: String,
    #[serde(flatten)]
    pub session: SessionFields,
    pub user: UserObject,
}

fn reply(st: &AppState, user: &UserRecord, issued: Option<Issued>) -> Reply<ResetResponse> {
    Reply(ResetResponse {
        user_id: user.user_id.clone(),
        session: issued.into(),
        user: UserObject::new(user, st.clock.now()),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EmailResetRequest {
    pub token: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub code_verifier: Option<String>,
    pub attributes: Option<Attributes>,
    pub options: Option<MatchOptions>,
}

/// `POST /v1/passwords/email/reset`: redeem the emailed token once, set the new password, verify
/// the email, clear any lock or pending reset, and revoke every session of the user.
pub async fn email_reset(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<EmailResetRequest>,
) -> Result<Reply<ResetResponse>, Error> {
    let password = Password::parse(req.password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    let (token, user) = redeemable(
        &st,
        &req.token,
        TokenKind::ResetPassword,
        req.code_verifier.as_deref(),
        req.attributes.as_ref(),
        req.options.as_ref(),
    )
    .await?;
    let record = password_records::replacement(&st, &password, &user).await?;
    let issued = new_session(
        &st,
        &user.user_id,
        email_factor(&user, st.clock.now()),
        duration,
        req.session_custom_claims.as_ref(),
    )?;
    let reset = PasswordReset {
        user_id: user.user_id.clone(),
        token: Some(token),
        password: record,
        keep_session: None,
        new_session: issued.as_ref().map(|i| i.record.clone()),
        same_password_for: Vec::new(),
    };
    let Some(user) = st.store.complete_reset(&reset).await? else {
        return Err(Error::new(
            ErrorType::UnableToAuthPasswordResetToken,
            "The password reset token was already used.",
        ));
    };
    Ok(reply(&st, &user, issued))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExistingPasswordResetRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub existing_password: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub new_password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
}

/// `POST /v1/passwords/existing_password/reset`: the current password (a failure counts toward
/// the lock) buys a new one; every session is revoked.
pub async fn existing_password_reset(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<ExistingPasswordResetRequest>,
) -> Result<Reply<ResetResponse>, Error> {
    let email = EmailAddress::parse(&req.email)?;
    let existing = Password::parse(req.existing_password)?;
    let new = Password::parse(req.new_password)?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    // The completed reset below clears the lock, so the success needs no write of its own
    // unless the new password is refused.
    let proven = prove_password(&st, None, &email, &existing, email_not_found).await?;
    // A password flagged for a reset (breached, or set before the email was proven and since
    // then proven by a magic link) cannot buy its own replacement: only the emailed reset can.
    if proven.stored.requires_reset {
        record_success(&st, proven, None, user_gone).await?;
        return Err(Error::new(
            ErrorType::ResetPassword,
            "The password must be reset by email before it can be changed.",
        ));
    }
    let record = match password_records::replacement(&st, &new, &proven.user).await {
        Ok(record) => record,
        Err(e) => {
            record_success(&st, proven, None, user_gone).await?;
            return Err(e);
        }
    };
    let user = proven.user;
    let issued = new_session(
        &st,
        &user.user_id,
        password_factor(st.clock.now()),
        duration,
        req.session_custom_claims.as_ref(),
    )?;
    let reset = PasswordReset {
        user_id: user.user_id.clone(),
        token: None,
        password: record,
        keep_session: None,
        new_session: issued.as_ref().map(|i| i.record.clone()),
        same_password_for: Vec::new(),
    };
    let Some(user) = st.store.complete_reset(&reset).await? else {
        return Err(user_gone());
    };
    Ok(reply(&st, &user, issued))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SessionResetRequest {
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
}

/// `POST /v1/passwords/session/reset`: a session that proved a password or the email in the
/// last 5 minutes sets a new password; it stays, every other session of the user is revoked.
pub async fn session_reset(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<SessionResetRequest>,
) -> Result<Reply<ResetResponse>, Error> {
    let password = Password::parse(req.password)?;
    let by = SessionRef::required(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    let now = st.clock.now();
    let (session, token) = st.sessions.find(by, Scope::Consumer, now).await?;
    let counts = |f: &FactorRecord| matches!(f.kind, FactorKind::Password | FactorKind::MagicLink);
    if !recently_proven(&session, now, counts) {
        return Err(Error::new(
            ErrorType::SessionTooOldToResetPassword,
            "The session must have proved a password or the email within the last 5 minutes.",
        ));
    }
    let user = st
        .store
        .user_by_id(&session.user_id)
        .await?
        .ok_or_else(|| Error::new(ErrorType::SessionNotFound, "The session's user no longer exists."))?;
    // A flagged password is replaced only by someone who proved the email: a session that
    // proved just a password (possibly the flagged one, before the flag) cannot clear it.
    let flagged = user.password.as_ref().is_some_and(|p| p.requires_reset);
    if flagged && !session.factors.iter().any(|f| f.kind == FactorKind::MagicLink) {
        return Err(Error::new(
            ErrorType::ResetPassword,
            "The password must be reset by email, or from a session that proved the email.",
        ));
    }
    let record = password_records::replacement(&st, &password, &user).await?;
    let issued =
        st.sessions
            .prepare_refresh(session, token, None, duration, req.session_custom_claims.as_ref(), now)?;
    let reset = PasswordReset {
        user_id: user.user_id.clone(),
        token: None,
        password: record,
        keep_session: Some(issued.record.clone()),
        new_session: None,
        same_password_for: Vec::new(),
    };
    let Some(user) = st.store.complete_reset(&reset).await? else {
        return Err(Error::new(
            ErrorType::SessionNotFound,
            "The session or its user no longer exists.",
        ));
    };
    Ok(reply(&st, &user, Some(issued)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MagicLinkRequest {
    pub token: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub code_verifier: Option<String>,
    pub attributes: Option<Attributes>,
    pub options: Option<MatchOptions>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MagicLinkResponse {
    pub user_id: String,
    pub method_id: String,
    #[serde(flatten)]
    pub session: SessionFields,
    pub user: UserObject,
    pub reset_sessions: bool,
}

/// `POST /v1/magic_links/authenticate`: the "log in without password" link, used once. It
/// proves the email, not the password: a pending `reset_password` stays pending (R6).
pub async fn magic_link_authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<MagicLinkRequest>,
) -> Result<Reply<MagicLinkResponse>, Error> {
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    let existing = SessionRef::from_optional(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    let (token, user) = redeemable(
        &st,
        &req.token,
        TokenKind::MagicLink,
        req.code_verifier.as_deref(),
        req.attributes.as_ref(),
        req.options.as_ref(),
    )
    .await?;
    let now = st.clock.now();
    // Resolve an attached session before consuming, so a bad session does not burn the link.
    let attach = st
        .sessions
        .find_for_user(existing, Scope::Consumer, &user.user_id, now)
        .await?;
    // Account pre-hijacking: if this first proof of the email flags a password set before it,
    // whoever set that password may hold sessions from it. They are revoked (all but a session
    // the request attaches) before the link is used, so a failure part-way leaves the link for
    // a retry; `reset_sessions` tells the caller, as Stytch's field does.
    let reset_sessions = crate::store::prove_email(&mut user.clone());
    if reset_sessions {
        let keep = attach.as_ref().map(|(s, _)| s.session_id.as_str());
        for s in st.store.sessions_for_user(&user.user_id, now).await? {
            if Some(s.session_id.as_str()) != keep {
                st.store.delete_session(&s.session_id).await?;
            }
        }
    }
    if !st.store.consume_token(&token).await? {
        return Err(Error::new(
            ErrorType::UnableToAuthMagicLink,
            "The magic link was already used.",
        ));
    }
    // The first proof of the email flags a password set before it, in the store's same write
    // (account pre-hijacking); the answer shows the user as that write left them.
    st.store.verify_email(&user.user_id).await?;
    let mut user = user;
    crate::store::prove_email(&mut user);
    let factor = email_factor(&user, now);
    let issued = st
        .sessions
        .after_primary_factor(
            attach,
            &user.user_id,
            factor,
            duration,
            req.session_custom_claims.as_ref(),
            now,
        )
        .await?;
    Ok(Reply(MagicLinkResponse {
        user_id: user.user_id.clone(),
        method_id: user.email_id.clone(),
        session: issued.into(),
        user: UserObject::new(&user, now),
        reset_sessions,
    }))
}

// The frontend SDK's doors (`/sdk/v1/passwords/…` and `/sdk/v1/magic_links/authenticate`,
// crate::api::sdk): each takes what the browser SDK sends, the session from Authorization (never
// from the body), no custom claims, and runs its backend twin above.

/// `POST /sdk/v1/passwords/email/reset/start`: the same start, answered without the user (the
/// page learns only that a mail went out).
pub async fn sdk_start(
    st: State<AppState>,
    _caller: SdkCaller,
    body: JsonBody<ResetStartRequest>,
) -> Result<SdkReply<Empty>, Error> {
    start(st, body).await?;
    Ok(SdkReply(Empty {}))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkEmailResetRequest {
    pub token: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub code_verifier: Option<String>,
}

/// `POST /sdk/v1/passwords/email/reset`.
pub async fn sdk_email_reset(
    st: State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<SdkEmailResetRequest>,
) -> Result<SdkReply<ResetResponse>, Error> {
    let req = EmailResetRequest {
        token: req.token,
        password: req.password,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        code_verifier: req.code_verifier,
        attributes: None,
        options: None,
    };
    email_reset(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkExistingPasswordResetRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub existing_password: String,
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub new_password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
}

/// `POST /sdk/v1/passwords/existing_password/reset`.
pub async fn sdk_existing_password_reset(
    st: State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<SdkExistingPasswordResetRequest>,
) -> Result<SdkReply<ResetResponse>, Error> {
    let req = ExistingPasswordResetRequest {
        email: req.email,
        existing_password: req.existing_password,
        new_password: req.new_password,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
    };
    existing_password_reset(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkSessionResetRequest {
    #[schema(schema_with = crate::api::openapi::fields::password)]
    pub password: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
}

/// `POST /sdk/v1/passwords/session/reset`: the page's session sets the new password.
pub async fn sdk_session_reset(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkSessionResetRequest>,
) -> Result<SdkReply<ResetResponse>, Error> {
    let req = SessionResetRequest {
        password: req.password,
        session_token: Some(caller.require_session()?.to_string()),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
    };
    session_reset(st, JsonBody(req)).await.map(SdkReply::from)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkMagicLinkRequest {
    pub token: String,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub code_verifier: Option<String>,
}

/// `POST /sdk/v1/magic_links/authenticate`: the reset mail's "log in without password" link;
/// the session the page holds, if any, gets the factor.
pub async fn sdk_magic_link_authenticate(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkMagicLinkRequest>,
) -> Result<SdkReply<MagicLinkResponse>, Error> {
    let req = MagicLinkRequest {
        token: req.token,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        code_verifier: req.code_verifier,
        attributes: None,
        options: None,
    };
    magic_link_authenticate(st, JsonBody(req)).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const START_API: Api = Api::body::<ResetStartRequest, ResetStartResponse>(&[
    &[ErrorType::InvalidEmail, ErrorType::EmailNotFound],
    errors::RESET_REDIRECTS,
    errors::EMAILED_LINK,
]);

pub const EMAIL_RESET_API: Api = Api::body::<EmailResetRequest, ResetResponse>(&[
    &[
        ErrorType::UnableToAuthPasswordResetToken,
        ErrorType::AttributeMismatch,
        ErrorType::UserNotFound,
    ],
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
    errors::PKCE_VERIFIER,
]);

pub const EXISTING_PASSWORD_RESET_API: Api = Api::body::<ExistingPasswordResetRequest, ResetResponse>(&[
    &[
        ErrorType::InvalidEmail,
        ErrorType::UnauthorizedCredentials,
        ErrorType::EmailNotFound,
        ErrorType::UserLocked,
        ErrorType::ResetPassword,
    ],
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);

/// What a session reset refuses for its own reasons, behind either door.
const SESSION_RESET_ERRORS: &[ErrorType] = &[
    ErrorType::NoSessionArguments,
    ErrorType::SessionTooOldToResetPassword,
    ErrorType::UserNotFound,
    ErrorType::ResetPassword,
];

pub const SESSION_RESET_API: Api = Api::body::<SessionResetRequest, ResetResponse>(&[
    SESSION_RESET_ERRORS,
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);

pub const MAGIC_LINK_API: Api = Api::body::<MagicLinkRequest, MagicLinkResponse>(&[
    &[
        ErrorType::UnableToAuthMagicLink,
        ErrorType::AttributeMismatch,
        ErrorType::UserNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::PKCE_VERIFIER,
]);

pub const SDK_START_API: Api = START_API.answering::<Empty>();

pub const SDK_EMAIL_RESET_API: Api = EMAIL_RESET_API.taking::<SdkEmailResetRequest>();

pub const SDK_EXISTING_PASSWORD_RESET_API: Api =
    EXISTING_PASSWORD_RESET_API.taking::<SdkExistingPasswordResetRequest>();

pub const SDK_SESSION_RESET_API: Api = Api::body::<SdkSessionResetRequest, ResetResponse>(&[
    SESSION_ERRORS,
    SESSION_RESET_ERRORS,
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::NEW_PASSWORD,
]);

pub const SDK_MAGIC_LINK_API: Api = MAGIC_LINK_API.taking::<SdkMagicLinkRequest>();
