//! Stytch's error envelope and the closed set of error types Latch answers with.
//!
//! Every failure a caller can act on is one `ErrorType` variant with one HTTP status; everything
//! else is `internal_server_error`, whose cause goes to the logs and never to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id::RequestId;

macro_rules! error_types {
    ($($variant:ident => ($status:expr, $name:literal)),+ $(,)?) => {
        /// The `error_type` values Latch emits, each with the HTTP status it is sent with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorType { $($variant),+ }

        impl ErrorType {
            /// Every variant, for documentation and tests.
            pub const ALL: &'static [ErrorType] = &[$(ErrorType::$variant),+];

            /// The snake_case wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorType::$variant => $name),+ }
            }

            /// The HTTP status this error is answered with.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorType::$variant => $status),+ }
            }
        }
    };
}

error_types! {
    BadRequest => (StatusCode::BAD_REQUEST, "bad_request"),
    InvalidEmail => (StatusCode::BAD_REQUEST, "invalid_email"),
    PasswordTooLong => (StatusCode::BAD_REQUEST, "password_too_long"),
    WeakPassword => (StatusCode::BAD_REQUEST, "weak_password"),
    BreachedPassword => (StatusCode::BAD_REQUEST, "breached_password"),
    DuplicateEmail => (StatusCode::BAD_REQUEST, "duplicate_email"),
    InvalidSessionDurationMinutes => (StatusCode::BAD_REQUEST, "invalid_session_duration_minutes"),
    CustomClaimsTooLarge => (StatusCode::BAD_REQUEST, "custom_claims_too_large"),
    NoSessionArguments => (StatusCode::BAD_REQUEST, "no_session_arguments"),
    TooManySessionArguments => (StatusCode::BAD_REQUEST, "too_many_session_arguments"),
    NoSessionRevokeArguments => (StatusCode::BAD_REQUEST, "no_session_revoke_arguments"),
    TooManySessionRevokeArguments => (StatusCode::BAD_REQUEST, "too_many_session_revoke_arguments"),
    InvalidUserId => (StatusCode::BAD_REQUEST, "invalid_user_id"),
    UnableToParseSessionJwt => (StatusCode::BAD_REQUEST, "unable_to_parse_session_jwt"),
    NoPasswordResetRedirectUrl => (StatusCode::BAD_REQUEST, "no_password_reset_redirect_url"),
    InvalidPasswordResetRedirectUrl => (StatusCode::BAD_REQUEST, "invalid_password_reset_redirect_url"),
    NoLoginRedirectUrl => (StatusCode::BAD_REQUEST, "no_login_redirect_url"),
    InvalidLoginRedirectUrl => (StatusCode::BAD_REQUEST, "invalid_login_redirect_url"),
    InvalidExpiration => (StatusCode::BAD_REQUEST, "invalid_expiration"),
    InvalidLocale => (StatusCode::BAD_REQUEST, "invalid_locale"),
    InvalidPkceCodeChallenge => (StatusCode::BAD_REQUEST, "invalid_pkce_code_challenge"),
    PkceExpectedCodeVerifier => (StatusCode::BAD_REQUEST, "pkce_expected_code_verifier"),
    PkceDidNotExpectCodeVerifier => (StatusCode::BAD_REQUEST, "pkce_did_not_expect_code_verifier"),
    SessionTooOldToResetPassword => (StatusCode::BAD_REQUEST, "session_too_old_to_reset_password"),
    NoSignupRedirectUrl => (StatusCode::BAD_REQUEST, "no_signup_redirect_url"),
    InvalidSignupRedirectUrl => (StatusCode::BAD_REQUEST, "invalid_signup_redirect_url"),
    InvalidOrganizationName => (StatusCode::BAD_REQUEST, "invalid_organization_name"),
    InvalidOrganizationSlug => (StatusCode::BAD_REQUEST, "invalid_organization_slug"),
    AllowedAuthMethodsRequiredForRestricted => (StatusCode::BAD_REQUEST, "allowed_auth_methods_required_for_restricted"),
    AllowedMfaMethodsRequiredForRestricted => (StatusCode::BAD_REQUEST, "allowed_mfa_methods_required_for_restricted"),
    OrganizationSettingsDomainTooCommon => (StatusCode::BAD_REQUEST, "organization_settings_domain_too_common"),
    OrganizationSlugAlreadyUsed => (StatusCode::BAD_REQUEST, "organization_slug_already_used"),
    DuplicateMemberEmail => (StatusCode::BAD_REQUEST, "duplicate_member_email"),
    InvalidMemberGetFields => (StatusCode::BAD_REQUEST, "invalid_member_get_fields"),
    InvalidPhoneNumber => (StatusCode::BAD_REQUEST, "invalid_phone_number"),
    ActiveTotpExists => (StatusCode::BAD_REQUEST, "active_totp_exists"),
    PasswordAlreadyExists => (StatusCode::BAD_REQUEST, "password_already_exists"),
    InvalidHashType => (StatusCode::BAD_REQUEST, "invalid_hash_type"),
    InvalidHash => (StatusCode::BAD_REQUEST, "invalid_hash"),
    InvalidBcryptHash => (StatusCode::BAD_REQUEST, "invalid_bcrypt_hash"),
    InvalidBcryptCost => (StatusCode::BAD_REQUEST, "invalid_bcrypt_cost"),
    InvalidMd5Hash => (StatusCode::BAD_REQUEST, "invalid_md_5_hash"),
    InvalidSha1Hash => (StatusCode::BAD_REQUEST, "invalid_sha_1_hash"),
    InvalidPrependSalt => (StatusCode::BAD_REQUEST, "invalid_prepend_salt"),
    InvalidAppendSalt => (StatusCode::BAD_REQUEST, "invalid_append_salt"),
    InvalidArgon2Salt => (StatusCode::BAD_REQUEST, "invalid_argon_2_salt"),
    InvalidArgon2IterationAmount => (StatusCode::BAD_REQUEST, "invalid_argon_2_iteration_amount"),
    InvalidArgon2Memory => (StatusCode::BAD_REQUEST, "invalid_argon_2_memory"),
    InvalidArgon2Threads => (StatusCode::BAD_REQUEST, "invalid_argon_2_threads"),
    InvalidArgon2KeyLength => (StatusCode::BAD_REQUEST, "invalid_argon_2_key_length"),
    Argon2KeyLengthMismatch => (StatusCode::BAD_REQUEST, "argon_2_key_length_mismatch"),
    InvalidBase64ScryptHash => (StatusCode::BAD_REQUEST, "invalid_base64_scrypt_hash"),
    InvalidBase64ScryptSalt => (StatusCode::BAD_REQUEST, "invalid_base64_scrypt_salt"),
    InvalidScryptNParameter => (StatusCode::BAD_REQUEST, "invalid_scrypt_n_parameter"),
    InvalidScryptParameters => (StatusCode::BAD_REQUEST, "invalid_scrypt_parameters"),
    InvalidScryptSaltLength => (StatusCode::BAD_REQUEST, "invalid_scrypt_salt_length"),
    ScryptKeyLengthMismatch => (StatusCode::BAD_REQUEST, "scrypt_key_length_mismatch"),
    InvalidPbkdf2Hash => (StatusCode::BAD_REQUEST, "invalid_pbkdf_2_hash"),
    InvalidPbkdf2Salt => (StatusCode::BAD_REQUEST, "invalid_pbkdf_2_salt"),
    InvalidPbkdf2IterationAmount => (StatusCode::BAD_REQUEST, "invalid_pbkdf_2_iteration_amount"),
    InvalidPbkdf2Algorithm => (StatusCode::BAD_REQUEST, "invalid_pbkdf_2_algorithm"),
    Pbkdf2KeyLengthMismatch => (StatusCode::BAD_REQUEST, "pbkdf_2_key_length_mismatch"),
    InvalidPhpassHashFormat => (StatusCode::BAD_REQUEST, "invalid_phpass_hash_format"),
    InvalidPhpassHashPrefix => (StatusCode::BAD_REQUEST, "invalid_phpass_hash_prefix"),
    UnauthorizedCredentials => (StatusCode::UNAUTHORIZED, "unauthorized_credentials"),
    ResetPassword => (StatusCode::UNAUTHORIZED, "reset_password"),
    UnableToAuthPasswordResetToken => (StatusCode::UNAUTHORIZED, "unable_to_auth_password_reset_token"),
    UnableToAuthMagicLink => (StatusCode::UNAUTHORIZED, "unable_to_auth_magic_link"),
    PkceMismatch => (StatusCode::UNAUTHORIZED, "pkce_mismatch"),
    AttributeMismatch => (StatusCode::UNAUTHORIZED, "attribute_mismatch"),
    MemberResetPassword => (StatusCode::UNAUTHORIZED, "member_reset_password"),
    UnableToAuthenticateTotp => (StatusCode::UNAUTHORIZED, "unable_to_authenticate_totp"),
    TotpCodeAlreadyAuthenticated => (StatusCode::UNAUTHORIZED, "totp_code_already_authenticated"),
    EmailJitProvisioningNotAllowed => (StatusCode::FORBIDDEN, "email_jit_provisioning_not_allowed"),
    InvalidEmailForJitProvisioning => (StatusCode::FORBIDDEN, "invalid_email_for_jit_provisioning"),
    OperationRestrictedByOrganizationAuthMethods => (StatusCode::FORBIDDEN, "operation_restricted_by_organization_auth_methods"),
    OperationRestrictedByOrganizationMfaMethods => (StatusCode::FORBIDDEN, "operation_restricted_by_organization_mfa_methods"),
    EmailNotFound => (StatusCode::NOT_FOUND, "email_not_found"),
    UserNotFound => (StatusCode::NOT_FOUND, "user_not_found"),
    SessionNotFound => (StatusCode::NOT_FOUND, "session_not_found"),
    RouteNotFound => (StatusCode::NOT_FOUND, "route_not_found"),
    ProjectNotFound => (StatusCode::NOT_FOUND, "project_not_found"),
    OrganizationNotFound => (StatusCode::NOT_FOUND, "organization_not_found"),
    MemberNotFound => (StatusCode::NOT_FOUND, "member_not_found"),
    IntermediateSessionNotFound => (StatusCode::NOT_FOUND, "intermediate_session_not_found"),
    TotpNotFound => (StatusCode::NOT_FOUND, "totp_not_found"),
    MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
    RequestTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request_too_large"),
    // `latch serve`'s transport limits (crate::server): a body that stalls, a head too large.
    RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
    RequestHeaderFieldsTooLarge => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "request_header_fields_too_large"),
    UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    UserLocked => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
    TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
    InternalServerError => (StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error"),
    ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
    EmailSendFailed => (StatusCode::SERVICE_UNAVAILABLE, "email_send_failed"),
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to the client: a type and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub error_type: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            error_type,
            message: message.into(),
        }
    }

    /// An unexpected failure: the cause is logged here, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(request_id = %RequestId::current(), cause = %cause, "internal error");
        Self::new(
            ErrorType::InternalServerError,
            "An unexpected error occurred. The request id identifies it in the server's logs.",
        )
    }

    /// A dependency (the store) is failing or overloaded: retryable.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(request_id = %RequestId::current(), cause = %cause, "dependency unavailable");
        Self::new(
            ErrorType::ServiceUnavailable,
            "The service is temporarily unavailable; nothing was changed. Retry the request.",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.error_type.status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The envelope both official SDKs parse.
#[derive(Debug, Serialize)]
pub struct ErrorEnvelope<'a> {
    pub status_code: u16,
    pub request_id: String,
    pub error_type: &'a str,
    pub error_message: &'a str,
    pub error_url: String,
}

impl ApiError {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, json) = self.envelope_json(&RequestId::current());
        (status, [(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_snake_case_and_statuses_are_errors() {
        for t in ErrorType::ALL {
            let name = t.as_str();
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert!(t.status().as_u16() >= 400, "{name}");
        }
    }
}
