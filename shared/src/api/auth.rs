//! Project authentication: HTTP Basic `project_id:secret`, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorType};
use crate::state::AppState;

/// What the credentials must hash to. Comparing fixed-size digests keeps the comparison's time
/// independent of where (or whether) the strings differ, and of their lengths.
#[derive(Clone)]
pub struct ProjectCredentials {
    expected: [u8; 32],
}

impl ProjectCredentials {
    pub fn new(project_id: &str, secret: &str) -> Self {
        Self {
            expected: Self::digest(project_id.as_bytes(), secret.as_bytes()),
        }
    }

    fn digest(project_id: &[u8], secret: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((project_id.len() as u64).to_be_bytes());
        h.update(project_id);
        h.update(secret);
        h.finalize().into()
    }

    /// Whether an `Authorization` header value carries this project's credentials.
    pub fn accepts(&self, header: Option<&str>) -> bool {
        let Some(encoded) = header.and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic "))) else {
            return false;
        };
        let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let given = Self::digest(&decoded[..colon], &decoded[colon + 1..]);
        given.ct_eq(&self.expected).into()
    }
}

impl std::fmt::Debug for ProjectCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProjectCredentials(<redacted>)")
    }
}

/// Middleware for every route but the public JWKS.
pub async fn require_project(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if state.credentials.accepts(header) {
        next.run(request).await
    } else {
        ApiError::new(
            ErrorType::UnauthorizedCredentials,
            "Unauthorized credentials: send HTTP Basic auth with your project_id and secret.",
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
    }

    #[test]
    fn accepts_only_the_exact_pair() {
        let c = ProjectCredentials::new("project-test-1", "s3cret:with:colons");
        assert!(c.accepts(Some(&basic("project-test-1", "s3cret:with:colons"))));
        for bad in [
            None,
            Some("Bearer x".to_string()),
            Some("Basic !!!".to_string()),
            Some(basic("project-test-1", "s3cret")),
            Some(basic("project-test-2", "s3cret:with:colons")),
            Some(basic("", "")),
            Some(format!("Basic {}", STANDARD.encode("no-colon"))),
        ] {
            assert!(!c.accepts(bad.as_deref()), "{bad:?}");
        }
    }
}
