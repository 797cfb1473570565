//! Sessions: opaque tokens (stored as digests) plus 5-minute RS256 JWTs over the same session.

pub mod jwt;
pub mod keys;
pub mod objects;
pub mod recent_jwts;
pub mod tokens;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::ids::{new_id, IdEnvironment, IdKind};
use crate::domain::SessionDuration;
use crate::error::{Error, ErrorType};
use crate::store::{
    Attributes, FactorRecord, OrgRef, SessionContext, SessionKey, SessionRecord, SessionWrite, Store, StoreError,
    TokenRecord,
};
use keys::SigningKeys;
use objects::SessionObject;
use recent_jwts::RecentJwts;
use tokens::{random_token, TokenDigester, SESSION_TOKEN_BYTES};

/// Custom claims may take at most this many bytes of JSON.
pub const MAX_CUSTOM_CLAIMS_BYTES: usize = 4096;

/// A session signed and ready to be written.
#[derive(Debug)]
pub enum Prepared {
    New(Issued),
    Refresh(Issued),
}

impl Prepared {
    /// The store write that makes it so.
    pub fn write(&self) -> SessionWrite<'_> {
        match self {
            Prepared::New(i) => SessionWrite::Insert(&i.record),
            Prepared::Refresh(i) => SessionWrite::Refresh(&i.record),
        }
    }

    pub fn into_issued(self) -> Issued {
        match self {
            Prepared::New(i) | Prepared::Refresh(i) => i,
        }
    }
}

/// A session as handed to the client.
#[derive(Debug, Clone)]
pub struct Issued {
    pub record: SessionRecord,
    /// The opaque token; `""` when the session was identified by JWT only (the token itself is
    /// not stored, so it cannot be returned).
    pub token: String,
    pub jwt: String,
}

/// Which sessions an endpoint may see: consumer endpoints see users' sessions only, B2B
/// endpoints members' sessions only, and those naming an organization only that
/// organization's. A session outside the scope is answered as if it did not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    Consumer,
    AnyOrganization,
    Organization(&'a str),
}

impl Scope<'_> {
    pub fn admits(self, session: &SessionRecord) -> bool {
        match (self, &session.organization) {
            (Scope::Consumer, None) => true,
            (Scope::AnyOrganization, Some(_)) => true,
            (Scope::Organization(id), Some(org)) => org.organization_id == id,
            _ => false,
        }
    }
}

