//! What a request can come to besides success: the closed set of outcomes a caller can act on
//! (`ErrorType`, named as Stytch names them on the wire) and the error every layer returns.
//!
//! Nothing here knows HTTP: `crate::api::error` gives each type its status and turns an `Error`
//! into Stytch's envelope, logging the cause of an unexpected one with the request id there, once.

macro_rules! error_types {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// The `error_type` values Latch emits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorType { $($variant),+ }

        impl ErrorType {
            /// Every variant, for documentation and tests.
            pub const ALL: &'static [ErrorType] = &[$(ErrorType::$variant),+];

            /// The snake_case wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorType::$variant => $name),+ }
            }
        }
    };
}

error_types! {
    BadRequest => "bad_request",
    InvalidEmail => "invalid_email",
    PasswordTooLong => "password_too_long",
    WeakPassword => "weak_password",
    BreachedPassword => "breached_password",
    DuplicateEmail => "duplicate_email",
    InvalidSessionDurationMinutes => "invalid_session_duration_minutes",
    CustomClaimsTooLarge => "custom_claims_too_large",
    NoSessionArguments => "no_session_arguments",
    TooManySessionArguments => "too_many_session_arguments",
    NoSessionRevokeArguments => "no_session_revoke_arguments",
    TooManySessionRevokeArguments => "too_many_session_revoke_arguments",
    InvalidUserId => "invalid_user_id",
    UnableToParseSessionJwt => "unable_to_parse_session_jwt",
    NoPasswordResetRedirectUrl => "no_password_reset_redirect_url",
    InvalidPasswordResetRedirectUrl => "invalid_password_reset_redirect_url",
    NoLoginRedirectUrl => "no_login_redirect_url",
    InvalidLoginRedirectUrl => "invalid_login_redirect_url",
    InvalidExpiration => "invalid_expiration",
    InvalidLocale => "invalid_locale",
    InvalidPkceCodeChallenge => "invalid_pkce_code_challenge",
    PkceExpectedCodeVerifier => "pkce_expected_code_verifier",
    PkceDidNotExpectCodeVerifier => "pkce_did_not_expect_code_verifier",
    SessionTooOldToResetPassword => "session_too_old_to_reset_password",
    NoSignupRedirectUrl => "no_signup_redirect_url",
    InvalidSignupRedirectUrl => "invalid_signup_redirect_url",
    InvalidOrganizationName => "invalid_organization_name",
    InvalidOrganizationSlug => "invalid_organization_slug",
    AllowedAuthMethodsRequiredForRestricted => "allowed_auth_methods_required_for_restricted",
    AllowedMfaMethodsRequiredForRestricted => "allowed_mfa_methods_required_for_restricted",
    OrganizationSettingsDomainTooCommon => "organization_settings_domain_too_common",
    OrganizationSlugAlreadyUsed => "organization_slug_already_used",
    DuplicateMemberEmail => "duplicate_member_email",
    InvalidMemberGetFields => "invalid_member_get_fields",
    InvalidPhoneNumber => "invalid_phone_number",
    ActiveTotpExists => "active_totp_exists",
    PasswordAlreadyExists => "password_already_exists",
    InvalidHashType => "invalid_hash_type",
    InvalidHash => "invalid_hash",
    InvalidBcryptHash => "invalid_bcrypt_hash",
    InvalidBcryptCost => "invalid_bcrypt_cost",
    InvalidMd5Hash => "invalid_md_5_hash",
    InvalidSha1Hash => "invalid_sha_1_hash",
    InvalidPrependSalt => "invalid_prepend_salt",
    InvalidAppendSalt => "invalid_append_salt",
    InvalidArgon2Salt => "invalid_argon_2_salt",
    InvalidArgon2IterationAmount => "invalid_argon_2_iteration_amount",
    InvalidArgon2Memory => "invalid_argon_2_memory",
    InvalidArgon2Threads => "invalid_argon_2_threads",
    InvalidArgon2KeyLength => "invalid_argon_2_key_length",
    Argon2KeyLengthMismatch => "argon_2_key_length_mismatch",
    InvalidBase64ScryptHash => "invalid_base64_scrypt_hash",
    InvalidBase64ScryptSalt => "invalid_base64_scrypt_salt",
    InvalidScryptNParameter => "invalid_scrypt_n_parameter",
    InvalidScryptParameters => "invalid_scrypt_parameters",
    InvalidScryptSaltLength => "invalid_scrypt_salt_length",
    ScryptKeyLengthMismatch => "scrypt_key_length_mismatch",
    InvalidPbkdf2Hash => "invalid_pbkdf_2_hash",
    InvalidPbkdf2Salt => "invalid_pbkdf_2_salt",
    InvalidPbkdf2IterationAmount => "invalid_pbkdf_2_iteration_amount",
    InvalidPbkdf2Algorithm => "invalid_pbkdf_2_algorithm",
    Pbkdf2KeyLengthMismatch => "pbkdf_2_key_length_mismatch",
    InvalidPhpassHashFormat => "invalid_phpass_hash_format",
    InvalidPhpassHashPrefix => "invalid_phpass_hash_prefix",
    UnauthorizedCredentials => "unauthorized_credentials",
    // The frontend SDK's door (`/sdk/v1`, crate::api::sdk).
    PublicTokenNotFound => "public_token_not_found",
    UserUnauthenticated => "user_unauthenticated",
    BadDomainForStytchSdk => "bad_domain_for_stytch_sdk",
    ResetPassword => "reset_password",
    UnableToAuthPasswordResetToken => "unable_to_auth_password_reset_token",
    UnableToAuthMagicLink => "unable_to_auth_magic_link",
    PkceMismatch => "pkce_mismatch",
    AttributeMismatch => "attribute_mismatch",
    MemberResetPassword => "member_reset_password",
    UnableToAuthenticateTotp => "unable_to_authenticate_totp",
    TotpCodeAlreadyAuthenticated => "totp_code_already_authenticated",
    UnableToAuthenticateRecoveryCode => "unable_to_authenticate_recovery_code",
    EmailJitProvisioningNotAllowed => "email_jit_provisioning_not_allowed",
    InvalidEmailForJitProvisioning => "invalid_email_for_jit_provisioning",
    OperationRestrictedByOrganizationAuthMethods => "operation_restricted_by_organization_auth_methods",
    OperationRestrictedByOrganizationMfaMethods => "operation_restricted_by_organization_mfa_methods",
    EmailNotFound => "email_not_found",
    UserNotFound => "user_not_found",
    SessionNotFound => "session_not_found",
    RouteNotFound => "route_not_found",
    ProjectNotFound => "project_not_found",
    OrganizationNotFound => "organization_not_found",
    MemberNotFound => "member_not_found",
    IntermediateSessionNotFound => "intermediate_session_not_found",
    TotpNotFound => "totp_not_found",
    MethodNotAllowed => "method_not_allowed",
    RequestTooLarge => "request_too_large",
    // `latch serve`'s transport limits (crate::server): a body that stalls, a head too large.
    RequestTimeout => "request_timeout",
    RequestHeaderFieldsTooLarge => "request_header_fields_too_large",
    UnsupportedMediaType => "unsupported_media_type",
    UserLocked => "too_many_requests",
    TooManyRequests => "too_many_requests",
    InternalServerError => "internal_server_error",
    ServiceUnavailable => "service_unavailable",
    EmailSendFailed => "email_send_failed",
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request's failure: a type and the message the client reads, and for an unexpected failure or
/// an outage the cause, which goes to the logs only (`crate::api::error` logs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub error_type: ErrorType,
    pub message: String,
    cause: Option<String>,
}

