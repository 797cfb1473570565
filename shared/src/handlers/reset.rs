//! Password resets (by email, with the existing password, with a session) and the "log in
//! without password" magic link from the reset email.

use crate::api::openapi::{errors, schema, Api, Input};
use tokio::time::Instant;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::passwords::{email_not_found, password_factor, prove_password, record_success, user_gone, SessionFields};
use crate::api::wire::UserObject;
use crate::api::{JsonBody, Reply};
use crate::domain::ids::{new_id, IdKind};
use crate::domain::pkce::{self, CodeChallenge};
use crate::domain::{EmailAddress, Password, SessionDuration};
use crate::error::{Error, ErrorType};
use crate::mail::Message;
use crate::redirects::{self, LinkKind};
use crate::sessions::tokens::random_token;
use crate::sessions::{Issued, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{
    Attributes, FactorKind, FactorRecord, PasswordRecord, PasswordReset, SessionRecord, TokenKind, TokenRecord,
    UserRecord,
};

/// Emailed tokens carry 256 random bits (docs/security.md R1 asks for at least 128).
pub(crate) const EMAIL_TOKEN_BYTES: usize = 32;
/// A session may reset the password only if it proved a password or the email this recently.
const SESSION_RESET_FRESHNESS_MINUTES: i64 = 5;
const LOCALES: &[&str] = &["en", "es", "pt-br", "fr"];

/// `reset_password_expiration_minutes`: 5 to 10080, default 30.
fn expiration(minutes: Option<i64>) -> Result<chrono::Duration, Error> {
    link_lifetime("reset_password_expiration_minutes", minutes, 30)
}

/// How long an emailed link lives: `minutes` (5 to 10080) or the default.
pub(crate) fn link_lifetime(field: &str, minutes: Option<i64>, default: i64) -> Result<chrono::Duration, Error> {
    let m = minutes.unwrap_or(default);
    if !(5..=10_080).contains(&m) {
        return Err(Error::new(
            ErrorType::InvalidExpiration,
            format!("{field} must be between 5 and 10080."),
        ));
    }
    Ok(chrono::Duration::minutes(m))
}

/// `locale` must be one Stytch knows (templates are English only; see README).
pub(crate) fn check_locale(locale: Option<&str>) -> Result<(), Error> {
    match locale.filter(|l| !LOCALES.contains(l)) {
        Some(locale) => Err(Error::new(
            ErrorType::InvalidLocale,
            format!("locale {locale:?} is not one of en, es, pt-br, fr."),
        )),
        None => Ok(()),
    }
}

/// Count one email for `key` in this hour's window; `too_many_requests` past the limit. Counted
/// for unknown addresses too, so the limit says nothing about who exists (docs/security.md L4).
pub(crate) async fn limit_emails(st: &AppState, key: &str) -> Result<(), Error> {
    let now = st.clock.now();
    let window = now - chrono::Duration::seconds(now.timestamp().rem_euclid(3600));
    let sent = st.store.hit_rate_limit(key, window).await?;
    if sent > st.settings.email.reset_start_limit_per_hour {
        return Err(Error::new(
            ErrorType::TooManyRequests,
            "Too many emails for this address; try again within the hour.",
        ));
    }
    Ok(())
}

/// The reset email's two targets: the reset link's and the "log in without a password" link's,
/// each from the request or the configured default, on the allow-list.
pub(crate) fn reset_urls(
    st: &AppState,
    reset: Option<&str>,
    login: Option<&str>,
) -> Result<(url::Url, url::Url), Error> {
    let cfg = &st.settings.email;
    Ok((
        redirects::resolve(
            LinkKind::ResetPassword,
            reset,
            cfg.reset_password_redirect_url.as_deref(),
            &cfg.allowed_redirect_urls,
        )?,
        redirects::resolve(
            LinkKind::Login,
            login,
            cfg.login_redirect_url.as_deref(),
            &cfg.allowed_redirect_urls,
        )?,
    ))
}

/// Send the reset email (consumer and B2B): the reset link, the "log in without a password"
/// link, and how long both live.
pub(crate) async fn send_reset_email(
    st: &AppState,
    to: &str,
    reset_link: String,
    login_link: String,
    lifetime: chrono::Duration,
) -> Result<(), Error> {
    let minutes = lifetime.num_minutes().to_string();
    let (subject, text, html) = st.reset_template.render(&[
        ("email", to),
        ("reset_url", &reset_link),
        ("login_url", &login_link),
        ("expiration_minutes", &minutes),
    ]);
    let message = Message {
        to: to.to_string(),
        from: st.settings.email.from.clone(),
        subject,
        text,
        html,
        links: vec![reset_link, login_link],
    };
    send_mail(st, &message).await
}

/// Send `message`, mapping a failure to the one clear error (the caller stores its tokens only
/// after this succeeds, so a failed send leaves nothing usable: docs/security.md F2).
pub(crate) async fn send_mail(st: &AppState, message: &Message) -> Result<(), Error> {
    st.mailer.send(message).await.map(|_| ()).map_err(|e| {
        tracing::error!(error = %e, "email not sent");
        Error::new(
            ErrorType::EmailSendFailed,
            "The email could not be sent; nothing was changed. Retry later.",
        )
    })
}

fn email_factor(user: &UserRecord, now: DateTime<Utc>) -> FactorRecord {
    FactorRecord {
        kind: FactorKind::MagicLink,
        last_authenticated_at: now,
        created_at: now,
        updated_at: now,
        email_id: Some(user.email_id.clone()),
        email: Some(user.email.clone()),
        totp_id: None,
    }
}

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
    let lifetime = expiration(req.reset_password_expiration_minutes)?;
    let challenge = CodeChallenge::parse_opt(req.code_challenge.as_deref())?;
    check_locale(req.locale.as_deref())?;
    limit_emails(&st, &format!("reset_start:{}", email.as_str())).await?;
    let now = st.clock.now();

    let Some(user) = st.store.user_by_email(None, email.as_str()).await? else {
        st.reset_latency.pad(began).await;
        return Err(email_not_found());
    };

    let reset_token = random_token(EMAIL_TOKEN_BYTES);
    let login_token = random_token(EMAIL_TOKEN_BYTES);
    let reset_link = redirects::link(reset_url, "reset_password", &reset_token);
    let login_link = redirects::link(login_url, "magic_links", &login_token);
    // Send first, then store the tokens: if the mail fails, no token exists to be used (F2).
    send_reset_email(&st, &user.email, reset_link, login_link, lifetime).await?;
    let attributes = req.attributes.unwrap_or_default();
    // Both links are stored in one write, after the mail went out: either both work or neither.
    let records: Vec<TokenRecord> = [
        (&reset_token, TokenKind::ResetPassword),
        (&login_token, TokenKind::MagicLink),
    ]
    .into_iter()
    .map(|(token, kind)| TokenRecord {
        token_digest: st.sessions.digester().digest(token),
        kind,
        user_id: user.user_id.clone(),
        email_id: user.email_id.clone(),
        created_at: now,
        expires_at: now + lifetime,
        code_challenge: challenge.as_ref().map(|c| c.as_str().to_string()),
        attributes: attributes.clone(),
        used: false,
        organization_id: None,
        factors: vec![],
        credential_epoch: user.credential_epoch,
    })
    .collect();
    st.store.insert_tokens(&records).await?;
    // The work is measured before the wait; both paths then end at the same deadline.
    st.reset_latency.record(began.elapsed());
    st.reset_latency.pad(began).await;
    Ok(Reply(ResetStartResponse {
        user_id: user.user_id,
        email_id: user.email_id,
    }))
}

