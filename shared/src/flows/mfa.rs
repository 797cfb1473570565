//! The MFA rule shared by every B2B primary factor (docs/b2b.md, "The MFA rule"): a valid
//! session skips MFA; otherwise an organization requiring MFA (or a member enrolled in it)
//! gets an intermediate session token (IST) instead of a session; otherwise a session.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::members;
use super::tokens::{self, NewToken};
use crate::domain::SessionDuration;
use crate::error::{Error, ErrorType};
use crate::sessions::{HeldIst, Issued, Outcome, Scope, SessionRef};
use crate::state::AppState;
use crate::store::{FactorRecord, MfaMethod, MfaPolicy, OrganizationRecord, SessionRecord, TokenKind, UserRecord};

/// Intermediate sessions live 10 minutes (docs/reference/stytch-api.md §7, docs/security.md J3).
pub const IST_MINUTES: i64 = 10;

/// Does this member owe a second factor after a primary one?
pub fn mfa_required(org: &OrganizationRecord, member: &UserRecord) -> bool {
    org.mfa_policy == MfaPolicy::RequiredForAll || member.member.as_ref().is_some_and(|m| m.mfa_enrolled)
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
    let record = tokens::find_live(st, raw, TokenKind::IntermediateSession)
        .await?
        .filter(|t| t.user_id == member_id && t.organization_id.as_deref() == Some(org.organization_id.as_str()))
        .ok_or_else(|| tokens::unusable(TokenKind::IntermediateSession))?;
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
        Err(tokens::unusable(TokenKind::IntermediateSession))
    }
}

/// Store a new IST holding `factors`.
pub async fn issue_ist(
    st: &AppState,
    org: &OrganizationRecord,
    member: &UserRecord,
    factors: Vec<FactorRecord>,
) -> Result<HeldIst, Error> {
    let (token, record) = tokens::issue(
        st,
        NewToken {
            organization_id: Some(&org.organization_id),
            factors,
            ..NewToken::new(
                TokenKind::IntermediateSession,
                member,
                chrono::Duration::minutes(IST_MINUTES),
            )
        },
    );
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
    members::member_not_found()
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
                return Err(tokens::unusable(TokenKind::IntermediateSession));
            }
            ist
        }
        None => issue_ist(st, org, member, factors).await?,
    }))
}

/// Whichever proof of identity a second-factor call (TOTP, recovery code) came with: the IST of
/// a login that owes MFA, or a session of the member, which gains the factor.
pub enum SecondFactorProof {
    Ist(HeldIst),
    Session(SessionRecord, String),
}

/// The member's IST or session the request names, if it named one.
pub async fn second_factor_proof(
    st: &AppState,
    org: &OrganizationRecord,
    member_id: &str,
    ist: Option<&str>,
    token: Option<&str>,
    jwt: Option<&str>,
) -> Result<Option<SecondFactorProof>, Error> {
    if let Some(ist) = find_ist(st, ist, org, member_id).await? {
        return Ok(Some(SecondFactorProof::Ist(ist)));
    }
    Ok(attached_session(st, token, jwt, org, member_id)
        .await?
        .map(|(s, t)| SecondFactorProof::Session(s, t)))
}

/// The IST or session a second factor must come with (to use one, not to register one):
/// without either, `no_session_arguments`.
pub async fn required_second_factor_proof(
    st: &AppState,
    org: &OrganizationRecord,
    member_id: &str,
    ist: Option<&str>,
    token: Option<&str>,
    jwt: Option<&str>,
) -> Result<SecondFactorProof, Error> {
    second_factor_proof(st, org, member_id, ist, token, jwt)
        .await?
        .ok_or_else(|| {
            Error::new(
                ErrorType::NoSessionArguments,
                "Send the intermediate_session_token of the login, or a session_token or session_jwt.",
            )
        })
}

