//! Request and response bodies: every rejection becomes a Stytch envelope, every success body
//! carries `status_code` and `request_id` (the Python SDK refuses a body without them).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{Error, ErrorType};
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
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(
                    ErrorType::RequestTooLarge,
                    format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
                )
            } else {
                Error::new(
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
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
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
        Error::new(ErrorType::BadRequest, format!("{what}: {e}."))
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
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        parse_query(query).map(QueryParams)
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|e| Error::new(ErrorType::BadRequest, "The query string is malformed.").caused_by(e))?,
    )
    .map(|q| q.0)
    .map_err(|e| {
        Error::new(
            ErrorType::BadRequest,
            format!("Invalid query parameters: {}.", e.body_text()),
        )
    })
}

/// The one `{name}` segment of a route's path, percent-decoded. Unlike `axum::extract::Path` it
/// answers a segment that does not decode (`%FF`: not UTF-8) in the envelope, not in plain text.
#[derive(Debug)]
pub struct PathParam(pub String);

impl<S> FromRequestParts<S> for PathParam
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| PathParam(p.0))
            .map_err(|e| {
                Error::new(
                    ErrorType::BadRequest,
                    format!("The URL path is invalid: {}.", e.body_text()),
                )
            })
    }
}

/// The two `{name}` segments of a route's path (`/{organization_id}/{member_id}`), as
/// [`PathParam`] reads one.
#[derive(Debug)]
pub struct PathParams2(pub String, pub String);

impl<S> FromRequestParts<S> for PathParams2
where
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map(|p| PathParams2(p.0 .0, p.0 .1))
            .map_err(|e| {
                Error::new(
                    ErrorType::BadRequest,
                    format!("The URL path is invalid: {}.", e.body_text()),
                )
            })
    }
}

/// A success body: `{"status_code": 200, "request_id": …, ...T}`.
#[derive(Debug)]
pub struct Reply<T>(pub T);

/// `body`'s fields after `status_code` and `request_id`: every success, to the backend SDKs
/// as is, to the frontend SDK under `data` (crate::api::sdk::SdkReply).
#[derive(Serialize)]
pub(crate) struct Enveloped<'a, T> {
    status_code: u16,
    request_id: String,
    #[serde(flatten)]
    body: &'a T,
}

