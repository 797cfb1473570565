//! `/v1/users/{user_id}`: get and delete.

use crate::api::json::PathParam;
use crate::api::openapi::{schema, Api, Input};
use axum::extract::State;
use serde::Serialize;

use crate::api::wire::UserObject;
use crate::api::Reply;
use crate::domain::ids::{looks_like, IdKind};
use crate::error::{Error, ErrorType};
use crate::state::AppState;
use crate::store::UserRecord;

/// Load a user by id: `invalid_user_id` for something that is not an id, `user_not_found`
/// for an id with no user.
pub async fn load(st: &AppState, user_id: &str) -> Result<UserRecord, Error> {
    if !looks_like(IdKind::User, user_id) {
        return Err(Error::new(
            ErrorType::InvalidUserId,
            "user_id is not a user id (user-test-… or user-live-…).",
        ));
    }
    st.store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| Error::new(ErrorType::UserNotFound, "No user has this id."))
}

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

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const GET_API: Api = Api {
    input: Input::None,
    output: schema::<UserObject>,
    errors: &[&[ErrorType::InvalidUserId, ErrorType::UserNotFound]],
};

pub const DELETE_API: Api = Api {
    input: Input::None,
    output: schema::<DeleteResponse>,
    errors: &[&[ErrorType::InvalidUserId, ErrorType::UserNotFound]],
};
