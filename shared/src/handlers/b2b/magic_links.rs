//! `/v1/b2b/magic_links`: email login-or-signup, and authenticate.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::b2b_wire::{AuthFields, MemberObject, MemberResponse, OrganizationObject};
use crate::api::openapi::{errors, Api};
use crate::api::sdk::{SdkCaller, SdkReply};
use crate::api::wire::Empty;
use crate::api::{JsonBody, Reply};
use crate::domain::pkce::CodeChallenge;
use crate::domain::{EmailAddress, SessionDuration};
use crate::error::{Error, ErrorType};
use crate::flows::emailed_links::{
    check_locale, email_factor, limit_emails, link_lifetime, redeemable_member_link, send_mail, B2B_MAGIC_LINK_TYPE,
};
use crate::flows::members::{
    inherit_password, insert_member, load_org, member_by_email, member_not_found, new_member, require_auth_method,
};
use crate::flows::mfa::{self, Primary};
use crate::flows::tokens::{self, NewToken};
use crate::mail::Message;
use crate::redirects::{self, LinkKind};
use crate::state::AppState;
use crate::store::{AuthMethod, JitProvisioning, MemberStatus, OrganizationRecord, TokenKind, UserRecord};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginOrSignupRequest {
    pub organization_id: String,
    #[schema(schema_with = crate::api::openapi::fields::email)]
    pub email_address: String,
    pub login_redirect_url: Option<String>,
    pub signup_redirect_url: Option<String>,
    pub pkce_code_challenge: Option<String>,
    pub locale: Option<String>,
    pub login_expiration_minutes: Option<i64>,
    pub signup_expiration_minutes: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginOrSignupResponse {
    pub member_created: bool,
    #[serde(flatten)]
    pub member: MemberResponse,
}

/// May a new member with this email join `org` through an email link (JIT provisioning)?
fn check_jit(org: &OrganizationRecord, email: &EmailAddress) -> Result<(), Error> {
    match org.email_jit_provisioning {
        JitProvisioning::NotAllowed => Err(Error::new(
            ErrorType::EmailJitProvisioningNotAllowed,
            "This organization does not let new members join by email (email_jit_provisioning is NOT_ALLOWED).",
        )),
        JitProvisioning::Restricted => {
            let domain = email.as_str().rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            if org.email_allowed_domains.iter().any(|d| d == domain) {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorType::InvalidEmailForJitProvisioning,
                    "The email's domain is not one of the organization's email_allowed_domains.",
                ))
            }
        }
    }
}