impl<'a, T> Enveloped<'a, T> {
    pub(crate) fn ok(body: &'a T) -> Self {
        Self {
            status_code: 200,
            request_id: RequestId::current().to_string(),
            body,
        }
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        axum::Json(Enveloped::ok(&self.0)).into_response()
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;
    use crate::handlers::b2b::magic_links::LoginOrSignupRequest;
    use crate::handlers::b2b::organizations::{CreateMemberRequest, GetMemberQuery, OrganizationFields};
    use crate::handlers::b2b::passwords::AuthenticateRequest as B2bAuthenticateRequest;
    use crate::handlers::passwords::{AuthenticateRequest, CreateRequest};
    use crate::handlers::reset::ResetStartRequest;
    use crate::handlers::sessions::{AuthenticateRequest as SessionsAuthenticateRequest, ListQuery};
    use crate::test_support::json_value;

    /// `T` from `body`, which must parse or fail as `bad_request`.
    fn ok_or_bad_request<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, TestCaseError> {
        match parse_json::<T>(body) {
            Ok(t) => Ok(Some(t)),
            Err(err) => {
                prop_assert_eq!(err.error_type, ErrorType::BadRequest, "{}", err);
                Ok(None)
            }
        }
    }

    /// Every request type these properties try.
    fn each_request_type(body: &[u8]) -> Result<(), TestCaseError> {
        ok_or_bad_request::<CreateRequest>(body)?;
        ok_or_bad_request::<AuthenticateRequest>(body)?;
        ok_or_bad_request::<SessionsAuthenticateRequest>(body)?;
        ok_or_bad_request::<ResetStartRequest>(body)?;
        ok_or_bad_request::<B2bAuthenticateRequest>(body)?;
        ok_or_bad_request::<CreateMemberRequest>(body)?;
        ok_or_bad_request::<LoginOrSignupRequest>(body)?;
        ok_or_bad_request::<OrganizationFields>(body)?;
        Ok(())
    }

    const FIELDS: &[&str] = &[
        "email",
        "password",
        "email_address",
        "organization_id",
        "session_token",
        "session_jwt",
        "session_duration_minutes",
        "session_custom_claims",
        "trusted_metadata",
        "untrusted_metadata",
        "name",
        "attributes",
        "login_redirect_url",
        "pkce_code_challenge",
        "code_challenge",
        "roles",
        "create_member_as_pending",
        "organization_name",
        "sso_jit_provisioning",
        "email_jit_provisioning",
        "email_invites",
        "email_allowed_domains",
        "mfa_policy",
    ];

    /// Objects with the fields of real requests (and others), holding any values.
    fn request_like() -> impl Strategy<Value = Value> {
        let key = prop_oneof![3 => prop::sample::select(FIELDS).prop_map(String::from), 1 => any::<String>()];
        let value = prop_oneof![
            json_value(),
            any::<String>().prop_map(Value::String),
            prop::sample::select(vec![
                "ALL_ALLOWED",
                "RESTRICTED",
                "NOT_ALLOWED",
                "OPTIONAL",
                "REQUIRED_FOR_ALL"
            ])
            .prop_map(Value::from),
        ];
        prop::collection::btree_map(key, value, 0..10).prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    fn string_or_anything() -> impl Strategy<Value = Value> {
        prop_oneof![any::<String>().prop_map(Value::String), json_value()]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn any_bytes_parse_or_are_a_bad_request(
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..200),
                json_value().prop_map(|v| v.to_string().into_bytes()),
                request_like().prop_map(|v| v.to_string().into_bytes()),
                // Truncated, or with a byte changed: the ways a body breaks in transit.
                (request_like(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(v, i, b)| {
                    let mut s = v.to_string().into_bytes();
                    let i = i.index(s.len());
                    if b % 2 == 0 { s.truncate(i) } else { s[i] = b }
                    s
                }),
            ]
        ) {
            each_request_type(&body)?;
        }

        #[test]
        fn whitespace_reads_as_an_empty_object(body in "[ \t\r\n\x0c]{0,20}") {
            // Missing required fields are named, not reported as a syntax error.
            let err = parse_json::<CreateRequest>(body.as_bytes()).unwrap_err();
            prop_assert_eq!(err.error_type, ErrorType::BadRequest);
            prop_assert!(err.message.contains("missing field"), "{}", err.message);
            // A request of optional fields only is fine without a body.
            prop_assert!(parse_json::<OrganizationFields>(body.as_bytes()).is_ok());
        }

        #[test]
        fn a_create_request_parses_iff_its_fields_have_their_types(
            email in string_or_anything(),
            password in string_or_anything(),
            minutes in prop::option::of(prop_oneof![any::<i64>().prop_map(Value::from), json_value()]),
            claims in prop::option::of(prop_oneof![
                prop::collection::btree_map(any::<String>(), json_value(), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                json_value(),
            ]),
            extra in prop::collection::btree_map("x_[a-z]{1,8}", json_value(), 0..3),
        ) {
            let mut body: Map<String, Value> = extra.into_iter().collect();
            body.insert("email".into(), email.clone());
            body.insert("password".into(), password.clone());
            if let Some(m) = &minutes {
                body.insert("session_duration_minutes".into(), m.clone());
            }
            if let Some(c) = &claims {
                body.insert("session_custom_claims".into(), c.clone());
            }
            let well_typed = email.is_string()
                && password.is_string()
                && minutes.as_ref().is_none_or(|m| m.is_null() || m.is_i64())
                && claims.as_ref().is_none_or(|c| c.is_null() || c.is_object());
            let bytes = Value::Object(body).to_string().into_bytes();
            match ok_or_bad_request::<CreateRequest>(&bytes)? {
                Some(req) => {
                    prop_assert!(well_typed, "accepted {}", String::from_utf8_lossy(&bytes));
                    prop_assert_eq!(Some(req.email.as_str()), email.as_str());
                    prop_assert_eq!(Some(req.password.as_str()), password.as_str());
                    prop_assert_eq!(req.session_duration_minutes, minutes.as_ref().and_then(Value::as_i64));
                    // Compared with what serde_json reads from the same text: without its
                    // `float_roundtrip` feature a float may come back one ulp off.
                    let claims = claims.map(|c| serde_json::from_str::<Value>(&c.to_string()).unwrap());
                    prop_assert_eq!(req.session_custom_claims.as_ref(), claims.as_ref().and_then(Value::as_object));
                }
                None => prop_assert!(!well_typed, "refused {}", String::from_utf8_lossy(&bytes)),
            }
        }

        #[test]
        fn deep_nesting_is_refused_without_overflowing(depth in 1usize..20_000) {
            let claims = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let body = format!(r#"{{"email":"a@b.co","password":"p","session_custom_claims":{{"k":{claims}}}}}"#);
            let parsed = ok_or_bad_request::<CreateRequest>(body.as_bytes())?;
            if depth <= 100 {
                prop_assert!(parsed.is_some(), "depth {depth} was refused");
            } else if depth > 200 {
                prop_assert!(parsed.is_none(), "depth {depth} was accepted");
            }
        }

        #[test]
        fn any_query_string_parses_or_is_a_bad_request(
            query in prop_oneof![any::<String>(), "[A-Za-z0-9_=&%+.~*-]{0,80}", "user_id=[^&#]{0,40}(&[a-z_]{1,12}=[^&#]{0,20}){0,3}"]
        ) {
            for result in [
                parse_query::<ListQuery>(&query).map(|_| ()),
                parse_query::<GetMemberQuery>(&query).map(|_| ()),
            ] {
                if let Err(err) = result {
                    prop_assert_eq!(err.error_type, ErrorType::BadRequest, "{}", err);
                }
            }
        }

        #[test]
        fn form_encoded_parameters_round_trip(
            user_id in any::<String>(),
            member_id in prop::option::of(any::<String>()),
            other in "[a-z]{1,8}",
        ) {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let q = parse_query::<ListQuery>(&format!("x{other}={}&user_id={}", enc(&other), enc(&user_id)))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(q.user_id, user_id);
            let query = member_id.as_deref().map(|m| format!("member_id={}", enc(m))).unwrap_or_default();
            let q = parse_query::<GetMemberQuery>(&query).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(q.member_id, member_id);
            prop_assert_eq!(q.email_address, None);
        }

        #[test]
        fn a_missing_required_query_parameter_is_a_bad_request(other in "[a-z]{1,8}=[a-z]{0,8}") {
            let err = parse_query::<ListQuery>(&other).unwrap_err();
            prop_assert_eq!(err.error_type, ErrorType::BadRequest);
        }
    }
}
