//! Request and response bodies: every rejection becomes a Stytch envelope, every success body
//! carries `status_code` and `request_id` (the Python SDK refuses a body without them).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{ApiError, ErrorType};
use super::request_id::RequestId;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body. Unlike `axum::Json` it does not insist on a Content-Type (curl users
/// forget it) and it answers every failure in Stytch's envelope.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorType::RequestTooLarge,
                    format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
                )
            } else {
                ApiError::new(
                    ErrorType::BadRequest,
                    format!("Could not read the request body: {rejection}"),
                )
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parse a JSON body into `T`, naming what is wrong. An empty body reads as `{}`, so a missing
/// body reports the missing fields rather than a syntax error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "The request body has a missing or invalid field",
            _ => "The request body is not valid JSON",
        };
        ApiError::new(ErrorType::BadRequest, format!("{what}: {e}."))
    })
}

/// Query-string parameters, rejected in the envelope.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        parse_query(query).map(QueryParams)
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::new(ErrorType::BadRequest, "The query string is malformed."))?,
    )
    .map(|q| q.0)
    .map_err(|e| {
        ApiError::new(
            ErrorType::BadRequest,
            format!("Invalid query parameters: {}.", e.body_text()),
        )
    })
}

/// A success body: `{"status_code": 200, "request_id": …, ...T}`.
#[derive(Debug)]
pub struct Reply<T>(pub T);

#[derive(Serialize)]
struct Enveloped<'a, T> {
    status_code: u16,
    request_id: String,
    #[serde(flatten)]
    body: &'a T,
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        axum::Json(Enveloped {
            status_code: 200,
            request_id: RequestId::current().to_string(),
            body: &self.0,
        })
        .into_response()
    }
}