/// `options` of the completing calls: require the same IP or user agent as the start call.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct MatchOptions {
    #[serde(default)]
    pub ip_match_required: bool,
    #[serde(default)]
    pub user_agent_match_required: bool,
}

/// The answer to a token that is unknown, expired, used or of another kind.
pub(crate) fn unusable_token(kind: TokenKind) -> Error {
    match kind {
        TokenKind::ResetPassword | TokenKind::MultiTenantPassword => Error::new(
            ErrorType::UnableToAuthPasswordResetToken,
            "The password reset token is unknown, expired or already used.",
        ),
        TokenKind::MagicLink | TokenKind::MultiTenantMagicLink => Error::new(
            ErrorType::UnableToAuthMagicLink,
            "The magic link is unknown, expired or already used.",
        ),
        TokenKind::IntermediateSession => Error::new(
            ErrorType::IntermediateSessionNotFound,
            "The intermediate session token is unknown, expired, used, or not this member's.",
        ),
    }
}

/// A token named in a completing call, checked for kind, life, PKCE and attributes. It is not
/// consumed here: that happens atomically with the change it authorises.
pub(crate) async fn redeemable(
    st: &AppState,
    token: &str,
    kind: TokenKind,
    code_verifier: Option<&str>,
    attributes: Option<&Attributes>,
    options: Option<&MatchOptions>,
) -> Result<(TokenRecord, UserRecord), Error> {
    let unusable = || unusable_token(kind);
    if token.is_empty() || token.len() > 512 {
        return Err(unusable());
    }
    let now = st.clock.now();
    let record = st
        .store
        .token_by_digest(&st.sessions.digester().digest(token))
        .await?
        .filter(|t| t.kind == kind && t.is_live(now))
        .ok_or_else(unusable)?;
    pkce::check(record.code_challenge.as_deref(), code_verifier)?;
    if let Some(options) = options {
        let given = attributes.cloned().unwrap_or_default();
        let ip_bad = options.ip_match_required
            && (given.ip_address.is_empty() || given.ip_address != record.attributes.ip_address);
        let ua_bad = options.user_agent_match_required
            && (given.user_agent.is_empty() || given.user_agent != record.attributes.user_agent);
        if ip_bad || ua_bad {
            return Err(Error::new(
                ErrorType::AttributeMismatch,
                "The IP address or user agent differs from the start request's.",
            ));
        }
    }
    // A link issued before the password last changed is dead (docs/security.md R7); the store
    // decides it again atomically when consuming it.
    let user = st
        .store
        .user_by_id(&record.user_id)
        .await?
        .filter(|u| crate::store::token_survives(&record, u))
        .ok_or_else(unusable)?;
    Ok((record, user))
}