/// How the caller named an existing session.
#[derive(Debug, Clone, Copy)]
pub enum SessionRef<'a> {
    Token(&'a str),
    Jwt(&'a str),
}

impl<'a> SessionRef<'a> {
    /// At most one of token and JWT; `Ok(None)` when neither was sent.
    pub fn from_optional(token: Option<&'a str>, jwt: Option<&'a str>) -> Result<Option<Self>, Error> {
        match (token.filter(|t| !t.is_empty()), jwt.filter(|j| !j.is_empty())) {
            (Some(_), Some(_)) => Err(Error::new(
                ErrorType::TooManySessionArguments,
                "Send either session_token or session_jwt, not both.",
            )),
            (Some(t), None) => Ok(Some(Self::Token(t))),
            (None, Some(j)) => Ok(Some(Self::Jwt(j))),
            (None, None) => Ok(None),
        }
    }

    /// Exactly one of token and JWT.
    pub fn required(token: Option<&'a str>, jwt: Option<&'a str>) -> Result<Self, Error> {
        Self::from_optional(token, jwt)?
            .ok_or_else(|| Error::new(ErrorType::NoSessionArguments, "Send session_token or session_jwt."))
    }
}

/// An `authorization_check` asks the server to confirm the session may do something; Latch
/// cannot (it has no RBAC yet), and answering 200 would tell the caller that it may. So any
/// check sent is refused before the session is looked at; JSON `null` reads as absent.
pub fn refuse_authorization_check(check: Option<&Map<String, Value>>) -> Result<(), Error> {
    match check {
        None => Ok(()),
        Some(_) => Err(Error::new(
            ErrorType::BadRequest,
            "authorization_check is not supported: Latch does not enforce RBAC, so it refuses a request \
             that asks for an authorization check instead of answering without one.",
        )),
    }
}

/// A revoke names its target exactly one way (consumer and B2B alike); empty strings are absent.
pub fn one_revoke_argument(fields: &[&Option<String>], names: &str) -> Result<(), Error> {
    match fields
        .iter()
        .filter(|f| f.as_deref().is_some_and(|v| !v.is_empty()))
        .count()
    {
        0 => Err(Error::new(
            ErrorType::NoSessionRevokeArguments,
            format!("Send one of {names}."),
        )),
        1 => Ok(()),
        _ => Err(Error::new(
            ErrorType::TooManySessionRevokeArguments,
            format!("Send only one of {names}."),
        )),
    }
}

/// A session may reset the password only if it proved a factor this recently.
pub const RESET_FRESHNESS_MINUTES: i64 = 5;

/// Has `session` proved, within the last 5 minutes, a factor that `counts`? (The password resets
/// by session: consumer sessions count a password or the email, B2B ones any factor.)
pub fn recently_proven(session: &SessionRecord, now: DateTime<Utc>, counts: impl Fn(&FactorRecord) -> bool) -> bool {
    let since = now - chrono::Duration::minutes(RESET_FRESHNESS_MINUTES);
    session
        .factors
        .iter()
        .any(|f| counts(f) && f.last_authenticated_at >= since)
}

/// A B2B intermediate session token (IST) sent with a request and checked (live, this member's
/// in this organization), or just issued.
#[derive(Debug, Clone)]
pub struct HeldIst {
    pub token: String,
    pub record: TokenRecord,
}

/// How a B2B primary factor ended: a session, or an IST while a second factor is owed.
pub enum Outcome {
    Authenticated(Issued),
    NeedsMfa(HeldIst),
}

/// Merge a request's custom claims into a session's: reserved names are ignored, `null`
/// deletes a key, and the result must fit in 4 KB.
pub fn merge_custom_claims(into: &mut Map<String, Value>, update: Option<&Map<String, Value>>) -> Result<(), Error> {
    let Some(update) = update else { return Ok(()) };
    for (k, v) in update {
        if jwt::RESERVED_CLAIMS.contains(&k.as_str()) || k.starts_with("https://stytch.com/") {
            continue;
        }
        if v.is_null() {
            into.remove(k);
        } else {
            into.insert(k.clone(), v.clone());
        }
    }
    if serde_json::to_vec(into).map(|b| b.len()).unwrap_or(usize::MAX) > MAX_CUSTOM_CLAIMS_BYTES {
        return Err(Error::new(
            ErrorType::CustomClaimsTooLarge,
            format!("session_custom_claims must be at most {MAX_CUSTOM_CLAIMS_BYTES} bytes of JSON."),
        ));
    }
    Ok(())
}

/// Check a request's custom claims before anything is written (size and shape), so a bad
/// request fails before it changes state.
pub fn check_custom_claims(claims: Option<&Map<String, Value>>) -> Result<(), Error> {
    merge_custom_claims(&mut Map::new(), claims)
}

pub struct SessionManager {
    store: Arc<dyn Store>,
    keys: SigningKeys,
    digester: TokenDigester,
    project_id: String,
    env: IdEnvironment,
    recent_jwts: RecentJwts,
    verified_jwts: jwt::VerifiedJwts,
}

/// A session authenticated again records `last_accessed_at` at most once per this many seconds,
/// so the call every page load makes is a read, not a write (docs/reference/performance-facts.md,
/// "The session hot path"); any other change to the session is written at once.
pub const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// What a call may change in the session it names: custom claims merged, and with a duration the
/// expiry moved to `now` plus that.
fn amend(
    record: &mut SessionRecord,
    duration: Option<SessionDuration>,
    custom_claims: Option<&Map<String, Value>>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    merge_custom_claims(&mut record.custom_claims, custom_claims)?;
    if let Some(d) = duration {
        record.expires_at = now + d.as_chrono();
    }
    Ok(())
}

/// A session as a caller named it, resolved to the store's keys.
enum Named {
    Token { digest: String, token: String },
    Jwt { session_id: String, subject: String },
}

impl Named {
    fn key(&self) -> SessionKey<'_> {
        match self {
            Named::Token { digest, .. } => SessionKey::TokenDigest(digest),
            Named::Jwt { session_id, subject } => SessionKey::Id {
                session_id,
                user_id: subject,
            },
        }
    }

    /// Whether `session` is the one named and may be used here: active, in `scope`, and for a
    /// JWT, the session of the JWT's subject.
    fn admits(&self, session: &SessionRecord, scope: Scope<'_>, now: DateTime<Utc>) -> bool {
        let owner = match self {
            Named::Token { .. } => true,
            Named::Jwt { subject, .. } => session.user_id == *subject,
        };
        owner && session.is_active(now) && scope.admits(session)
    }

    /// The token echoed back in the answer ("" for a JWT).
    fn into_token(self) -> String {
        match self {
            Named::Token { token, .. } => token,
            Named::Jwt { .. } => String::new(),
        }
    }
}

