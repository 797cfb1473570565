//! Emailed links, consumer and B2B: where they point, how long they live, how many an address
//! gets, how they are sent, and the checks a link passes before it is redeemed. A link is
//! consumed by the store in the same write as what it authorises, never here.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::time::Instant;

use super::members::find_member;
use super::tokens::{self, NewToken};
use crate::domain::pkce::{self, CodeChallenge};
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::mail::{MailFailure, Message};
use crate::redirects::{self, LinkKind};
use crate::state::AppState;
use crate::store::{Attributes, FactorKind, FactorRecord, OrganizationRecord, TokenKind, TokenRecord, UserRecord};

/// The `stytch_token_type` of each emailed link, as the SDKs' redirect handlers expect it.
pub const RESET_LINK_TYPE: &str = "reset_password";
pub const MAGIC_LINK_TYPE: &str = "magic_links";
pub const B2B_RESET_LINK_TYPE: &str = "multi_tenant_passwords";
pub const B2B_MAGIC_LINK_TYPE: &str = "multi_tenant_magic_links";

const LOCALES: &[&str] = &["en", "es", "pt-br", "fr"];

/// How long an emailed link lives: `minutes` (5 to 10080) or the default.
pub fn link_lifetime(field: &str, minutes: Option<i64>, default: i64) -> Result<chrono::Duration, Error> {
    let m = minutes.unwrap_or(default);
    if !(5..=10_080).contains(&m) {
        return Err(Error::new(
            ErrorType::InvalidExpiration,
            format!("{field} must be between 5 and 10080."),
        ));
    }
    Ok(chrono::Duration::minutes(m))
}

/// `reset_password_expiration_minutes` (consumer and B2B): 5 to 10080, default 30.
pub fn reset_lifetime(minutes: Option<i64>) -> Result<chrono::Duration, Error> {
    link_lifetime("reset_password_expiration_minutes", minutes, 30)
}

/// `locale` must be one Stytch knows (templates are English only; see README).
pub fn check_locale(locale: Option<&str>) -> Result<(), Error> {
    match locale.filter(|l| !LOCALES.contains(l)) {
        Some(locale) => Err(Error::new(
            ErrorType::InvalidLocale,
            format!("locale {locale:?} is not one of en, es, pt-br, fr."),
        )),
        None => Ok(()),
    }
}

/// Count one email for `key` in this hour's window; `too_many_requests` past the limit. Counted
/// for unknown addresses too, so the limit says nothing about who exists (docs/security.md L4).
pub async fn limit_emails(st: &AppState, key: &str) -> Result<(), Error> {
    let now = st.clock.now();
    let window = now - chrono::Duration::seconds(now.timestamp().rem_euclid(3600));
    let sent = st.store.hit_rate_limit(key, window).await?;
    if sent > st.settings.email.reset_start_limit_per_hour {
        return Err(Error::new(
            ErrorType::TooManyRequests,
            "Too many emails for this address; try again within the hour.",
        ));
    }
    Ok(())
}

/// The reset email's two targets: the reset link's and the "log in without a password" link's,
/// each from the request or the configured default, on the allow-list.
pub fn reset_urls(st: &AppState, reset: Option<&str>, login: Option<&str>) -> Result<(url::Url, url::Url), Error> {
    let cfg = &st.settings.email;
    Ok((
        redirects::resolve(
            LinkKind::ResetPassword,
            reset,
            cfg.reset_password_redirect_url.as_deref(),
            &cfg.allowed_redirect_urls,
        )?,
        redirects::resolve(
            LinkKind::Login,
            login,
            cfg.login_redirect_url.as_deref(),
            &cfg.allowed_redirect_urls,
        )?,
    ))
}

/// Send `message`, mapping a failure to the one clear error (the caller stores its tokens only
/// after this succeeds, so a failed send leaves nothing usable: docs/security.md F2).
pub async fn send_mail(st: &AppState, message: &Message) -> Result<(), Error> {
    st.mailer.send(message).await.map(|_| ()).map_err(|e| {
        let said = match e.failure {
            MailFailure::Unavailable => "The email could not be sent; nothing was changed. Retry later.",
            // Not the caller's to fix, and not worth retrying: the operator reads the cause in the log.
            MailFailure::Refused => "The mail service refused the email; nothing was changed.",
        };
        Error::new(ErrorType::EmailSendFailed, said).caused_by(e)
    })
}

/// The factor of a proved email (a magic link or a reset link), user or member.
pub fn email_factor(account: &UserRecord, now: DateTime<Utc>) -> FactorRecord {
    FactorRecord {
        email_id: Some(account.email_id.clone()),
        email: Some(account.email.clone()),
        ..FactorRecord::proved(FactorKind::MagicLink, now)
    }
}

/// A reset email to send: to a consumer user (`organization` None) or to a member.
pub struct ResetStart<'a> {
    pub organization: Option<&'a OrganizationRecord>,
    pub email: &'a EmailAddress,
    pub reset_url: url::Url,
    pub login_url: url::Url,
    pub lifetime: chrono::Duration,
    pub code_challenge: Option<CodeChallenge>,
    pub attributes: Attributes,
}

