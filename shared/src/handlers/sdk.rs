//! `/sdk/v1`: the frontend SDK's calls that have no backend twin — the project's bootstrap and
//! the SDK's telemetry (docs/frontend-sdk.md).

use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;

use crate::api::json::PathParam;
use crate::api::openapi::Api;
use crate::api::sdk::{SdkCaller, SdkReply};
use crate::api::wire::Empty;
use crate::config::StrengthPolicy;
use crate::error::{Error, ErrorType};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptchaSettings {
    pub enabled: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordConfig {
    pub luds_complexity: usize,
    pub luds_minimum_count: usize,
}

/// A role of the RBAC policy the SDK checks `rbac.isAuthorized` against, in the page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RbacRole {
    pub role_id: &'static str,
    pub description: &'static str,
    pub permissions: Vec<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RbacPolicy {
    pub roles: Vec<RbacRole>,
    pub resources: Vec<Value>,
    pub scopes: Vec<Value>,
}

impl RbacPolicy {
    /// The roles Latch gives, with no permission: Latch enforces no RBAC permission yet (its
    /// session authenticate refuses an `authorization_check`), so the policy it tells the SDK
    /// grants none, and the SDK's local check answers "not authorized" rather than claim a
    /// permission the backend would not hold to.
    fn roles_without_permissions() -> Self {
        let role = |role_id, description| RbacRole {
            role_id,
            description,
            permissions: vec![],
        };
        Self {
            roles: vec![
                role(crate::sessions::objects::MEMBER_ROLE, "Every member."),
                role("stytch_admin", "A member with the stytch_admin role."),
            ],
            resources: vec![],
            scopes: vec![],
        }
    }
}

/// What the SDK reads at start. Every field is sent, null where Latch has nothing to say: the
/// SDK replaces the whole answer by its defaults when one it maps is missing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BootstrapResponse {
    pub project_name: &'static str,
    /// One project serves both the consumer and the B2B SDK, so it names neither.
    pub vertical: Option<&'static str>,
    pub disable_sdk_watermark: bool,
    pub cname_domain: Option<String>,
    /// The inbox shortcuts the SDK offers after a mail: none.
    pub email_domains: Vec<String>,
    /// Captcha and device fingerprinting would load scripts from Google's and Stytch's hosts:
    /// off, so a page using Latch talks to Latch alone.
    pub captcha_settings: CaptchaSettings,
    pub dfp_protected_auth_enabled: bool,
    pub dfp_protected_auth_mode: Option<String>,
    pub pkce_required_for_email_magic_links: bool,
    pub pkce_required_for_password_resets: bool,
    pub pkce_required_for_oauth: bool,
    pub pkce_required_for_sso: bool,
    pub slug_pattern: Option<String>,
    pub create_organization_enabled: bool,
    /// The LUDS rule the UI hints at, or null under zxcvbn.
    pub password_config: Option<PasswordConfig>,
    pub siwe_required_for_crypto_wallets: bool,
    pub rbac_policy: RbacPolicy,
}

/// `GET /sdk/v1/projects/bootstrap/{public_token}`.
pub async fn bootstrap(
    State(st): State<AppState>,
    _caller: SdkCaller,
    PathParam(public_token): PathParam,
) -> Result<SdkReply<BootstrapResponse>, Error> {
    if public_token != st.settings.sdk.public_token {
        return Err(Error::new(
            ErrorType::PublicTokenNotFound,
            "The path names another public token than the one in Authorization.",
        ));
    }
    let password_config = match st.settings.strength {
        StrengthPolicy::Zxcvbn => None,
        StrengthPolicy::Luds {
            min_length,
            min_complexity,
        } => Some(PasswordConfig {
            luds_complexity: min_complexity,
            luds_minimum_count: min_length,
        }),
    };
    Ok(SdkReply(BootstrapResponse {
        project_name: "Latch",
        vertical: None,
        disable_sdk_watermark: true,
        cname_domain: None,
        email_domains: vec![],
        captcha_settings: CaptchaSettings { enabled: false },
        dfp_protected_auth_enabled: false,
        dfp_protected_auth_mode: None,
        pkce_required_for_email_magic_links: false,
        pkce_required_for_password_resets: false,
        pkce_required_for_oauth: false,
        pkce_required_for_sso: false,
        slug_pattern: None,
        create_organization_enabled: false,
        password_config,
        siwe_required_for_crypto_wallets: false,
        rbac_policy: RbacPolicy::roles_without_permissions(),
    }))
}

/// `POST /sdk/v1/events`: the SDK's telemetry, which Latch does not keep. The body is read (so a
/// client is never cut off mid-send) and dropped.
pub async fn events(_body: Bytes) -> SdkReply<Empty> {
    SdkReply(Empty {})
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const BOOTSTRAP_API: Api = Api::bodiless::<BootstrapResponse>(&[]);

pub const EVENTS_API: Api = Api::bodiless::<Empty>(&[]);
