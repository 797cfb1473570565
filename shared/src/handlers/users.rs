//! `/v1/users/{user_id}`: get and delete; and what a page may ask through the frontend SDK
//! (`/sdk/v1/users/me`, `/sdk/v1/users/search`).

use crate::api::json::PathParam;
use crate::api::openapi::Api;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::api::sdk::{SdkCaller, SdkReply, SESSION_ERRORS};
use crate::api::wire::UserObject;
use crate::api::{JsonBody, Reply};
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::flows::users::{load, session_user};
use crate::sessions::SessionRef;
use crate::state::AppState;

/// `GET /v1/users/{user_id}`: the user object, fields at top level as Stytch answers.
pub async fn get(State(st): State<AppState>, PathParam(user_id): PathParam) -> Result<Reply<UserObject>, Error> {
    let user = load(&st, &user_id).await?;
    Ok(Reply(UserObject::new(&user, st.clock.now())))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeleteResponse {
    pub user_id: String,
}

/// `DELETE /v1/users/{user_id}`: the user and all their sessions.
pub async fn delete(State(st): State<AppState>, PathParam(user_id): PathParam) -> Result<Reply<DeleteResponse>, Error> {
    let user = load(&st, &user_id).await?;
    if !st.store.delete_user(&user.user_id).await? {
        return Err(Error::new(ErrorType::UserNotFound, "No user has this id."));
    }
    Ok(Reply(DeleteResponse { user_id: user.user_id }))
}

/// `GET /sdk/v1/users/me`: the user of the page's session — the user object itself, fields at the
/// top of `data`, as the SDK's `user.get` reads it.
pub async fn sdk_me(State(st): State<AppState>, caller: SdkCaller) -> Result<SdkReply<UserObject>, Error> {
    let now = st.clock.now();
    let (_, _, user) = session_user(&st, SessionRef::Token(caller.require_session()?), now).await?;
    Ok(SdkReply(UserObject::new(&user, now)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkSearchRequest {
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email: String,
}

/// What the pre-built login shows for an address: sign-up, password, or a passwordless login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    New,
    Password,
    Passwordless,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SdkSearchResponse {
    /// camelCase, as the pre-built UI reads it.
    #[serde(rename = "userType")]
    pub user_type: UserType,
}

/// `POST /sdk/v1/users/search`: whether an address has an account, and a password. Like
/// Stytch's, it tells any page on an authorized origin whether an address is registered: the
/// pre-built login needs it to choose between sign-up and log-in (docs/frontend-sdk.md).
pub async fn sdk_search(
    State(st): State<AppState>,
    _caller: SdkCaller,
    JsonBody(req): JsonBody<SdkSearchRequest>,
) -> Result<SdkReply<SdkSearchResponse>, Error> {
    let email = EmailAddress::parse(&req.email)?;
    let user_type = match st.store.user_by_email(None, email.as_str()).await? {
        None => UserType::New,
        Some(user) if user.password.is_some() => UserType::Password,
        Some(_) => UserType::Passwordless,
    };
    Ok(SdkReply(SdkSearchResponse { user_type }))
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const GET_API: Api = Api::bodiless::<UserObject>(&[&[ErrorType::InvalidUserId, ErrorType::UserNotFound]]);

pub const DELETE_API: Api = Api::bodiless::<DeleteResponse>(&[&[ErrorType::InvalidUserId, ErrorType::UserNotFound]]);

pub const SDK_ME_API: Api = Api::bodiless::<UserObject>(&[SESSION_ERRORS]);

pub const SDK_SEARCH_API: Api = Api::body::<SdkSearchRequest, SdkSearchResponse>(&[&[ErrorType::InvalidEmail]]);
