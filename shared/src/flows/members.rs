//! B2B organizations and members: the organization a request names, its member by id or email,
//! what the organization allows, a new member, and cross-organization passwords
//! (`LATCH_B2B_CROSS_ORG_PASSWORDS`: one password per email, inherited and propagated).

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::password_records;
use crate::domain::ids::{looks_like, new_id, IdKind};
use crate::domain::organization::valid_slug;
use crate::domain::EmailAddress;
use crate::error::{Error, ErrorType};
use crate::sessions::{Scope, SessionRef};
use crate::state::AppState;
use crate::store::{
    AuthMethod, MemberFields, MemberStatus, MfaMethod, OrganizationRecord, PasswordRecord, SessionRecord,
    SharedPassword, StoreError, UserRecord,
};

pub fn organization_not_found() -> Error {
    Error::new(ErrorType::OrganizationNotFound, "No organization has this id or slug.")
}

pub fn member_not_found() -> Error {
    Error::new(ErrorType::MemberNotFound, "No member of this organization matches.")
}

/// Refuse a primary method `org` does not allow (`auth_methods: RESTRICTED`); checked before any
/// member lookup or hashing, so the answer is the same for every email.
pub fn require_auth_method(org: &OrganizationRecord, method: AuthMethod) -> Result<(), Error> {
    allowed_or(
        org.allows_auth_method(method),
        ErrorType::OperationRestrictedByOrganizationAuthMethods,
        ("auth", "allowed_auth_methods"),
        method.as_str(),
    )
}

/// Refuse an MFA method `org` does not allow (`mfa_methods: RESTRICTED`).
pub fn require_mfa_method(org: &OrganizationRecord, method: MfaMethod) -> Result<(), Error> {
    allowed_or(
        org.allows_mfa_method(method),
        ErrorType::OperationRestrictedByOrganizationMfaMethods,
        ("MFA", "allowed_mfa_methods"),
        method.as_str(),
    )
}

/// `Ok` if allowed, else `refusal` naming the method and the organization's list it is missing
/// from (`what`: the kind of method and that list's field).
fn allowed_or(allowed: bool, refusal: ErrorType, what: (&str, &str), method: &str) -> Result<(), Error> {
    if allowed {
        return Ok(());
    }
    let (kind, list) = what;
    Err(Error::new(
        refusal,
        format!("This organization restricts its {kind} methods and {method} is not in its {list}."),
    ))
}

/// The organization an `organization_id` field names: its id, or its slug (Stytch accepts
/// either wherever an organization id is expected).
pub async fn load_org(st: &AppState, id_or_slug: &str) -> Result<OrganizationRecord, Error> {
    find_org(st, id_or_slug).await?.ok_or_else(organization_not_found)
}

/// The organization with this id or slug, if there is one (a store outage is the outage).
pub async fn find_org(st: &AppState, id_or_slug: &str) -> Result<Option<OrganizationRecord>, Error> {
    Ok(if looks_like(IdKind::Organization, id_or_slug) {
        st.store.organization_by_id(id_or_slug).await?
    } else if valid_slug(id_or_slug) {
        st.store.organization_by_slug(id_or_slug).await?
    } else {
        None
    })
}

/// A member session, with its token, organization and member: what every call made with a
/// member session starts from. A consumer session, or one whose member or organization is gone,
/// is `session_not_found`.
pub async fn session_member(
    st: &AppState,
    by: SessionRef<'_>,
    now: DateTime<Utc>,
) -> Result<(SessionRecord, String, OrganizationRecord, UserRecord), Error> {
    let gone = || {
        Error::new(
            ErrorType::SessionNotFound,
            "The session's member or organization no longer exists.",
        )
    };
    let (context, token) = st.sessions.find_context(by, Scope::AnyOrganization, now).await?;
    let org = context.organization.ok_or_else(gone)?;
    let member = context
        .user
        .filter(|m| m.organization_id() == Some(org.organization_id.as_str()))
        .ok_or_else(gone)?;
    Ok((context.session, token, org, member))
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

/// Cross-organization passwords (`LATCH_B2B_CROSS_ORG_PASSWORDS`): a member joining an
/// organization takes the password its email already has in another one.
pub async fn inherit_password(st: &AppState, member: &mut UserRecord) -> Result<(), Error> {
    if !st.settings.cross_org_passwords || member.password.is_some() {
        return Ok(());
    }
    let others = st.store.members_with_email(&member.email).await?;
    if let Some(p) = others.iter().find_map(|m| m.password.as_ref()) {
        member.password = Some(PasswordRecord {
            requires_reset: p.requires_reset,
            ..password_records::fresh(st, p.hash.clone())
        });
    }
    Ok(())
}

/// Cross-organization passwords: the other memberships of `member`'s email, which take the
/// password `member` is given in the same write (`PasswordReset::same_password_for`); none when
/// the setting is off.
pub async fn sharing_password(st: &AppState, member: &UserRecord) -> Result<Vec<SharedPassword>, Error> {
    if !st.settings.cross_org_passwords {
        return Ok(Vec::new());
    }
    Ok(st
        .store
        .members_with_email(&member.email)
        .await?
        .into_iter()
        .filter(|other| other.user_id != member.user_id)
        .map(|other| SharedPassword {
            user_id: other.user_id,
            new_password_id: new_id(IdKind::Password, st.env),
        })
        .collect())
}

/// Cross-organization passwords, for a password set outside a reset (migrate): every other
/// membership of the email gets `member`'s, one membership after another; a failure part-way
/// answers 503 and the import, run again, finishes it.
pub async fn propagate_password(st: &AppState, member: &UserRecord) -> Result<(), Error> {
    let Some(password) = member.password.clone() else {
        return Ok(());
    };
    for shared in sharing_password(st, member).await? {
        let (hash, user_id) = (password.hash.clone(), shared.user_id.clone());
        let set = std::sync::Arc::new(move |u: &mut UserRecord| shared.apply_to(u, &hash));
        st.store.update_user(&user_id, set).await?;
    }
    Ok(())
}

/// A new member record of `org` (not yet stored).
pub fn new_member(st: &AppState, org: &OrganizationRecord, email: &EmailAddress, status: MemberStatus) -> UserRecord {
    let now = st.clock.now();
    UserRecord {
        user_id: new_id(IdKind::Member, st.env),
        email: email.as_str().to_string(),
        email_id: new_id(IdKind::MemberEmail, st.env),
        email_verified: false,
        password: None,
        name: Default::default(),
        trusted_metadata: Map::new(),
        untrusted_metadata: Map::new(),
        created_at: now,
        lock: Default::default(),
        member: Some(MemberFields::new(org.organization_id.clone(), status, now)),
        credential_epoch: 0,
    }
}

/// Store a new member: `duplicate_member_email` if the organization has one with this email,
/// `organization_not_found` if the organization was deleted meanwhile.
pub async fn insert_member(st: &AppState, member: &UserRecord) -> Result<(), Error> {
    match st.store.create_user(member, None).await {
        Ok(()) => Ok(()),
        Err(StoreError::DuplicateEmail) => Err(Error::new(
            ErrorType::DuplicateMemberEmail,
            "A member of this organization already has this email address.",
        )),
        Err(StoreError::Conflict) => Err(organization_not_found()),
        Err(e) => Err(e.into()),
    }
}
