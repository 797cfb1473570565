//! Stytch's error envelope: the HTTP status of each `ErrorType` and the JSON body both official
//! SDKs parse. The outcomes themselves are `crate::error`'s; this is where they become HTTP, and
//! where an unexpected failure's cause is logged, once, with the request id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id::RequestId;
pub use crate::error::{Error, ErrorType};

impl ErrorType {
    /// The HTTP status this error is answered with.
    pub fn status(self) -> StatusCode {
        use ErrorType::*;
        match self {
            BadRequest
            | InvalidEmail
            | PasswordTooLong
            | WeakPassword
            | BreachedPassword
            | DuplicateEmail
            | InvalidSessionDurationMinutes
            | CustomClaimsTooLarge
            | NoSessionArguments
            | TooManySessionArguments
            | NoSessionRevokeArguments
            | TooManySessionRevokeArguments
            | InvalidUserId
            | UnableToParseSessionJwt
            | NoPasswordResetRedirectUrl
            | InvalidPasswordResetRedirectUrl
            | NoLoginRedirectUrl
            | InvalidLoginRedirectUrl
            | InvalidExpiration
            | InvalidLocale
            | InvalidPkceCodeChallenge
            | PkceExpectedCodeVerifier
            | PkceDidNotExpectCodeVerifier
            | SessionTooOldToResetPassword
            | NoSignupRedirectUrl
            | InvalidSignupRedirectUrl
            | InvalidOrganizationName
            | InvalidOrganizationSlug
            | AllowedAuthMethodsRequiredForRestricted
            | AllowedMfaMethodsRequiredForRestricted
            | OrganizationSettingsDomainTooCommon
            | OrganizationSlugAlreadyUsed
            | DuplicateMemberEmail
            | InvalidMemberGetFields
            | InvalidPhoneNumber
            | ActiveTotpExists
            | PasswordAlreadyExists
            | InvalidHashType
            | InvalidHash
            | InvalidBcryptHash
            | InvalidBcryptCost
            | InvalidMd5Hash
            | InvalidSha1Hash
            | InvalidPrependSalt
            | InvalidAppendSalt
            | InvalidArgon2Salt
            | InvalidArgon2IterationAmount
            | InvalidArgon2Memory
            | InvalidArgon2Threads
            | InvalidArgon2KeyLength
            | Argon2KeyLengthMismatch
            | InvalidBase64ScryptHash
            | InvalidBase64ScryptSalt
            | InvalidScryptNParameter
            | InvalidScryptParameters
            | InvalidScryptSaltLength
            | ScryptKeyLengthMismatch
            | InvalidPbkdf2Hash
            | InvalidPbkdf2Salt
            | InvalidPbkdf2IterationAmount
            | InvalidPbkdf2Algorithm
            | Pbkdf2KeyLengthMismatch
            | InvalidPhpassHashFormat
            | InvalidPhpassHashPrefix => StatusCode::BAD_REQUEST,
            UnauthorizedCredentials
            | PublicTokenNotFound
            | UserUnauthenticated
            | ResetPassword
            | UnableToAuthPasswordResetToken
            | UnableToAuthMagicLink
            | PkceMismatch
            | AttributeMismatch
            | MemberResetPassword
            | UnableToAuthenticateTotp
            | TotpCodeAlreadyAuthenticated
            | UnableToAuthenticateRecoveryCode => StatusCode::UNAUTHORIZED,
            EmailJitProvisioningNotAllowed
            | BadDomainForStytchSdk
            | InvalidEmailForJitProvisioning
            | OperationRestrictedByOrganizationAuthMethods
            | OperationRestrictedByOrganizationMfaMethods => StatusCode::FORBIDDEN,
            EmailNotFound
            | UserNotFound
            | SessionNotFound
            | RouteNotFound
            | ProjectNotFound
            | OrganizationNotFound
            | MemberNotFound
            | IntermediateSessionNotFound
            | TotpNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            RequestHeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UserLocked | TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceUnavailable | EmailSendFailed => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        self.error_type.status()
    }
}

/// The envelope both official SDKs parse.
#[derive(Debug, Serialize)]
pub struct ErrorEnvelope<'a> {
    pub status_code: u16,
    pub request_id: String,
    pub error_type: &'a str,
    pub error_message: &'a str,
    pub error_url: String,
}

impl Error {
    /// The status and the JSON envelope of this error for the request `request_id`.
    pub fn envelope_json(&self, request_id: &RequestId) -> (StatusCode, String) {
        let status = self.status();
        let envelope = ErrorEnvelope {
            status_code: status.as_u16(),
            request_id: request_id.to_string(),
            error_type: self.error_type.as_str(),
            error_message: &self.message,
            error_url: format!(
                "https://stytch.com/docs/api-reference/consumer/api/errors/{}#{}",
                status.as_u16(),
                self.error_type.as_str()
            ),
        };
        let json = serde_json::to_string(&envelope).expect("an envelope serializes");
        (status, json)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let request_id = RequestId::current();
        if let Some(cause) = self.cause() {
            if self.status().is_server_error() {
                tracing::error!(request_id = %request_id, error_type = %self.error_type, cause, "request failed");
            } else {
                tracing::warn!(request_id = %request_id, error_type = %self.error_type, cause, "request failed");
            }
        }
        let (status, json) = self.envelope_json(&request_id);
        let mut response = (status, [(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response();
        // Every 503 is retryable (an outage or a full hashing queue): say when, as HTTP does.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// What a 503 tells a client to wait before retrying, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_503_says_when_to_retry_and_a_4xx_does_not() {
        let busy = Error::overloaded().into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[axum::http::header::RETRY_AFTER], RETRY_AFTER_SECONDS);
        let outage = Error::unavailable("the store is down").into_response();
        assert_eq!(outage.headers()[axum::http::header::RETRY_AFTER], RETRY_AFTER_SECONDS);
        let refused = Error::new(ErrorType::BadRequest, "no").into_response();
        assert!(!refused.headers().contains_key(axum::http::header::RETRY_AFTER));
    }

    #[test]
    fn every_error_type_is_answered_with_an_error_status() {
        for t in ErrorType::ALL {
            assert!(t.status().as_u16() >= 400, "{t}");
        }
    }
}
