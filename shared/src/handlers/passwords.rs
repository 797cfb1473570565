//! `/v1/passwords`: create, authenticate, strength check.

use crate::api::openapi::{errors, schema, Api, Input};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::wire::{SessionObject, UserObject};
use crate::api::{JsonBody, Reply};
use crate::config::StrengthPolicy;
use crate::domain::ids::{new_id, IdKind};
use crate::domain::{EmailAddress, Password, SessionDuration};
use crate::error::{Error, ErrorType};
use crate::hashing::Verified;
use crate::lockout;
use crate::policy::LudsRequirements;
use crate::sessions::{Issued, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{
    FactorKind, FactorRecord, LockState, LoginRecorded, Name, PasswordRecord, SessionWrite, StoreError, UserRecord,
};

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

/// The session half of a response: empty strings and no session object when none was made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionFields {
    pub session_token: String,
    pub session_jwt: String,
    pub session: Option<SessionObject>,
}

impl From<Option<Issued>> for SessionFields {
    fn from(issued: Option<Issued>) -> Self {
        match issued {
            Some(i) => Self {
                session: Some(SessionObject::from(&i.record)),
                session_token: i.token,
                session_jwt: i.jwt,
            },
            None => Self {
                session_token: String::new(),
                session_jwt: String::new(),
                session: None,
            },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreateResponse {
    pub user_id: String,
    pub email_id: String,
    #[serde(flatten)]
    pub session: SessionFields,
    pub user: UserObject,
}

pub fn password_factor(now: chrono::DateTime<chrono::Utc>) -> FactorRecord {
    FactorRecord {
        kind: FactorKind::Password,
        last_authenticated_at: now,
        created_at: now,
        updated_at: now,
        email_id: None,
        email: None,
        totp_id: None,
    }
}

/// A new consumer user with this password hash, email unverified, nothing else set (not yet
/// stored).
pub(crate) fn new_user(
    st: &AppState,
    email: &EmailAddress,
    hash: String,
    now: chrono::DateTime<chrono::Utc>,
) -> UserRecord {
    UserRecord {
        user_id: new_id(IdKind::User, st.env),
        email: email.as_str().to_string(),
        email_id: new_id(IdKind::Email, st.env),
        email_verified: false,
        password: Some(PasswordRecord {
            password_id: new_id(IdKind::Password, st.env),
            hash,
            requires_reset: false,
        }),
        name: Name::default(),
        trusted_metadata: Map::new(),
        untrusted_metadata: Map::new(),
        created_at: now,
        lock: Default::default(),
        member: None,
        credential_epoch: 0,
    }
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

pub(crate) fn email_not_found() -> Error {
    Error::new(ErrorType::EmailNotFound, "No user has this email address.")
}

fn wrong_credentials() -> Error {
    Error::new(
        ErrorType::UnauthorizedCredentials,
        "The email and password do not match.",
    )
}

pub(crate) fn user_gone() -> Error {
    Error::new(ErrorType::UserNotFound, "The user no longer exists.")
}

pub(crate) fn locked(until: Option<chrono::DateTime<chrono::Utc>>) -> Error {
    let until = until.map(crate::api::wire::timestamp).unwrap_or_default();
    Error::new(
        ErrorType::UserLocked,
        format!("This user is locked after too many failed attempts; the lock expires at {until}."),
    )
}

/// A password proved right under the lockout rules, its success not yet recorded.
pub(crate) struct ProvenPassword {
    /// The user as the claim left them: the attempt counts as a failure until recorded.
    pub user: UserRecord,
    /// The stored password, upgraded to argon2id if it was of an older kind.
    pub stored: PasswordRecord,
    pub ticket: lockout::Ticket,
}

/// Check `password` for the user (`organization_id` None) or the member with this email. The
/// attempt is claimed as the user is read, so racing requests cannot exceed the threshold (L2),
/// and a wrong password needs no further write: the claim counted it. An unknown address costs
/// the same hashing work as a wrong password (E1) before `not_found`. The caller records the
/// success with `record_success`, together with the session it writes.
pub(crate) async fn prove_password(
    st: &AppState,
    organization_id: Option<&str>,
    email: &EmailAddress,
    password: &Password,
    not_found: fn() -> Error,
) -> Result<ProvenPassword, Error> {
    let now = st.clock.now();
    let Some((user, ticket)) = st
        .store
        .claim_login(organization_id, email.as_str(), now, st.settings.lockout)
        .await?
    else {
        st.hasher.dummy_verify(password).await?;
        return Err(not_found());
    };
    let Some(ticket) = ticket else {
        return Err(locked(user.lock.lock_expires_at));
    };
    let Some(stored) = user.password.clone() else {
        st.hasher.dummy_verify(password).await?;
        return Err(wrong_credentials());
    };
    let Verified::Match { upgrade } = st.hasher.verify(password, &stored.hash).await? else {
        return Err(wrong_credentials());
    };
    let stored = match upgrade {
        Some(new_hash) => upgrade_hash(st, &user, stored, new_hash).await,
        None => stored,
    };
    Ok(ProvenPassword { user, stored, ticket })
}

/// Record a proven password's success as one write with the session the login writes (if
/// any): the count of failures starts again. Returns the user as now stored.
pub(crate) async fn record_success(
    st: &AppState,
    proven: ProvenPassword,
    session: Option<SessionWrite<'_>>,
    gone: fn() -> Error,
) -> Result<UserRecord, Error> {
    match st
        .store
        .record_login(&proven.user, proven.ticket, st.clock.now(), session)
        .await?
    {
        LoginRecorded::Recorded => Ok(UserRecord {
            lock: LockState::default(),
            password: Some(proven.stored),
            ..proven.user
        }),
        LoginRecorded::Locked(lock) => Err(locked(lock.lock_expires_at)),
        LoginRecorded::UserGone => Err(gone()),
        LoginRecorded::SessionGone => Err(crate::sessions::not_found()),
    }
}

/// Store the argon2id hash that replaces a just-verified imported (or weaker) one, if the stored
/// hash is still the one verified (docs/security.md H3). With cross-organization passwords the other
/// memberships sharing the hash are upgraded with it. Best effort: a failed write leaves the old
/// hash, which still verifies, and the next login tries again; the login itself stands.
async fn upgrade_hash(st: &AppState, user: &UserRecord, stored: PasswordRecord, new_hash: String) -> PasswordRecord {
    let old_hash = stored.hash.clone();
    let mut targets = vec![user.user_id.clone()];
    if user.member.is_some() && st.settings.cross_org_passwords {
        match st.store.members_with_email(&user.email).await {
            Ok(members) => targets.extend(
                members
                    .into_iter()
                    .filter(|m| m.user_id != user.user_id && m.password.as_ref().is_some_and(|p| p.hash == old_hash))
                    .map(|m| m.user_id),
            ),
            Err(e) => tracing::warn!(error = %e, "could not list the other memberships to upgrade"),
        }
    }
    let mut result = stored;
    for user_id in targets {
        let (old, new) = (old_hash.clone(), new_hash.clone());
        let change = std::sync::Arc::new(move |u: &mut UserRecord| {
            if let Some(p) = u.password.as_mut().filter(|p| p.hash == old) {
                p.hash = new.clone();
            }
        });
        match st.store.update_user(&user_id, change).await {
            Ok(Some(written)) if user_id == user.user_id => {
                if let Some(p) = written.password {
                    result = p;
                }
                tracing::info!(%user_id, "password hash upgraded to argon2id");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(%user_id, error = %e, "could not store the upgraded password hash"),
        }
    }
    result
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

    // A correct password that must be changed: already flagged, or found breached now.
    let must_reset = proven.stored.requires_reset || st.policy.breached_at_login(&password).await;
    if must_reset {
        let (flagged, hash) = (proven.stored.requires_reset, proven.stored.hash.clone());
        let user = record_success(&st, proven, None, user_gone).await?;
        if !flagged {
            st.store.require_password_reset(&user.user_id, &hash).await?;
        }
        return Err(Error::new(
            ErrorType::ResetPassword,
            "The password is correct but must be reset by email before logging in.",
        ));
    }

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

/// What both strength checks answer besides their feedback, whose shape differs (consumer
/// `feedback`, B2B `zxcvbn_feedback`/`luds_feedback`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StrengthVerdict {
    pub valid_password: bool,
    pub score: u8,
    pub breached_password: bool,
    pub strength_policy: &'static str,
    pub breach_detection_on_create: bool,
}

/// Judge a password as both strength checks do. As Stytch documents, the breach check applies
/// when an email is given; `valid_password` then also requires not-breached.
pub(crate) async fn judge(
    st: &AppState,
    password: &Password,
    email: Option<&EmailAddress>,
) -> Result<(StrengthVerdict, crate::policy::Strength), Error> {
    let strength = st.policy.strength(password, email).await?;
    let breached = match email {
        Some(_) => st.policy.breached_for_new_password(password).await?,
        None => false,
    };
    let verdict = StrengthVerdict {
        valid_password: strength.acceptable && !breached,
        score: strength.score,
        breached_password: breached,
        strength_policy: match strength.policy {
            StrengthPolicy::Zxcvbn => "zxcvbn",
            StrengthPolicy::Luds { .. } => "luds",
        },
        breach_detection_on_create: st.policy.breach_on_create(),
    };
    Ok((verdict, strength))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StrengthCheckResponse {
    #[serde(flatten)]
    pub verdict: StrengthVerdict,
    pub feedback: Feedback,
}

/// `POST /v1/passwords/strength_check`.
pub async fn strength_check(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<StrengthCheckRequest>,
) -> Result<Reply<StrengthCheckResponse>, Error> {
    let email = req.email.as_deref().map(EmailAddress::parse).transpose()?;
    let password = Password::parse(req.password)?;
    let (verdict, strength) = judge(&st, &password, email.as_ref()).await?;
    Ok(Reply(StrengthCheckResponse {
        verdict,
        feedback: Feedback {
            warning: strength.warning,
            suggestions: strength.suggestions,
            luds_requirements: strength.luds,
        },
    }))
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const CREATE_API: Api = Api {
    input: Input::Body(schema::<CreateRequest>),
    output: schema::<CreateResponse>,
    errors: &[
        &[ErrorType::InvalidEmail, ErrorType::DuplicateEmail],
        errors::SESSION_OPTIONS,
        errors::NEW_PASSWORD,
    ],
};

pub const AUTHENTICATE_API: Api = Api {
    input: Input::Body(schema::<AuthenticateRequest>),
    output: schema::<AuthenticateResponse>,
    errors: &[
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
    ],
};

pub const STRENGTH_CHECK_API: Api = Api {
    input: Input::Body(schema::<StrengthCheckRequest>),
    output: schema::<StrengthCheckResponse>,
    errors: &[&[ErrorType::PasswordTooLong, ErrorType::InvalidEmail]],
};