/// What a TOTP code or one of its recovery codes comes with.
pub struct TotpFactorCall<'a> {
    pub organization_id: &'a str,
    pub member_id: &'a str,
    pub intermediate_session_token: Option<&'a str>,
    pub session_token: Option<&'a str>,
    pub session_jwt: Option<&'a str>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<&'a Map<String, Value>>,
}

/// Where every use of a TOTP code or recovery code begins, before the code is looked at: the
/// session options valid, the organization allowing TOTP, the member in it, and the member's IST
/// or session.
pub async fn begin_totp_factor(
    st: &AppState,
    call: TotpFactorCall<'_>,
) -> Result<
    (
        OrganizationRecord,
        UserRecord,
        SecondFactorProof,
        Option<SessionDuration>,
    ),
    Error,
> {
    let duration = SessionDuration::parse_opt(call.session_duration_minutes)?;
    crate::sessions::check_custom_claims(call.session_custom_claims)?;
    let org = members::load_org(st, call.organization_id).await?;
    members::require_mfa_method(&org, MfaMethod::Totp)?;
    let member = members::load_member(st, &org, call.member_id).await?;
    let proof = required_second_factor_proof(
        st,
        &org,
        &member.user_id,
        call.intermediate_session_token,
        call.session_token,
        call.session_jwt,
    )
    .await?;
    Ok((org, member, proof, duration))
}

/// A second factor, proved.
pub struct SecondFactor<'a> {
    pub org: &'a OrganizationRecord,
    pub member_id: &'a str,
    pub proof: SecondFactorProof,
    pub factor: FactorRecord,
    pub duration: Option<SessionDuration>,
    pub custom_claims: Option<&'a Map<String, Value>>,
}

/// A second factor proved: the login the IST began becomes a session (the IST used up), or the
/// session sent gains the factor.
pub async fn complete_second_factor(st: &AppState, f: SecondFactor<'_>, now: DateTime<Utc>) -> Result<Issued, Error> {
    match f.proof {
        SecondFactorProof::Ist(ist) => {
            consume_ist(st, &ist).await?;
            let mut factors = ist.record.factors.clone();
            factors.push(f.factor);
            let prepared = st.sessions.prepare_member(
                f.member_id,
                f.org.org_ref(),
                factors,
                f.duration.unwrap_or(SessionDuration::B2B_DEFAULT),
                f.custom_claims,
                now,
            )?;
            st.sessions.store(prepared, members::member_not_found).await
        }
        SecondFactorProof::Session(mut record, token) => {
            record.organization = Some(f.org.org_ref());
            st.sessions
                .refresh(record, token, Some(f.factor), f.duration, f.custom_claims, now)
                .await
        }
    }
}

/// A member's recovery codes, like `k3x9-p2mq-7wtd` (60 random bits each): shown to the member,
/// kept as keyed digests (to redeem) and sealed (to show again), never in clear.
pub struct RecoveryCodes {
    pub codes: Vec<String>,
    pub digests: Vec<String>,
    pub sealed: Vec<String>,
}

impl RecoveryCodes {
    pub const COUNT: usize = 10;

    pub fn generate(st: &AppState) -> Self {
        let codes: Vec<String> = (0..Self::COUNT)
            .map(|_| {
                let raw = data_encoding::BASE32_NOPAD
                    .encode(crate::sessions::tokens::random_token(9).as_bytes())
                    .to_ascii_lowercase();
                format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
            })
            .collect();
        Self {
            digests: codes.iter().map(|c| st.sessions.digester().digest(c)).collect(),
            sealed: codes.iter().map(|c| st.totp_sealer.seal(c.as_bytes())).collect(),
            codes,
        }
    }

    /// The unused codes of a registration, unsealed.
    pub fn shown(st: &AppState, registration: &crate::store::TotpRecord) -> Result<Vec<String>, Error> {
        registration
            .sealed_recovery_codes
            .iter()
            .map(|sealed| {
                let bytes = st.totp_sealer.open(sealed).map_err(Error::internal)?;
                String::from_utf8(bytes).map_err(Error::internal)
            })
            .collect()
    }
}
