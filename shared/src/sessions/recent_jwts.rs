//! The JWTs minted lately, per session, so that a session authenticated again before anything in
//! it changed gets back the JWT it was last given instead of a new RS256 signature (the one costly
//! step of `sessions/authenticate`; docs/reference/performance-facts.md, "The session hot path").
//!
//! A JWT is handed out again only while it has most of its life left ([`REUSE_SECONDS`] of its
//! `JWT_LIFETIME_SECONDS`), only if it was signed with the key that signs now, and only over a
//! session record equal to the one it was minted from: any change to the session (a factor, its
//! expiry, custom claims, the organization's slug, `last_accessed_at`) mints a new one. The JWT
//! itself says nothing the session does not, so its reuse is invisible but for `iat`.
//! Revocation and expiry are unaffected: the session is read and checked on every call before
//! this is consulted.

use chrono::{DateTime, Utc};

use crate::bounded_map::BoundedMap;
use crate::store::SessionRecord;

/// How old a JWT may be and still be handed out again: under half of its 5-minute life, so the
/// caller always gets at least 3 minutes (the frontend SDK refreshes every 3 minutes).
pub const REUSE_SECONDS: i64 = 120;

/// How many sessions' JWTs are kept (`BoundedMap`: when full the whole set is dropped): the cost is
/// one signature per session, the bound is the memory (a session record and a JWT, a few KiB, per
/// entry).
const CAPACITY: usize = 16_384;

struct Minted {
    record: SessionRecord,
    kid: String,
    jwt: String,
    at: DateTime<Utc>,
}

pub struct RecentJwts(BoundedMap<String, Minted>);

impl Default for RecentJwts {
    fn default() -> Self {
        Self(BoundedMap::new(CAPACITY))
    }
}

impl RecentJwts {
    /// The JWT minted at most [`REUSE_SECONDS`] before `now` with key `kid` over exactly `record`.
    pub fn reusable(&self, record: &SessionRecord, kid: &str, now: DateTime<Utc>) -> Option<String> {
        self.0.read(record.session_id.as_str(), |m| {
            let age = (now - m.at).num_seconds();
            (m.kid == kid && m.record == *record && (0..REUSE_SECONDS).contains(&age)).then(|| m.jwt.clone())
        })
    }

    /// Remember the JWT just minted over `record`.
    pub fn remember(&self, record: &SessionRecord, kid: &str, jwt: &str, now: DateTime<Utc>) {
        self.0.insert(
            record.session_id.clone(),
            Minted {
                record: record.clone(),
                kid: kid.to_string(),
                jwt: jwt.to_string(),
                at: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Attributes;
    use serde_json::Map;

    fn record(now: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            session_id: "session-test-1".into(),
            user_id: "user-test-1".into(),
            token_digest: "d".into(),
            started_at: now,
            last_accessed_at: now,
            expires_at: now + chrono::Duration::hours(1),
            attributes: Attributes::default(),
            custom_claims: Map::new(),
            factors: vec![],
            organization: None,
        }
    }

    #[test]
    fn a_jwt_is_reused_only_for_the_same_record_key_and_age() {
        let now = Utc::now();
        let recent = RecentJwts::default();
        let r = record(now);
        recent.remember(&r, "k1", "jwt-1", now);
        assert_eq!(recent.reusable(&r, "k1", now).as_deref(), Some("jwt-1"));
        let later = now + chrono::Duration::seconds(REUSE_SECONDS - 1);
        assert_eq!(recent.reusable(&r, "k1", later).as_deref(), Some("jwt-1"));
        let too_late = now + chrono::Duration::seconds(REUSE_SECONDS);
        assert_eq!(recent.reusable(&r, "k1", too_late), None, "past the reuse age");
        assert_eq!(recent.reusable(&r, "k2", now), None, "another signing key");
        let mut touched = r.clone();
        touched.last_accessed_at = now + chrono::Duration::seconds(1);
        assert_eq!(recent.reusable(&touched, "k1", now), None, "a changed record");
        let mut claims = r.clone();
        claims.custom_claims.insert("role".into(), "admin".into());
        assert_eq!(recent.reusable(&claims, "k1", now), None, "changed custom claims");
    }

    #[test]
    fn a_full_set_starts_again() {
        let now = Utc::now();
        let recent = RecentJwts::default();
        for i in 0..CAPACITY {
            let mut r = record(now);
            r.session_id = format!("session-test-{i}");
            recent.remember(&r, "k", "jwt", now);
        }
        let mut newest = record(now);
        newest.session_id = "session-test-newest".into();
        recent.remember(&newest, "k", "jwt-n", now);
        assert_eq!(recent.0.len(), 1);
        assert_eq!(recent.reusable(&newest, "k", now).as_deref(), Some("jwt-n"));
    }
}
