//! The MFA rule shared by every B2B primary factor (docs/b2b.md, "The MFA rule"): a valid
//! session skips MFA; otherwise an organization requiring MFA (or a member enrolled in it)
//! gets an intermediate session token (IST) instead of a session; otherwise a session.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::b2b_wire::{verified_totp_id, MemberSessionObject};
use crate::api::wire::timestamp;
use crate::domain::SessionDuration;
use crate::error::Error;
use crate::sessions::tokens::random_token;
use crate::sessions::{Issued, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{
    Attributes, FactorRecord, MfaPolicy, OrganizationRecord, SessionRecord, TokenKind, TokenRecord, UserRecord,
};

use super::super::reset::{unusable_token, EMAIL_TOKEN_BYTES};

/// Intermediate sessions live 10 minutes (docs/reference/stytch-api.md §7, docs/security.md J3).
pub const IST_MINUTES: i64 = 10;

/// Does this member owe a second factor after a primary one?
pub fn mfa_required(org: &OrganizationRecord, member: &UserRecord) -> bool {
    org.mfa_policy == MfaPolicy::RequiredForAll || member.member.as_ref().is_some_and(|m| m.mfa_enrolled)
}

/// An IST sent with a request, checked: live, and this member's in this organization.
#[derive(Debug, Clone)]
pub struct HeldIst {
    pub token: String,
    pub record: TokenRecord,
}

/// Resolve an optional IST; anything but a live IST of `member` in `org` is
/// `intermediate_session_not_found` (an IST never crosses organizations).
pub async fn find_ist(
    st: &AppState,
    raw: Option<&str>,
    org: &OrganizationRecord,
    member_id: &str,
) -> Result<Option<HeldIst>, Error> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let now = st.clock.now();
    let unusable = || unusable_token(TokenKind::IntermediateSession);
    if raw.len() > 512 {
        return Err(unusable());
    }
    let record = st
        .store
        .token_by_digest(&st.sessions.digester().digest(raw))
        .await?
        .filter(|t| {
            t.kind == TokenKind::IntermediateSession
                && t.is_live(now)
                && t.user_id == member_id
                && t.organization_id.as_deref() == Some(org.organization_id.as_str())
        })
        .ok_or_else(unusable)?;
    Ok(Some(HeldIst {
        token: raw.to_string(),
        record,
    }))
}

/// Use an IST up: exactly one caller wins.
pub async fn consume_ist(st: &AppState, ist: &HeldIst) -> Result<(), Error> {
    if st.store.consume_token(&ist.record).await? {
        Ok(())
    } else {
        Err(unusable_token(TokenKind::IntermediateSession))
    }
}

/// Store a new IST holding `factors`.
pub async fn issue_ist(
    st: &AppState,
    org: &OrganizationRecord,
    member: &UserRecord,
    factors: Vec<FactorRecord>,
) -> Result<HeldIst, Error> {
    let now = st.clock.now();
    let token = random_token(EMAIL_TOKEN_BYTES);
    let record = TokenRecord {
        token_digest: st.sessions.digester().digest(&token),
        kind: TokenKind::IntermediateSession,
        user_id: member.user_id.clone(),
        email_id: member.email_id.clone(),
        created_at: now,
        expires_at: now + chrono::Duration::minutes(IST_MINUTES),
        code_challenge: None,
        attributes: Attributes::default(),
        used: false,
        organization_id: Some(org.organization_id.clone()),
        factors,
        // Not an emailed link: a password change does not end it (`TokenKind::dies_with_password`).
        credential_epoch: member.credential_epoch,
    };
    st.store.insert_tokens(std::slice::from_ref(&record)).await?;
    Ok(HeldIst { token, record })
}

/// The member's active session in `org` a request names, if it named one.
pub async fn attached_session(
    st: &AppState,
    token: Option<&str>,
    jwt: Option<&str>,
    org: &OrganizationRecord,
    member_id: &str,
) -> Result<Option<(SessionRecord, String)>, Error> {
    let by = SessionRef::from_optional(token, jwt)?;
    st.sessions
        .find_for_user(by, Scope::Organization(&org.organization_id), member_id, st.clock.now())
        .await
}

/// How a primary factor ended.
pub enum Outcome {
    Authenticated(Issued),
    NeedsMfa(HeldIst),
}

/// Everything a primary factor brings to the MFA rule.
pub struct Primary<'a> {
    pub org: &'a OrganizationRecord,
    pub member: &'a UserRecord,
    pub factor: FactorRecord,
    pub attach: Option<(SessionRecord, String)>,
    pub ist: Option<HeldIst>,
    pub duration: Option<SessionDuration>,
    pub custom_claims: Option<&'a Map<String, Value>>,
}

