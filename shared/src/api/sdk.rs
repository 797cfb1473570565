//! The frontend SDK's door, `/sdk/v1` (docs/frontend-sdk.md): what Stytch's browser SDKs
//! (`@stytch/vanilla-js`, `@stytch/react`) send and read, around the same flows the backend
//! routes run.
//!
//! - Only pages on `LATCH_SDK_ORIGINS` get in: the `Origin` a browser sends (or, where it sends
//!   none, the SDK's `X-SDK-Parent-Host`) must be one of them, else 403
//!   `bad_domain_for_stytch_sdk`. CORS answers those origins only, with credentials, never `*`.
//! - Credentials are HTTP Basic `public_token:session_token`, or `public_token:public_token`
//!   when the page holds no session. The public token opens only this door; the project's secret
//!   never opens it (it is not the public token), and the public token never opens `/v1`
//!   (crate::api::auth compares against the project's id and secret).
//! - A success is `{"data": {status_code, request_id, …}}`; an error is the backend's envelope,
//!   unwrapped, as the SDK parses it.

use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::{Error, ErrorType};
use super::json::Enveloped;
use crate::config::SdkSettings;
use crate::state::AppState;

/// The header the SDK names its page's origin in (also on same-origin requests, which carry no
/// `Origin`).
pub const PARENT_HOST: &str = "x-sdk-parent-host";
/// The SDK's telemetry header: allowed by CORS, not read.
const SDK_CLIENT: &str = "x-sdk-client";

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// CORS for the authorized origins: each one echoed, with credentials (the SDK fetches with
/// `credentials: 'include'`), for the headers and methods the SDK uses. A preflight from any
/// other origin gets no `Access-Control-Allow-Origin`, so the browser sends nothing.
pub fn cors(settings: &SdkSettings) -> CorsLayer {
    let origins: Vec<HeaderValue> = settings
        .origins
        .iter()
        .map(|o| HeaderValue::from_str(o).expect("origins are checked at start-up (config::parse_origin)"))
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            axum::http::Method::GET,
            axum::http::Method::POST,
            axum::http::Method::PUT,
            axum::http::Method::DELETE,
        ])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            HeaderName::from_static(SDK_CLIENT),
            HeaderName::from_static(PARENT_HOST),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// An `OPTIONS` request the CORS layer let through: not a preflight (it names no method to
/// ask for), or one from an origin the layer did not allow. 204, no permission granted.
pub async fn preflight() -> axum::http::StatusCode {
    axum::http::StatusCode::NO_CONTENT
}

/// The page's origin, if it is one of the authorized ones.
fn authorized_origin(settings: &SdkSettings, request: &Request) -> Result<(), Error> {
    let headers = request.headers();
    let origin = headers
        .get(ORIGIN)
        .or_else(|| headers.get(PARENT_HOST))
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(o) if settings.origins.iter().any(|allowed| allowed == o) => Ok(()),
        _ => Err(Error::new(
            ErrorType::BadDomainForStytchSdk,
            "This page's origin is not authorized to use the frontend SDK: add it to LATCH_SDK_ORIGINS.",
        )),
    }
}

/// Middleware for a route the SDK calls without credentials (its telemetry): the origin only.
pub async fn require_origin(State(st): State<AppState>, request: Request, next: Next) -> Response {
    match authorized_origin(&st.settings.sdk, &request) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Middleware for every other `/sdk/v1` route: the origin, then the public token; the caller it
/// finds goes to the handler as [`SdkCaller`].
pub async fn require_public_token(State(st): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = authorized_origin(&st.settings.sdk, &request).and_then(|()| {
        let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        SdkCaller::from_authorization(&st.settings.sdk.public_token, header)
    });
    match caller {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// What a call made with the page's own session can fail with: no session in Authorization, or
/// one that is unknown, expired or revoked.
pub const SESSION_ERRORS: &[ErrorType] = &[ErrorType::UserUnauthenticated, ErrorType::SessionNotFound];

/// What the SDK's `session.authenticate` sends (consumer and B2B): on its start-up and
/// background refreshes `{}`, else the duration the app asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkSessionRequest {
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
}

/// Who is calling through the SDK: the session token the page holds, if any.
#[derive(Clone)]
pub struct SdkCaller {
    session_token: Option<String>,
}

impl std::fmt::Debug for SdkCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkCaller")
            .field("has_session", &self.session_token.is_some())
            .finish()
    }
}