/// `POST /v1/b2b/magic_links/email/login_or_signup`: a login link for a member, or (JIT
/// provisioning allowing) a new `pending` member and a signup link.
pub async fn login_or_signup(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<LoginOrSignupRequest>,
) -> Result<Reply<LoginOrSignupResponse>, Error> {
    let email = EmailAddress::parse(&req.email_address)?;
    let cfg = &st.settings.email;
    let login_url = redirects::resolve(
        LinkKind::Login,
        req.login_redirect_url.as_deref(),
        cfg.login_redirect_url.as_deref(),
        &cfg.allowed_redirect_urls,
    )?;
    let signup_url = redirects::resolve(
        LinkKind::Signup,
        req.signup_redirect_url.as_deref(),
        cfg.signup_redirect_url.as_deref(),
        &cfg.allowed_redirect_urls,
    )?;
    let login_lifetime = link_lifetime("login_expiration_minutes", req.login_expiration_minutes, 60)?;
    let signup_lifetime = link_lifetime("signup_expiration_minutes", req.signup_expiration_minutes, 60)?;
    let challenge = CodeChallenge::parse_opt(req.pkce_code_challenge.as_deref())?;
    check_locale(req.locale.as_deref())?;
    let org = load_org(&st, &req.organization_id).await?;
    require_auth_method(&org, AuthMethod::MagicLink)?;
    limit_emails(
        &st,
        &format!("b2b_magic_link:{} {}", org.organization_id, email.as_str()),
    )
    .await?;

    let (member, created) = match member_by_email(&st, &org, &email).await? {
        Some(member) => (member, false),
        None => {
            check_jit(&org, &email)?;
            let mut member = new_member(&st, &org, &email, MemberStatus::Pending);
            inherit_password(&st, &mut member).await?;
            match insert_member(&st, &member).await {
                Ok(()) => (member, true),
                // Another request created the member first: send that member a login link.
                Err(e) if e.error_type == ErrorType::DuplicateMemberEmail => (
                    member_by_email(&st, &org, &email).await?.ok_or_else(member_not_found)?,
                    false,
                ),
                Err(e) => return Err(e),
            }
        }
    };
    let (url, link_kind, lifetime, template) = if created {
        (signup_url, LinkKind::Signup, signup_lifetime, &st.b2b_signup_template)
    } else {
        (login_url, LinkKind::Login, login_lifetime, &st.b2b_login_template)
    };
    let (token, record) = tokens::issue(
        &st,
        NewToken {
            organization_id: Some(&org.organization_id),
            code_challenge: challenge.as_ref(),
            ..NewToken::new(TokenKind::MultiTenantMagicLink, &member, lifetime)
        },
    );
    let link = redirects::link(url, link_kind, B2B_MAGIC_LINK_TYPE, &token);
    let minutes = lifetime.num_minutes().to_string();
    let (subject, text, html) = template.render(&[
        ("email", &member.email),
        ("organization", &org.organization_name),
        ("url", &link),
        ("expiration_minutes", &minutes),
    ]);
    send_mail(
        &st,
        &Message {
            to: member.email.clone(),
            from: cfg.from.clone(),
            subject,
            text,
            html,
            links: vec![link],
        },
    )
    .await?;
    st.store.insert_tokens(&[record]).await?;
    Ok(Reply(LoginOrSignupResponse {
        member_created: created,
        member: MemberResponse::new(&member, &org, st.clock.now()),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AuthenticateRequest {
    pub magic_links_token: String,
    pub pkce_code_verifier: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Map<String, Value>>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthenticateResponse {
    pub member_id: String,
    pub method_id: String,
    pub reset_sessions: bool,
    pub organization_id: String,
    pub member: MemberObject,
    pub organization: OrganizationObject,
    #[serde(flatten)]
    pub auth: AuthFields,
}

/// `POST /v1/b2b/magic_links/authenticate`: use the link once, make the member active with a
/// verified email, then the MFA rule.
pub async fn authenticate(
    State(st): State<AppState>,
    JsonBody(req): JsonBody<AuthenticateRequest>,
) -> Result<Reply<AuthenticateResponse>, Error> {
    let duration = SessionDuration::parse_opt(req.session_duration_minutes)?;
    crate::sessions::check_custom_claims(req.session_custom_claims.as_ref())?;
    check_locale(req.locale.as_deref())?;
    let (token, org, member) = redeemable_member_link(
        &st,
        &req.magic_links_token,
        TokenKind::MultiTenantMagicLink,
        req.pkce_code_verifier.as_deref(),
    )
    .await?;
    require_auth_method(&org, AuthMethod::MagicLink)?;
    let now = st.clock.now();
    // Resolve the session and IST before consuming, so a bad one does not burn the link.
    let attach = mfa::attached_session(
        &st,
        req.session_token.as_deref(),
        req.session_jwt.as_deref(),
        &org,
        &member.user_id,
    )
    .await?;
    let ist = mfa::find_ist(&st, req.intermediate_session_token.as_deref(), &org, &member.user_id).await?;
    if !st.store.consume_token(&token).await? {
        return Err(Error::new(
            ErrorType::UnableToAuthMagicLink,
            "The magic link was already used.",
        ));
    }
    // The link proves the email. Unlike a consumer's (`store::prove_email`), a member's first
    // proof flags no password: no B2B path sets one before the address is proven (the email
    // reset proves it, migrate asserts it), so a member holds a password beside an unverified
    // email only by cross-organization inheritance of one set that way (with its pending reset,
    // if any). Flagging it would force a reset on every magic-link join, for no attacker.
    let activate = std::sync::Arc::new(|u: &mut UserRecord| {
        u.email_verified = true;
        if let Some(m) = u.member.as_mut() {
            if matches!(m.status, MemberStatus::Pending | MemberStatus::Invited) {
                m.status = MemberStatus::Active;
            }
        }
    });
    let member = st
        .store
        .update_user(&member.user_id, activate)
        .await?
        .ok_or_else(member_not_found)?;
    let decision = mfa::decide(
        &st,
        Primary {
            org: &org,
            member: &member,
            factor: email_factor(&member, now),
            attach,
            ist,
            duration,
            custom_claims: req.session_custom_claims.as_ref(),
        },
        now,
    )?;
    let outcome = mfa::carry_out(&st, &org, &member, decision).await?;
    Ok(Reply(AuthenticateResponse {
        member_id: member.user_id.clone(),
        method_id: member.email_id.clone(),
        reset_sessions: false,
        organization_id: org.organization_id.clone(),
        auth: AuthFields::new(outcome, &member),
        member: MemberObject::new(&member, now),
        organization: OrganizationObject::from(&org),
    }))
}

// The frontend SDK's doors (`/sdk/v1/b2b/magic_links/…`, crate::api::sdk): what the browser SDK
// sends, the session from Authorization, no custom claims; each runs its backend twin above.

/// `POST /sdk/v1/b2b/magic_links/email/login_or_signup`: the same send, answered without the
/// member (the page learns only that a mail went out). The organization's JIT rules decide
/// whether an unknown address may sign up, as they do for the backend call.
pub async fn sdk_login_or_signup(
    st: State<AppState>,
    _caller: SdkCaller,
    body: JsonBody<LoginOrSignupRequest>,
) -> Result<SdkReply<Empty>, Error> {
    login_or_signup(st, body).await?;
    Ok(SdkReply(Empty {}))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SdkAuthenticateRequest {
    pub magic_links_token: String,
    pub pkce_code_verifier: Option<String>,
    #[schema(schema_with = crate::api::openapi::fields::optional_session_duration_minutes)]
    pub session_duration_minutes: Option<i64>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
}

/// `POST /sdk/v1/b2b/magic_links/authenticate`: the session the page holds, if any, gets the
/// factor.
pub async fn sdk_authenticate(
    st: State<AppState>,
    caller: SdkCaller,
    JsonBody(req): JsonBody<SdkAuthenticateRequest>,
) -> Result<SdkReply<AuthenticateResponse>, Error> {
    let req = AuthenticateRequest {
        magic_links_token: req.magic_links_token,
        pkce_code_verifier: req.pkce_code_verifier,
        session_token: caller.session_token().map(str::to_string),
        session_jwt: None,
        session_duration_minutes: req.session_duration_minutes,
        session_custom_claims: None,
        locale: req.locale,
        intermediate_session_token: req.intermediate_session_token,
    };
    authenticate(st, JsonBody(req)).await.map(SdkReply::from)
}

// What each endpoint takes and answers, for the OpenAPI document (`crate::api::openapi`).

pub const LOGIN_OR_SIGNUP_API: Api = Api::body::<LoginOrSignupRequest, LoginOrSignupResponse>(&[
    &[
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ErrorType::InvalidEmail,
        ErrorType::EmailJitProvisioningNotAllowed,
        ErrorType::InvalidEmailForJitProvisioning,
        ErrorType::DuplicateMemberEmail,
        ErrorType::NoLoginRedirectUrl,
        ErrorType::InvalidLoginRedirectUrl,
        ErrorType::NoSignupRedirectUrl,
        ErrorType::InvalidSignupRedirectUrl,
    ],
    errors::EMAILED_LINK,
]);

pub const AUTHENTICATE_API: Api = Api::body::<AuthenticateRequest, AuthenticateResponse>(&[
    &[
        ErrorType::UnableToAuthMagicLink,
        ErrorType::InvalidLocale,
        ErrorType::OrganizationNotFound,
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ErrorType::MemberNotFound,
        ErrorType::IntermediateSessionNotFound,
    ],
    errors::ATTACHED_SESSION,
    errors::SESSION_OPTIONS,
    errors::PKCE_VERIFIER,
]);

pub const SDK_LOGIN_OR_SIGNUP_API: Api = LOGIN_OR_SIGNUP_API.answering::<Empty>();

pub const SDK_AUTHENTICATE_API: Api = AUTHENTICATE_API.taking::<SdkAuthenticateRequest>();
