//! `/v1/sessions`: authenticate, revoke, list, JWKS.

use crate::api::json::PathParam;
use crate::api::openapi::{errors, Api};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::sdk::{SdkCaller, SdkReply, SdkSessionRequest, SESSION_ERRORS};
use crate::api::wire::{Empty, SessionFields, SessionObject, UserObject};
use crate::api::{JsonBody, QueryParams, Reply};
use crate::domain::SessionDuration;
use crate::error::{Error, ErrorType};
use crate::flows::users::session_user;
use crate::sessions::keys::Jwk;
use crate::sessions::{one_revoke_argument, refuse_authorization_check, Scope, SessionRef};
use crate::state::AppState;

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
    #[serde(flatten)]
    pub session: SessionFields,
    pub user: UserObject,
}

/// `POST /v1/sessions/authenticate`: exactly one of token or JWT. A JWT past its 5-minute `exp`
/// is accepted while its session is active, and a fresh JWT is returned (Stytch's refresh).
pub async fn authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AuthenticateRequest>,
) -> Result<Reply<AuthenticateResponse>, Error> {
    refuse_authorization_check(req.authorization_check.as_ref())?;
    let by = SessionRef::required(req.session_token.as_deref(), req.session_jwt.as_deref())?;
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    let now = st.clock.now();
    let (record, token, user) = session_user(&st, by, now).await?;
    let issued = st
        .sessions
        .authenticated(record, token, None, duration, req.session_custom_claims.as_ref(), now)
        .await?;
    Ok(Reply(AuthenticateResponse {
        session: Some(issued).into(),
        user: UserObject::new(&user, now),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    pub session_id: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
}

/// `POST /v1/sessions/revoke`: exactly one of `session_id`, `session_token`, `session_jwt`.
pub async fn revoke(State(st): State<AppState>, JsonBody(req): JsonBody<RevokeRequest>) -> Result<Reply<Empty>, Error> {
    one_revoke_argument(
        &[&req.session_id, &req.session_token, &req.session_jwt],
        "session_id, session_token or session_jwt",
    )?;
    let now = st.clock.now();
    let session_id = match (req.session_id, req.session_token.as_deref(), req.session_jwt.as_deref()) {
        (Some(id), _, _) if !id.is_empty() => id,
        (_, token, jwt) => {
            st.sessions
                .find(SessionRef::required(token, jwt)?, Scope::Consumer, now)
                .await?
                .0
                .session_id
        }
    };
    st.sessions.revoke(&session_id, Scope::Consumer).await?;
    Ok(Reply(Empty {}))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ListQuery {
    pub user_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse {
    pub sessions: Vec<SessionObject>,
}

/// `GET /v1/sessions?user_id=…`: the user's active sessions.
pub async fn list(
    State(st): State<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Reply<ListResponse>, Error> {
    let user = crate::flows::users::load(&st, &q.user_id).await?;
    let sessions = st.store.sessions_for_user(&user.user_id, st.clock.now()).await?;
    Ok(Reply(ListResponse {
        sessions: sessions.iter().map(SessionObject::from).collect(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwksResponse {
    pub keys: Vec<Jwk>,
}

/// `GET /v1/sessions/jwks/{project_id}`: public, since the SDKs' local verifiers fetch it
/// without credentials.
pub async fn jwks(State(st): State<AppState>, PathParam(project_id): PathParam) -> Result<Reply<JwksResponse>, Error> {
    if project_id != st.settings.project_id {
        return Err(Error::new(ErrorType::ProjectNotFound, "No project has this id."));
    }
    Ok(Reply(JwksResponse {
        keys: st.sessions.keys().jwks(),
    }))
}

// The frontend SDK's doors (crate::api::sdk): the session from Authorization.

/// `POST /sdk/v1/sessions/authenticate`: the SDK calls it on every page load and every
/// 3 minutes. Without a session it is `user_unauthenticated`, which the SDK takes as logged out.
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

/// `POST /sdk/v1/sessions/revoke`: the page's own session; the SDK sends no body.
pub async fn sdk_revoke(st: State<AppState>, caller: SdkCaller) -> Result<SdkReply<Empty>, Error> {
    let req = RevokeRequest {
        session_id: None,
        session_token: Some(caller.require_session()?.to_string()),
        session_jwt: None,
    };
    revoke(st, JsonBody(req)).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const AUTHENTICATE_API: Api = Api::body::<AuthenticateRequest, AuthenticateResponse>(&[
    &[ErrorType::NoSessionArguments, ErrorType::UserNotFound],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
]);

pub const REVOKE_API: Api = Api::body::<RevokeRequest, Empty>(&[errors::SESSION_REVOKE]);

pub const LIST_API: Api =
    Api::query::<ListQuery, ListResponse>(&[&[ErrorType::InvalidUserId, ErrorType::UserNotFound]]);

pub const JWKS_API: Api = Api::bodiless::<JwksResponse>(&[&[ErrorType::ProjectNotFound]]);

pub const SDK_AUTHENTICATE_API: Api =
    Api::body::<SdkSessionRequest, AuthenticateResponse>(&[SESSION_ERRORS, errors::SESSION_OPTIONS]);

pub const SDK_REVOKE_API: Api = Api::bodiless::<Empty>(&[SESSION_ERRORS]);