/// The message of every unexpected failure: the cause stays in the logs.
const INTERNAL_MESSAGE: &str = "An unexpected error occurred. The request id identifies it in the server's logs.";
/// The message of every outage of a dependency.
const UNAVAILABLE_MESSAGE: &str = "The service is temporarily unavailable; nothing was changed. Retry the request.";

impl Error {
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            error_type,
            message: message.into(),
            cause: None,
        }
    }

    /// An unexpected failure: the client gets a generic message, the logs get `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(ErrorType::InternalServerError, INTERNAL_MESSAGE)
        }
    }

    /// A dependency (the store, the mail service) is failing or overloaded: retryable.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(ErrorType::ServiceUnavailable, UNAVAILABLE_MESSAGE)
        }
    }

    /// Latch itself is at capacity (its hashing queue is full): retryable, nothing was done.
    pub fn overloaded() -> Self {
        Self::new(
            ErrorType::ServiceUnavailable,
            "Latch is at its password-hashing capacity; nothing was changed. Retry the request shortly.",
        )
    }

    /// This error with the cause that led to it, for the logs (the message is unchanged).
    pub fn caused_by(self, cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..self
        }
    }

    /// What led to this error, when it is worth logging.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for Error {}

/// `error` and every error below it, outermost first: "a: b: c".
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        // Many errors repeat their source in their own message; say each part once.
        if !chain.ends_with(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = inner.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_snake_case() {
        for t in ErrorType::ALL {
            let name = t.as_str();
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn the_cause_reaches_the_logs_not_the_message() {
        let e = Error::unavailable("table is throttled");
        assert_eq!(e.cause(), Some("table is throttled"));
        assert!(!e.message.contains("throttled"));
    }
}