/// Hash a new password once it passes the policy.
async fn new_password_record(st: &AppState, password: &Password, user: &UserRecord) -> Result<PasswordRecord, Error> {
    let email = EmailAddress::parse(&user.email)?;
    st.policy.require_acceptable(password, Some(&email)).await?;
    Ok(PasswordRecord {
        password_id: user
            .password
            .as_ref()
            .map(|p| p.password_id.clone())
            .unwrap_or_else(|| new_id(IdKind::Password, st.env)),
        hash: st.hasher.hash(password).await?,
        requires_reset: false,
    })
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
    let record = new_password_record(&st, &password, &user).await?;
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
    let record = match new_password_record(&st, &new, &proven.user).await {
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

fn recently_proven(session: &SessionRecord, now: DateTime<Utc>) -> bool {
    let since = now - chrono::Duration::minutes(SESSION_RESET_FRESHNESS_MINUTES);
    session
        .factors
        .iter()
        .any(|f| matches!(f.kind, FactorKind::Password | FactorKind::MagicLink) && f.last_authenticated_at >= since)
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
    if !recently_proven(&session, now) {
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
    let record = new_password_record(&st, &password, &user).await?;
    let issued =
        st.sessions
            .prepare_refresh(session, token, None, duration, req.session_custom_claims.as_ref(), now)?;
    let reset = PasswordReset {
        user_id: user.user_id.clone(),
        token: None,
        password: record,
        keep_session: Some(issued.record.clone()),
        new_session: None,
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

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const START_API: Api = Api {
    input: Input::Body(schema::<ResetStartRequest>),
    output: schema::<ResetStartResponse>,
    errors: &[
        &[ErrorType::InvalidEmail, ErrorType::EmailNotFound],
        errors::RESET_REDIRECTS,
        errors::EMAILED_LINK,
    ],
};

pub const EMAIL_RESET_API: Api = Api {
    input: Input::Body(schema::<EmailResetRequest>),
    output: schema::<ResetResponse>,
    errors: &[
        &[
            ErrorType::UnableToAuthPasswordResetToken,
            ErrorType::AttributeMismatch,
            ErrorType::UserNotFound,
        ],
        errors::SESSION_OPTIONS,
        errors::NEW_PASSWORD,
        errors::PKCE_VERIFIER,
    ],
};

pub const EXISTING_PASSWORD_RESET_API: Api = Api {
    input: Input::Body(schema::<ExistingPasswordResetRequest>),
    output: schema::<ResetResponse>,
    errors: &[
        &[
            ErrorType::InvalidEmail,
            ErrorType::UnauthorizedCredentials,
            ErrorType::EmailNotFound,
            ErrorType::UserLocked,
            ErrorType::ResetPassword,
        ],
        errors::SESSION_OPTIONS,
        errors::NEW_PASSWORD,
    ],
};

pub const SESSION_RESET_API: Api = Api {
    input: Input::Body(schema::<SessionResetRequest>),
    output: schema::<ResetResponse>,
    errors: &[
        &[
            ErrorType::NoSessionArguments,
            ErrorType::SessionTooOldToResetPassword,
            ErrorType::UserNotFound,
            ErrorType::ResetPassword,
        ],
        errors::ATTACHED_SESSION,
        errors::SESSION_OPTIONS,
        errors::NEW_PASSWORD,
    ],
};

pub const MAGIC_LINK_API: Api = Api {
    input: Input::Body(schema::<MagicLinkRequest>),
    output: schema::<MagicLinkResponse>,
    errors: &[
        &[
            ErrorType::UnableToAuthMagicLink,
            ErrorType::AttributeMismatch,
            ErrorType::UserNotFound,
        ],
        errors::ATTACHED_SESSION,
        errors::SESSION_OPTIONS,
        errors::PKCE_VERIFIER,
    ],
};
