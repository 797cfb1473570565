//! Project authentication: HTTP Basic `project_id:secret`, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{Error, ErrorType};
use crate::state::AppState;

/// Middleware for every route but the public JWKS.
pub async fn require_project(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    if state.credentials.accepts(header) {
        next.run(request).await
    } else {
        Error::new(
            ErrorType::UnauthorizedCredentials,
            "Unauthorized credentials: send HTTP Basic auth with your project_id and secret.",
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use crate::credentials::ExpectedBasicAuth;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn basic(user: &str, pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
    }

    #[test]
    fn accepts_only_the_exact_pair() {
        let c = ExpectedBasicAuth::new("project-test-1", "s3cret:with:colons");
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

#[cfg(test)]
mod proptests {
    use axum::body::Body;
    use axum::http::{HeaderValue, Request, StatusCode};
    use http_body_util::BodyExt;
    use proptest::prelude::*;
    use tower::ServiceExt;

    use super::*;
    use crate::credentials::ExpectedBasicAuth;
    use crate::test_support::{runtime, state, PROJECT_ID, SECRET};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    /// A string equal to `real`, or one edit away from it, or anything.
    fn near(real: &'static str) -> impl Strategy<Value = String> {
        prop_oneof![
            3 => Just(real.to_string()),
            1 => (any::<prop::sample::Index>(), any::<char>()).prop_map(move |(i, c)| {
                let mut s: Vec<char> = real.chars().collect();
                let i = i.index(s.len() + 1);
                s.insert(i, c);
                s.into_iter().collect()
            }),
            1 => any::<prop::sample::Index>().prop_map(move |i| {
                let mut s: Vec<char> = real.chars().collect();
                s.remove(i.index(s.len()));
                s.into_iter().collect()
            }),
            1 => any::<String>(),
        ]
    }

    /// `<scheme><padding><base64 of user:pass><padding>`, with schemes right and wrong.
    fn basic_header(user: &'static str, pass: &'static str) -> impl Strategy<Value = (String, bool)> {
        let scheme = prop::sample::select(vec![
            "Basic ", "basic ", "BASIC ", "Bearer ", "Basic", "Basic  ", " Basic ", "",
        ]);
        let pad = prop::sample::select(vec!["", " ", "\t", "  "]);
        (scheme, pad.clone(), near(user), near(pass), pad).prop_map(move |(scheme, lead, u, p, trail)| {
            let encoded = STANDARD.encode(format!("{u}:{p}"));
            // The oracle: `Basic ` or `basic `, any whitespace, and the base64 of exactly `user:pass`.
            let prefix = format!("{scheme}{lead}");
            let right = (prefix.strip_prefix("Basic ").or_else(|| prefix.strip_prefix("basic ")))
                .is_some_and(|rest| rest.trim().is_empty())
                && format!("{u}:{p}") == format!("{user}:{pass}");
            (format!("{prefix}{encoded}{trail}"), right)
        })
    }

    /// Header values as a client may send them: bytes (not always UTF-8), or Basic-shaped.
    fn header_value() -> impl Strategy<Value = (Vec<u8>, bool)> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..120).prop_map(|b| (b, false)),
            prop::collection::vec(any::<u8>(), 0..120).prop_map(|b| ([b"Basic ".as_slice(), &b].concat(), false)),
            basic_header(PROJECT_ID, SECRET).prop_map(|(h, right)| (h.into_bytes(), right)),
        ]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn only_the_exact_pair_under_basic_is_accepted((header, right) in basic_header(PROJECT_ID, SECRET)) {
            let c = ExpectedBasicAuth::new(PROJECT_ID, SECRET);
            prop_assert_eq!(c.accepts(Some(&header)), right, "{:?}", header);
        }

        #[test]
        fn any_header_string_is_refused(header in prop_oneof![any::<String>(), "(B|b)asic [A-Za-z0-9+/=: ]{0,80}"]) {
            let c = ExpectedBasicAuth::new(PROJECT_ID, SECRET);
            prop_assert!(!c.accepts(Some(&header)), "{:?}", header);
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        #[test]
        fn any_authorization_header_is_unauthorized_unless_exact((bytes, right) in header_value(), send in any::<bool>()) {
            let mut request = Request::get(format!("/v1/users/user-test-{}", uuid::Uuid::nil()));
            if send {
                match HeaderValue::from_bytes(&bytes) {
                    Ok(v) => request = request.header(AUTHORIZATION, v),
                    // Not a header value at all: HTTP never delivers it.
                    Err(_) => return Ok(()),
                }
            }
            let request = request.body(Body::empty()).unwrap();
            let response = runtime()
                .block_on(crate::router(state().clone()).oneshot(request))
                .unwrap();
            let status = response.status();
            let body = runtime().block_on(response.into_body().collect()).unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if send && right {
                prop_assert_eq!(status, StatusCode::NOT_FOUND);
                prop_assert_eq!(&body["error_type"], "user_not_found");
            } else {
                prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
                prop_assert_eq!(&body["error_type"], "unauthorized_credentials");
            }
        }
    }
}