pub(crate) fn not_found() -> Error {
    Error::new(
        ErrorType::SessionNotFound,
        "The session was not found, or it has expired or been revoked.",
    )
}

impl SessionManager {
    pub fn new(
        store: Arc<dyn Store>,
        keys: SigningKeys,
        digester: TokenDigester,
        project_id: String,
        env: IdEnvironment,
    ) -> Self {
        Self {
            store,
            keys,
            digester,
            project_id,
            env,
            recent_jwts: RecentJwts::default(),
            verified_jwts: jwt::VerifiedJwts::default(),
        }
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    pub fn digester(&self) -> &TokenDigester {
        &self.digester
    }

    fn sign(&self, record: &SessionRecord, now: DateTime<Utc>) -> Result<String, Error> {
        let claim = SessionObject::from(record).jwt_claim();
        jwt::mint(
            &self.keys,
            &self.project_id,
            &record.user_id,
            claim,
            record.organization.as_ref(),
            &record.custom_claims,
            now,
        )
        .map_err(Error::internal)
    }

    /// A new session, signed but not stored.
    fn prepare_session(
        &self,
        user_id: &str,
        organization: Option<OrgRef>,
        factors: Vec<FactorRecord>,
        duration: SessionDuration,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        let token = random_token(SESSION_TOKEN_BYTES);
        let mut claims = Map::new();
        merge_custom_claims(&mut claims, custom_claims)?;
        let record = SessionRecord {
            session_id: new_id(IdKind::Session, self.env),
            user_id: user_id.to_string(),
            token_digest: self.digester.digest(&token),
            started_at: now,
            last_accessed_at: now,
            expires_at: now + duration.as_chrono(),
            attributes: Attributes::default(),
            custom_claims: claims,
            factors,
            organization,
        };
        let jwt = self.sign(&record, now)?;
        Ok(Issued { record, token, jwt })
    }

    /// A new member session holding `factors`, signed but not yet stored.
    pub fn prepare_member(
        &self,
        member_id: &str,
        organization: OrgRef,
        factors: Vec<FactorRecord>,
        duration: SessionDuration,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        self.prepare_session(member_id, Some(organization), factors, duration, custom_claims, now)
    }

    /// Store a prepared session; `gone` answers a user deleted meanwhile.
    pub async fn store(&self, issued: Issued, gone: impl FnOnce() -> Error) -> Result<Issued, Error> {
        match self.store.insert_session(&issued.record).await {
            Ok(()) => Ok(issued),
            Err(StoreError::Conflict) => Err(gone()),
            Err(e) => Err(e.into()),
        }
    }

    /// A new session for a user who just proved `factor`, signed but not yet stored: for writes
    /// that store it together with something else (signup).
    pub fn prepare(
        &self,
        user_id: &str,
        factor: FactorRecord,
        duration: SessionDuration,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        self.prepare_session(user_id, None, vec![factor], duration, custom_claims, now)
    }

    /// Start and store a new session for a user who just proved `factor`.
    pub async fn start(
        &self,
        user_id: &str,
        factor: FactorRecord,
        duration: SessionDuration,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        let issued = self.prepare(user_id, factor, duration, custom_claims, now)?;
        // A Conflict means the user vanished between authentication and here.
        self.store(issued, || {
            Error::new(ErrorType::UserNotFound, "The user no longer exists.")
        })
        .await
    }

    /// Find the active session in `scope` a token or JWT names. Returns the token echoed back
    /// ("" for a JWT).
    pub async fn find(
        &self,
        by: SessionRef<'_>,
        scope: Scope<'_>,
        now: DateTime<Utc>,
    ) -> Result<(SessionRecord, String), Error> {
        let named = self.named(by, now)?;
        let found = match named.key() {
            SessionKey::TokenDigest(digest) => self.store.session_by_token_digest(digest).await?,
            SessionKey::Id { session_id, .. } => self.store.session_by_id(session_id).await?,
        };
        let session = found.filter(|s| named.admits(s, scope, now)).ok_or_else(not_found)?;
        Ok((session, named.into_token()))
    }

    /// [`Self::find`] with the session's user and organization read beside it (the store reads
    /// them together where that saves round trips: `Store::session_context`). Whether the user
    /// and organization still exist is the caller's to judge.
    pub async fn find_context(
        &self,
        by: SessionRef<'_>,
        scope: Scope<'_>,
        now: DateTime<Utc>,
    ) -> Result<(SessionContext, String), Error> {
        let named = self.named(by, now)?;
        let context = self
            .store
            .session_context(named.key())
            .await?
            .filter(|c| named.admits(&c.session, scope, now))
            .ok_or_else(not_found)?;
        Ok((context, named.into_token()))
    }

    /// The store's name for the session a token or JWT names; a JWT is verified here.
    fn named(&self, by: SessionRef<'_>, now: DateTime<Utc>) -> Result<Named, Error> {
        Ok(match by {
            SessionRef::Token(token) => Named::Token {
                digest: self.digester.digest(token),
                token: token.to_string(),
            },
            SessionRef::Jwt(raw) => {
                let verified = self
                    .verified_jwts
                    .verify(&self.keys, &self.project_id, raw, now)
                    .map_err(|e| match e {
                        jwt::JwtError::Malformed => Error::new(ErrorType::UnableToParseSessionJwt, e.to_string()),
                        jwt::JwtError::Rejected => not_found(),
                    })?;
                Named::Jwt {
                    session_id: verified.session_id,
                    subject: verified.subject,
                }
            }
        })
    }

    /// The session a `sessions/authenticate` call answers with: extended if a duration is given,
    /// custom claims merged, naming `organization` if given (a member session names its
    /// organization's current slug). It is written only if that changed it or its
    /// `last_accessed_at` is [`TOUCH_INTERVAL_SECONDS`] old, and an unchanged session gets back
    /// the JWT it was last given while that has most of its life left (`recent_jwts`). The
    /// session was read and checked by [`Self::find`] in this call, so a revoked or expired one
    /// never gets here.
    pub async fn authenticated(
        &self,
        mut record: SessionRecord,
        token: String,
        organization: Option<OrgRef>,
        duration: Option<SessionDuration>,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        let stored = record.clone();
        amend(&mut record, duration, custom_claims, now)?;
        if organization.is_some() {
            record.organization = organization;
        }
        let touch_due = now - record.last_accessed_at >= chrono::Duration::seconds(TOUCH_INTERVAL_SECONDS);
        if record != stored || touch_due {
            record.last_accessed_at = now;
            if !self.store.update_session(&record).await? {
                return Err(not_found());
            }
        }
        let jwt = self.signed_or_reused(&record, now)?;
        Ok(Issued { record, token, jwt })
    }

    fn signed_or_reused(&self, record: &SessionRecord, now: DateTime<Utc>) -> Result<String, Error> {
        let kid = &self.keys.current().kid;
        if let Some(jwt) = self.recent_jwts.reusable(record, kid, now) {
            return Ok(jwt);
        }
        let jwt = self.sign(record, now)?;
        self.recent_jwts.remember(record, kid, &jwt, now);
        Ok(jwt)
    }

    /// A session refreshed (touched, optionally extended, a factor added, claims merged) and
    /// re-signed, not yet stored: for writes that store it together with something else.
    pub fn prepare_refresh(
        &self,
        mut record: SessionRecord,
        token: String,
        factor: Option<FactorRecord>,
        duration: Option<SessionDuration>,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        amend(&mut record, duration, custom_claims, now)?;
        record.last_accessed_at = now;
        if let Some(f) = factor {
            match record
                .factors
                .iter_mut()
                .find(|existing| existing.kind == f.kind && existing.email_id == f.email_id)
            {
                Some(existing) => {
                    existing.last_authenticated_at = f.last_authenticated_at;
                    existing.updated_at = f.updated_at;
                }
                None => record.factors.push(f),
            }
        }
        let jwt = self.sign(&record, now)?;
        Ok(Issued { record, token, jwt })
    }

    /// Refresh a session and store it.
    pub async fn refresh(
        &self,
        record: SessionRecord,
        token: String,
        factor: Option<FactorRecord>,
        duration: Option<SessionDuration>,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Error> {
        let issued = self.prepare_refresh(record, token, factor, duration, custom_claims, now)?;
        if !self.store.update_session(&issued.record).await? {
            return Err(not_found());
        }
        Ok(issued)
    }

    /// The session after a primary factor (password, magic link) was proved, signed but not
    /// stored: the existing one the request named, refreshed with the factor, or a new one if a
    /// duration was asked for, or none. For writes that store it together with something else
    /// (a login's lock reset).
    pub fn prepare_after_primary_factor(
        &self,
        existing: Option<(SessionRecord, String)>,
        user_id: &str,
        factor: FactorRecord,
        duration: Option<SessionDuration>,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Prepared>, Error> {
        Ok(match (existing, duration) {
            (Some((record, token)), _) => Some(Prepared::Refresh(self.prepare_refresh(
                record,
                token,
                Some(factor),
                duration,
                custom_claims,
                now,
            )?)),
            (None, Some(d)) => Some(Prepared::New(self.prepare(user_id, factor, d, custom_claims, now)?)),
            (None, None) => None,
        })
    }

    /// `prepare_after_primary_factor`, stored.
    pub async fn after_primary_factor(
        &self,
        existing: Option<(SessionRecord, String)>,
        user_id: &str,
        factor: FactorRecord,
        duration: Option<SessionDuration>,
        custom_claims: Option<&Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Issued>, Error> {
        match self.prepare_after_primary_factor(existing, user_id, factor, duration, custom_claims, now)? {
            Some(Prepared::Refresh(issued)) => {
                if !self.store.update_session(&issued.record).await? {
                    return Err(not_found());
                }
                Ok(Some(issued))
            }
            // A Conflict means the user vanished between authentication and here.
            Some(Prepared::New(issued)) => Ok(Some(
                self.store(issued, || {
                    Error::new(ErrorType::UserNotFound, "The user no longer exists.")
                })
                .await?,
            )),
            None => Ok(None),
        }
    }

    /// The active session in `scope` a request names, which must be `user_id`'s.
    pub async fn find_for_user(
        &self,
        by: Option<SessionRef<'_>>,
        scope: Scope<'_>,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionRecord, String)>, Error> {
        let Some(by) = by else { return Ok(None) };
        let (record, token) = self.find(by, scope, now).await?;
        if record.user_id != user_id {
            return Err(Error::new(
                ErrorType::SessionNotFound,
                "The session belongs to another user.",
            ));
        }
        Ok(Some((record, token)))
    }

    /// Revoke the one session named, if it is in `scope`; `session_not_found` if there is none.
    pub async fn revoke(&self, session_id: &str, scope: Scope<'_>) -> Result<(), Error> {
        let in_scope = self
            .store
            .session_by_id(session_id)
            .await?
            .is_some_and(|s| scope.admits(&s));
        if in_scope && self.store.delete_session(session_id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }
}