fn public_token_not_found() -> Error {
    Error::new(
        ErrorType::PublicTokenNotFound,
        "Send HTTP Basic auth with this project's public token as the user name.",
    )
}

impl SdkCaller {
    fn from_authorization(public_token: &str, header: Option<&str>) -> Result<Self, Error> {
        let (user, password) = crate::credentials::basic_credentials(header).ok_or_else(public_token_not_found)?;
        // A header that is not UTF-8 is refused like a missing one: the SDK sends only ASCII
        // tokens, so the decoding error carries nothing the caller could act on.
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).ok();
        let (Some(user), Some(password)) = (text(user), text(password)) else {
            return Err(public_token_not_found());
        };
        // The public token is public: no constant-time comparison is needed to keep it.
        if user != public_token {
            return Err(public_token_not_found());
        }
        let session_token = (!password.is_empty() && password != public_token).then_some(password);
        Ok(Self { session_token })
    }

    /// The session token the page holds, if any.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// The session token, for a call that needs a session: without one, `user_unauthenticated`,
    /// which the SDK takes as "logged out" (it clears its cookies and stops refreshing).
    pub fn require_session(&self) -> Result<&str, Error> {
        self.session_token().ok_or_else(|| {
            Error::new(
                ErrorType::UserUnauthenticated,
                "This call needs a session: log in first (no session token came in Authorization).",
            )
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SdkCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SdkCaller>()
            .cloned()
            .ok_or_else(|| Error::internal("an SDK handler ran without require_public_token"))
    }
}

/// A success for the SDK: `{"data": {"status_code": 200, "request_id": …, ...T}}`.
#[derive(Debug)]
pub struct SdkReply<T>(pub T);

#[derive(Serialize)]
struct Data<'a, T> {
    data: Enveloped<'a, T>,
}

/// The backend twin's answer, for the SDK.
impl<T> From<super::Reply<T>> for SdkReply<T> {
    fn from(reply: super::Reply<T>) -> Self {
        Self(reply.0)
    }
}

impl<T: Serialize> IntoResponse for SdkReply<T> {
    fn into_response(self) -> Response {
        axum::Json(Data {
            data: Enveloped::ok(&self.0),
        })
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;

    const PT: &str = "public-token-test-00000000-0000-4000-8000-000000000000";

    fn basic(user: &str, pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
    }

    #[test]
    fn the_public_token_twice_is_no_session_and_anything_else_is_the_session_token() {
        let none = SdkCaller::from_authorization(PT, Some(&basic(PT, PT))).unwrap();
        assert_eq!(none.session_token(), None);
        assert_eq!(
            none.require_session().unwrap_err().error_type,
            ErrorType::UserUnauthenticated
        );
        let some = SdkCaller::from_authorization(PT, Some(&basic(PT, "tok:en"))).unwrap();
        assert_eq!(some.session_token(), Some("tok:en"));
        assert_eq!(some.require_session().unwrap(), "tok:en");
    }

    #[test]
    fn anything_but_the_public_token_is_refused() {
        for header in [
            None,
            Some("Bearer x".to_string()),
            Some("Basic !!!".to_string()),
            Some(basic("project-test-1", "secret-test-1")),
            Some(basic(&PT[..PT.len() - 1], PT)),
            Some(format!("Basic {}", STANDARD.encode(PT))),
        ] {
            let e = SdkCaller::from_authorization(PT, header.as_deref()).unwrap_err();
            assert_eq!(e.error_type, ErrorType::PublicTokenNotFound, "{header:?}");
        }
    }
}
