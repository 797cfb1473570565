//! `/v1/b2b/...`: organizations, members, email magic links, org-scoped passwords, MFA (TOTP)
//! and member sessions. The rules Latch follows where Stytch leaves room are in docs/b2b.md.

pub mod magic_links;
pub mod mfa;
pub mod migrate;
pub mod organizations;
pub mod passwords;
pub mod sessions;
pub mod totp;

use chrono::{DateTime, Utc};

use crate::domain::ids::{looks_like, new_id, IdKind};
use crate::domain::pkce;
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::handlers::reset::unusable_token;
use crate::state::AppState;
use crate::store::{
    AuthMethod, FactorKind, FactorRecord, MfaMethod, OrganizationRecord, PasswordRecord, TokenKind, TokenRecord,
    UserRecord,
};

pub(crate) fn organization_not_found() -> Error {
    Error::new(ErrorType::OrganizationNotFound, "No organization has this id or slug.")
}

pub(crate) fn member_not_found() -> Error {
    Error::new(ErrorType::MemberNotFound, "No member of this organization matches.")
}

/// Refuse a primary method `org` does not allow (`auth_methods: RESTRICTED`); checked before any
/// member lookup or hashing, so the answer is the same for every email.
pub(crate) fn require_auth_method(org: &OrganizationRecord, method: AuthMethod) -> Result<(), Error> {
    if org.allows_auth_method(method) {
        return Ok(());
    }
    Err(Error::new(
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        format!(
            "This organization restricts its auth methods and {} is not in its allowed_auth_methods.",
            method.as_str()
        ),
    ))
}

/// Refuse an MFA method `org` does not allow (`mfa_methods: RESTRICTED`).
pub(crate) fn require_mfa_method(org: &OrganizationRecord, method: MfaMethod) -> Result<(), Error> {
    if org.allows_mfa_method(method) {
        return Ok(());
    }
    Err(Error::new(
        ErrorType::OperationRestrictedByOrganizationMfaMethods,
        format!(
            "This organization restricts its MFA methods and {} is not in its allowed_mfa_methods.",
            method.as_str()
        ),
    ))
}

/// The organization an `organization_id` field names: its id, or its slug (Stytch accepts
/// either wherever an organization id is expected).
pub async fn load_org(st: &AppState, id_or_slug: &str) -> Result<OrganizationRecord, Error> {
    let found = if looks_like(IdKind::Organization, id_or_slug) {
        st.store.organization_by_id(id_or_slug).await?
    } else if organizations::valid_slug(id_or_slug) {
        st.store.organization_by_slug(id_or_slug).await?
    } else {
        None
    };
    found.ok_or_else(organization_not_found)
}

/// The member `member_id` of `org`: a member of another organization (or a consumer user) is
/// answered as not found, never shown.
pub async fn load_member(st: &AppState, org: &OrganizationRecord, member_id: &str) -> Result<UserRecord, Error> {
    find_member(st, org, member_id).await?.ok_or_else(member_not_found)
}

/// The member of `org` with this id, if there is one. A store outage is the outage (503), never
/// "no such member": callers that answer their own not-found must not hide it.
pub async fn find_member(
    st: &AppState,
    org: &OrganizationRecord,
    member_id: &str,
) -> Result<Option<UserRecord>, Error> {
    if !looks_like(IdKind::Member, member_id) {
        return Ok(None);
    }
    Ok(st
        .store
        .user_by_id(member_id)
        .await?
        .filter(|u| u.organization_id() == Some(org.organization_id.as_str())))
}

/// The member of `org` with this email, if any.
pub async fn member_by_email(
    st: &AppState,
    org: &OrganizationRecord,
    email: &EmailAddress,
) -> Result<Option<UserRecord>, Error> {
    Ok(st
        .store
        .user_by_email(Some(&org.organization_id), email.as_str())
        .await?)
}

/// An emailed B2B link's token, checked: live, of `kind`, its PKCE verifier matching, and its
/// organization and member still there. Not consumed here: that happens atomically with what
/// it authorises.
pub async fn redeemable_link(
    st: &AppState,
    raw: &str,
    kind: TokenKind,
    code_verifier: Option<&str>,
) -> Result<(TokenRecord, OrganizationRecord, UserRecord), Error> {
    let unusable = || unusable_token(kind);
    if raw.is_empty() || raw.len() > 512 {
        return Err(unusable());
    }
    let now = st.clock.now();
    let token = st
        .store
        .token_by_digest(&st.sessions.digester().digest(raw))
        .await?
        .filter(|t| t.kind == kind && t.is_live(now))
        .ok_or_else(unusable)?;
    pkce::check(token.code_challenge.as_deref(), code_verifier)?;
    let org_id = token.organization_id.clone().ok_or_else(unusable)?;
    let org = st.store.organization_by_id(&org_id).await?.ok_or_else(unusable)?;
    let member = find_member(st, &org, &token.user_id).await?.ok_or_else(unusable)?;
    // A link issued before the password last changed is dead (docs/security.md R7); the store
    // decides it again atomically when consuming it.
    if !crate::store::token_survives(&token, &member) {
        return Err(unusable());
    }
    Ok((token, org, member))
}

/// The factor of a proved member email (magic link, reset link).
pub fn email_factor(member: &UserRecord, now: DateTime<Utc>) -> FactorRecord {
    FactorRecord {
        kind: FactorKind::MagicLink,
        last_authenticated_at: now,
        created_at: now,
        updated_at: now,
        email_id: Some(member.email_id.clone()),
        email: Some(member.email.clone()),
        totp_id: None,
    }
}

/// Cross-organization passwords (`LATCH_B2B_CROSS_ORG_PASSWORDS`): a member joining an
/// organization takes the password its email already has in another one.
pub async fn inherit_password(st: &AppState, member: &mut UserRecord) -> Result<(), Error> {
    if !st.settings.cross_org_passwords || member.password.is_some() {
        return Ok(());
    }
    let others = st.store.members_with_email(&member.email).await?;
    if let Some(p) = others.iter().find_map(|m| m.password.as_ref()) {
        member.password = Some(PasswordRecord {
            password_id: new_id(IdKind::Password, st.env),
            hash: p.hash.clone(),
            requires_reset: p.requires_reset,
        });
    }
    Ok(())
}

/// Cross-organization passwords: after `member`'s password changed, every other membership of
/// the email gets the same one. Each membership is updated atomically, one after another: a
/// failure part-way is answered 503 and a retry of the reset finishes the job.
pub async fn propagate_password(st: &AppState, member: &UserRecord) -> Result<(), Error> {
    let Some(password) = member.password.clone().filter(|_| st.settings.cross_org_passwords) else {
        return Ok(());
    };
    for other in st.store.members_with_email(&member.email).await? {
        if other.user_id == member.user_id {
            continue;
        }
        let (hash, fresh_id) = (password.hash.clone(), new_id(IdKind::Password, st.env));
        let set = std::sync::Arc::new(move |u: &mut UserRecord| {
            let password_id = u
                .password
                .as_ref()
                .map_or_else(|| fresh_id.clone(), |p| p.password_id.clone());
            u.password = Some(PasswordRecord {
                password_id,
                hash: hash.clone(),
                requires_reset: false,
            });
        });
        st.store.update_user(&other.user_id, set).await?;
    }
    Ok(())
}