/// What the rule decides before anything is written, so a reset can store its session in the
/// same write as the new password.
pub enum Decision {
    /// Refresh this session with the factor (it skips MFA).
    Attach(Box<Issued>),
    /// Start this session (prepared, not stored); consume the IST first if there is one.
    Start(Box<Issued>, Option<HeldIst>),
    /// Answer with an IST holding these factors: the one sent (gaining the factor), or a new one.
    Mfa(Option<HeldIst>, Vec<FactorRecord>),
}

pub fn decide(st: &AppState, p: Primary<'_>, now: DateTime<Utc>) -> Result<Decision, Error> {
    if let Some((record, token)) = p.attach {
        let mut record = record;
        record.organization = Some(p.org.org_ref());
        let issued = st
            .sessions
            .prepare_refresh(record, token, Some(p.factor), p.duration, p.custom_claims, now)?;
        return Ok(Decision::Attach(Box::new(issued)));
    }
    // The factors proved so far: the IST's, with this one added (or refreshed).
    let mut factors = p.ist.as_ref().map(|i| i.record.factors.clone()).unwrap_or_default();
    factors.retain(|f| f.kind != p.factor.kind);
    factors.push(p.factor);
    if mfa_required(p.org, p.member) {
        return Ok(Decision::Mfa(p.ist, factors));
    }
    let issued = st.sessions.prepare_member(
        &p.member.user_id,
        p.org.org_ref(),
        factors,
        p.duration.unwrap_or(SessionDuration::B2B_DEFAULT),
        p.custom_claims,
        now,
    )?;
    Ok(Decision::Start(Box::new(issued), p.ist))
}

fn member_gone() -> Error {
    super::member_not_found()
}

/// Carry out a decision whose session is stored on its own (not part of a reset's write).
pub async fn carry_out(
    st: &AppState,
    org: &OrganizationRecord,
    member: &UserRecord,
    decision: Decision,
) -> Result<Outcome, Error> {
    match decision {
        Decision::Attach(issued) => {
            if !st.store.update_session(&issued.record).await? {
                return Err(Error::new(
                    crate::error::ErrorType::SessionNotFound,
                    "The session was revoked meanwhile.",
                ));
            }
            Ok(Outcome::Authenticated(*issued))
        }
        Decision::Start(issued, ist) => {
            if let Some(ist) = &ist {
                consume_ist(st, ist).await?;
            }
            Ok(Outcome::Authenticated(st.sessions.store(*issued, member_gone).await?))
        }
        Decision::Mfa(ist, factors) => after_reset_mfa(st, org, member, ist, factors).await,
    }
}

/// The MFA half of a decision: the IST sent, now holding `factors`, or a new one.
pub async fn after_reset_mfa(
    st: &AppState,
    org: &OrganizationRecord,
    member: &UserRecord,
    ist: Option<HeldIst>,
    factors: Vec<FactorRecord>,
) -> Result<Outcome, Error> {
    Ok(Outcome::NeedsMfa(match ist {
        Some(mut ist) => {
            ist.record.factors = factors;
            if !st.store.update_token(&ist.record).await? {
                return Err(unusable_token(TokenKind::IntermediateSession));
            }
            ist
        }
        None => issue_ist(st, org, member, factors).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberOptions {
    pub mfa_phone_number: String,
    pub totp_registration_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaRequired {
    pub member_options: MemberOptions,
    pub secondary_auth_initiated: Option<String>,
}

/// The session-or-IST half of every B2B primary-auth response (docs/reference/stytch-api.md §7).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthFields {
    pub session_token: String,
    pub session_jwt: String,
    pub member_session: Option<MemberSessionObject>,
    pub intermediate_session_token: String,
    #[schema(format = DateTime)]
    pub intermediate_session_token_expires_at: Option<String>,
    pub member_authenticated: bool,
    pub mfa_required: Option<MfaRequired>,
    pub primary_required: Option<Value>,
}

impl AuthFields {
    pub fn new(outcome: Outcome, member: &UserRecord) -> Self {
        match outcome {
            Outcome::Authenticated(issued) => Self {
                member_session: Some(MemberSessionObject::from(&issued.record)),
                session_token: issued.token,
                session_jwt: issued.jwt,
                intermediate_session_token: String::new(),
                intermediate_session_token_expires_at: None,
                member_authenticated: true,
                mfa_required: None,
                primary_required: None,
            },
            Outcome::NeedsMfa(ist) => Self {
                session_token: String::new(),
                session_jwt: String::new(),
                member_session: None,
                intermediate_session_token_expires_at: Some(timestamp(ist.record.expires_at)),
                intermediate_session_token: ist.token,
                member_authenticated: false,
                mfa_required: Some(MfaRequired {
                    member_options: MemberOptions {
                        mfa_phone_number: member
                            .member
                            .as_ref()
                            .map(|m| m.mfa_phone_number.clone())
                            .unwrap_or_default(),
                        totp_registration_id: verified_totp_id(member),
                    },
                    secondary_auth_initiated: None,
                }),
                primary_required: None,
            },
        }
    }
}
