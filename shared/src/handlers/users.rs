//! `/v1/users/{user_id}`: get and delete.

use crate::api::json::PathParam;
use crate::api::openapi::{schema, Api, Input};
use axum::extract::State;
use serde::Serialize;

use crate::api::wire::UserObject;
use crate::api::Reply;
use crate::error::{Error, ErrorType};
use crate::flows::users::load;
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
