//! The per-request id every response body carries (`request_id`).
//!
//! The id lives in a task-local set by [`assign`] around the whole request, so errors produced
//! anywhere (extractor rejections, fallbacks, handlers) can put it in the envelope without
//! threading it through every signature.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static CURRENT: RequestId;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn generate() -> Self {
        Self(format!("request-id-test-{}", uuid::Uuid::new_v4()))
    }

    /// An id given earlier to the same request (its `x-request-id`), for answers made around the
    /// router (`crate::server`).
    pub fn from_existing(id: &str) -> Self {
        Self(id.to_string())
    }

    /// The id of the request being served, or a fresh one outside a request.
    pub fn current() -> Self {
        CURRENT.try_with(Clone::clone).unwrap_or_else(|_| Self::generate())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Middleware: give the request an id, serve it inside that id's scope, and echo the id in a
/// header for log correlation.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = RequestId::generate();
    let header = axum::http::HeaderValue::from_str(id.as_str()).ok();
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = CURRENT
        .scope(id, tracing::Instrument::instrument(next.run(request), span))
        .await;
    if let Some(value) = header {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