/// Email a reset link and a "log in without a password" link to the account with this email.
/// Rate-limited per address (and organization), unknown addresses included (L4). An unknown
/// address is `None`, answered no sooner than a known one (account_enumeration.rs). The mail goes
/// out first and both links are then stored in one write: a failed send leaves no token (F2),
/// and either both links work or neither.
pub async fn start_reset(st: &AppState, began: Instant, start: ResetStart<'_>) -> Result<Option<UserRecord>, Error> {
    let org_id = start.organization.map(|o| o.organization_id.as_str());
    let limit_key = match org_id {
        None => format!("reset_start:{}", start.email.as_str()),
        Some(org_id) => format!("b2b_reset_start:{org_id} {}", start.email.as_str()),
    };
    limit_emails(st, &limit_key).await?;
    let Some(account) = st.store.user_by_email(org_id, start.email.as_str()).await? else {
        st.reset_latency.pad(began).await;
        return Ok(None);
    };
    let kinds = match org_id {
        None => [
            (TokenKind::ResetPassword, RESET_LINK_TYPE, start.reset_url),
            (TokenKind::MagicLink, MAGIC_LINK_TYPE, start.login_url),
        ],
        Some(_) => [
            (TokenKind::MultiTenantPassword, B2B_RESET_LINK_TYPE, start.reset_url),
            (TokenKind::MultiTenantMagicLink, B2B_MAGIC_LINK_TYPE, start.login_url),
        ],
    };
    let link_kinds = [LinkKind::ResetPassword, LinkKind::Login];
    let mut links = Vec::with_capacity(2);
    let mut records = Vec::with_capacity(2);
    for ((kind, link_type, url), link_kind) in kinds.into_iter().zip(link_kinds) {
        let (token, record) = tokens::issue(
            st,
            NewToken {
                organization_id: org_id,
                code_challenge: start.code_challenge.as_ref(),
                attributes: start.attributes.clone(),
                ..NewToken::new(kind, &account, start.lifetime)
            },
        );
        links.push(redirects::link(url, link_kind, link_type, &token));
        records.push(record);
    }
    let minutes = start.lifetime.num_minutes().to_string();
    let (subject, text, html) = st.reset_template.render(&[
        ("email", &account.email),
        ("reset_url", &links[0]),
        ("login_url", &links[1]),
        ("expiration_minutes", &minutes),
    ]);
    let message = Message {
        to: account.email.clone(),
        from: st.settings.email.from.clone(),
        subject,
        text,
        html,
        links,
    };
    send_mail(st, &message).await?;
    st.store.insert_tokens(&records).await?;
    // The work is measured before the wait; both paths then end at the same deadline.
    st.reset_latency.record(began.elapsed());
    st.reset_latency.pad(began).await;
    Ok(Some(account))
}

/// `options` of the completing calls: require the same IP or user agent as the start call.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct MatchOptions {
    #[serde(default)]
    pub ip_match_required: bool,
    #[serde(default)]
    pub user_agent_match_required: bool,
}

/// A link's token checked for kind, life and PKCE.
async fn live_link(
    st: &AppState,
    raw: &str,
    kind: TokenKind,
    code_verifier: Option<&str>,
) -> Result<TokenRecord, Error> {
    let token = tokens::find_live(st, raw, kind)
        .await?
        .ok_or_else(|| tokens::unusable(kind))?;
    pkce::check(token.code_challenge.as_deref(), code_verifier)?;
    Ok(token)
}

/// A link issued before the password last changed is dead (docs/security.md R7); the store
/// decides it again atomically when consuming it.
fn still_valid_for(token: &TokenRecord, account: &UserRecord) -> Result<(), Error> {
    if crate::store::token_survives(token, account) {
        Ok(())
    } else {
        Err(tokens::unusable(token.kind))
    }
}

/// A consumer link named in a completing call, checked for kind, life, PKCE and the start
/// request's attributes, with its user.
pub async fn redeemable(
    st: &AppState,
    raw: &str,
    kind: TokenKind,
    code_verifier: Option<&str>,
    attributes: Option<&Attributes>,
    options: Option<&MatchOptions>,
) -> Result<(TokenRecord, UserRecord), Error> {
    let token = live_link(st, raw, kind, code_verifier).await?;
    if let Some(options) = options {
        let given = attributes.cloned().unwrap_or_default();
        let ip_bad = options.ip_match_required
            && (given.ip_address.is_empty() || given.ip_address != token.attributes.ip_address);
        let ua_bad = options.user_agent_match_required
            && (given.user_agent.is_empty() || given.user_agent != token.attributes.user_agent);
        if ip_bad || ua_bad {
            return Err(Error::new(
                ErrorType::AttributeMismatch,
                "The IP address or user agent differs from the start request's.",
            ));
        }
    }
    let user = st
        .store
        .user_by_id(&token.user_id)
        .await?
        .ok_or_else(|| tokens::unusable(kind))?;
    still_valid_for(&token, &user)?;
    Ok((token, user))
}

/// A B2B link named in a completing call, checked for kind, life and PKCE, with its
/// organization and member, both still there.
pub async fn redeemable_member_link(
    st: &AppState,
    raw: &str,
    kind: TokenKind,
    code_verifier: Option<&str>,
) -> Result<(TokenRecord, OrganizationRecord, UserRecord), Error> {
    let unusable = || tokens::unusable(kind);
    let token = live_link(st, raw, kind, code_verifier).await?;
    let org_id = token.organization_id.clone().ok_or_else(unusable)?;
    let org = st.store.organization_by_id(&org_id).await?.ok_or_else(unusable)?;
    let member = find_member(st, &org, &token.user_id).await?.ok_or_else(unusable)?;
    still_valid_for(&token, &member)?;
    Ok((token, org, member))
}
