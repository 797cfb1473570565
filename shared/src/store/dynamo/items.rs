//! Records ↔ DynamoDB items: every key and attribute name in one place (docs/dynamodb.md).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::{
    LockState, OrganizationRecord, SessionRecord, SigningKeyRecord, StoreError, TokenRecord, UserRecord,
};

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const EXPIRES_AT: &str = "expires_at";
pub const DATA: &str = "data";
pub const VERSION: &str = "version";
pub const USED: &str = "used";
pub const COUNT: &str = "count";
pub const SLUG: &str = "slug";
pub const ORGANIZATION_ID: &str = "organization_id";

pub const PROFILE: &str = "PROFILE";
pub const SESSION_PREFIX: &str = "SESSION#";
pub const TOKEN_PREFIX: &str = "TOKEN#";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const SLUG_SK: &str = "SLUG";
pub const KEY_PREFIX: &str = "KEY#";
pub const KEYS_PK: &str = "KEYS";
pub const FIRST_KEY_SK: &str = "FIRST";

pub fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}
pub fn email_pk(email: &str) -> String {
    format!("EMAIL#{email}")
}
pub fn session_pk(session_id: &str) -> String {
    format!("SESSION#{session_id}")
}
pub fn session_token_pk(digest: &str) -> String {
    format!("STOKEN#{digest}")
}
pub fn token_pk(digest: &str) -> String {
    format!("TOKEN#{digest}")
}
pub fn org_pk(organization_id: &str) -> String {
    format!("ORG#{organization_id}")
}
pub fn slug_pk(slug: &str) -> String {
    format!("SLUG#{slug}")
}
/// The partition listing the members (of any organization) with one email address.
pub fn members_by_email_pk(email: &str) -> String {
    format!("MEMBERS#{email}")
}
pub fn member_sk(member_id: &str) -> String {
    format!("{MEMBER_PREFIX}{member_id}")
}
pub fn rate_pk(key: &str) -> String {
    format!("RATE#{key}")
}
pub fn window_sk(start: DateTime<Utc>) -> String {
    format!("WINDOW#{}", start.timestamp())
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The primary key of an item.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

fn with(mut item: Item, attrs: impl IntoIterator<Item = (&'static str, AttributeValue)>) -> Item {
    item.extend(attrs.into_iter().map(|(k, v)| (k.to_string(), v)));
    item
}

fn json<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(s)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::Corrupt(format!("item lacks string attribute {name}"))),
    }
}

pub fn get_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("{name} is not a number: {e}"))),
        _ => Err(StoreError::Corrupt(format!("item lacks number attribute {name}"))),
    }
}

pub fn data<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, DATA)?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The sort key of a user's item, which lives in its email's partition: a login finds (and
/// claims) it by email in one request.
pub const USER_SK: &str = "USER";
/// Lock state, kept outside `data` so a login's claim can change it in one conditional update.
pub const FAILED_ATTEMPTS: &str = "failed_attempts";
/// Microseconds since the epoch (`lockout::Ticket` compares to the microsecond).
pub const LOCK_CREATED_AT: &str = "lock_created_at";
pub const LOCK_EXPIRES_AT: &str = "lock_expires_at";
pub const EMAIL_KEY: &str = "email_key";
/// On the user pointer: the user's `credential_epoch` (docs/security.md R7), kept outside the user
/// item's `data` so redeeming a token can check it by user id in the same transaction.
pub const CREDENTIAL_EPOCH: &str = "credential_epoch";

/// The key of the user item for an email key (`records::email_key`).
pub fn user_key(email_key: &str) -> Item {
    key(email_pk(email_key), USER_SK)
}

/// The key of the pointer from a user's id to its item.
pub fn user_pointer_key(user_id: &str) -> Item {
    key(user_pk(user_id), PROFILE)
}

/// The lock state as the item's lock attributes: (SET values, attributes to REMOVE).
pub fn lock_attributes(lock: &LockState) -> (Vec<(&'static str, AttributeValue)>, Vec<&'static str>) {
    let mut set = vec![(FAILED_ATTEMPTS, n(i64::from(lock.failed_attempts)))];
    let mut remove = vec![];
    for (name, at) in [
        (LOCK_CREATED_AT, lock.lock_created_at),
        (LOCK_EXPIRES_AT, lock.lock_expires_at),
    ] {
        match at {
            Some(t) => set.push((name, n(t.timestamp_micros()))),
            None => remove.push(name),
        }
    }
    (set, remove)
}

/// A user's item, holding the whole record: `data` (whose `lock` the lock attributes override),
/// its version for optimistic writes, and the lock attributes.
pub fn user_item(user: &UserRecord, version: i64) -> Result<Item, StoreError> {
    let (lock, _) = lock_attributes(&user.lock);
    Ok(with(
        with(
            user_key(&user.email_key()),
            [
                (DATA, json(user)?),
                ("user_id", s(&user.user_id)),
                ("email", s(&user.email)),
                (VERSION, n(version)),
            ],
        ),
        lock,
    ))
}

/// The user and the version of a user item.
pub fn user_from_item(item: &Item) -> Result<(UserRecord, i64), StoreError> {
    let mut user: UserRecord = data(item)?;
    let micros = |name: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        match item.get(name) {
            None => Ok(None),
            Some(_) => DateTime::from_timestamp_micros(get_n(item, name)?)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt(format!("{name} is out of range"))),
        }
    };
    user.lock = LockState {
        failed_attempts: u32::try_from(get_n(item, FAILED_ATTEMPTS)?)
            .map_err(|e| StoreError::Corrupt(format!("{FAILED_ATTEMPTS} is out of range: {e}")))?,
        lock_created_at: micros(LOCK_CREATED_AT)?,
        lock_expires_at: micros(LOCK_EXPIRES_AT)?,
    };
    Ok((user, get_n(item, VERSION)?))
}

/// The pointer from a user's id to its item (by id lookups, and the partition holding the
/// pointers to its sessions and tokens).
pub fn user_pointer_item(user: &UserRecord) -> Item {
    with(
        user_pointer_key(&user.user_id),
        [
            (EMAIL_KEY, s(user.email_key())),
            (CREDENTIAL_EPOCH, epoch(user.credential_epoch)),
        ],
    )
}

/// A credential epoch as a number attribute.
pub fn epoch(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// For a member: the pointer in its organization's partition that `delete_organization` finds it
/// by. None for a user.
pub fn member_pointer_item(user: &UserRecord) -> Option<Item> {
    user.organization_id()
        .map(|org| key(org_pk(org), member_sk(&user.user_id)))
}

/// For a member: its entry under its address, for the cross-organization lookup by email. None
/// for a user.
pub fn member_email_item(user: &UserRecord) -> Option<Item> {
    user.organization_id().map(|org| {
        with(
            key(members_by_email_pk(&user.email), member_sk(&user.user_id)),
            [(ORGANIZATION_ID, s(org))],
        )
    })
}

pub fn organization_item(org: &OrganizationRecord) -> Result<Item, StoreError> {
    Ok(with(
        org_key(&org.organization_id),
        [(DATA, json(org)?), (SLUG, s(&org.organization_slug))],
    ))
}

pub fn slug_guard_item(org: &OrganizationRecord) -> Item {
    with(
        key(slug_pk(&org.organization_slug), SLUG_SK),
        [(ORGANIZATION_ID, s(&org.organization_id))],
    )
}

/// The key of a session's item.
pub fn session_key(session_id: &str) -> Item {
    key(session_pk(session_id), "SESSION")
}

/// The key of an organization's item.
pub fn org_key(organization_id: &str) -> Item {
    key(org_pk(organization_id), PROFILE)
}

/// Whether `item` is the one at `key`.
pub fn same_key(item: &Item, key: &Item) -> bool {
    [PK, SK].iter().all(|k| item.get(*k) == key.get(*k))
}

pub fn session_item(session: &SessionRecord) -> Result<Item, StoreError> {
    Ok(with(
        session_key(&session.session_id),
        [
            (DATA, json(session)?),
            ("user_id", s(&session.user_id)),
            ("token_digest", s(&session.token_digest)),
            (EXPIRES_AT, n(session.expires_at.timestamp())),
        ],
    ))
}

pub fn session_token_item(session: &SessionRecord) -> Item {
    with(
        key(session_token_pk(&session.token_digest), "STOKEN"),
        [
            ("session_id", s(&session.session_id)),
            ("user_id", s(&session.user_id)),
            (EXPIRES_AT, n(session.expires_at.timestamp())),
        ],
    )
}

pub fn session_pointer_item(session: &SessionRecord) -> Item {
    with(
        key(
            user_pk(&session.user_id),
            format!("{SESSION_PREFIX}{}", session.session_id),
        ),
        [
            ("token_digest", s(&session.token_digest)),
            (EXPIRES_AT, n(session.expires_at.timestamp())),
        ],
    )
}

/// The `data` attribute of a token item.
pub fn token_data(token: &TokenRecord) -> Result<AttributeValue, StoreError> {
    json(token)
}

pub fn token_item(token: &TokenRecord) -> Result<Item, StoreError> {
    Ok(with(
        key(token_pk(&token.token_digest), "TOKEN"),
        [
            (DATA, token_data(token)?),
            (USED, AttributeValue::Bool(token.used)),
            ("user_id", s(&token.user_id)),
            (CREDENTIAL_EPOCH, epoch(token.credential_epoch)),
            (EXPIRES_AT, n(token.expires_at.timestamp())),
        ],
    ))
}

pub fn token_pointer_item(token: &TokenRecord) -> Item {
    with(
        key(user_pk(&token.user_id), format!("{TOKEN_PREFIX}{}", token.token_digest)),
        [(EXPIRES_AT, n(token.expires_at.timestamp()))],
    )
}

/// A token read back: the `used` attribute is the authority, since it is what the conditional
/// update flips.
pub fn token_from_item(item: &Item) -> Result<TokenRecord, StoreError> {
    let mut token: TokenRecord = data(item)?;
    token.used = matches!(item.get(USED), Some(AttributeValue::Bool(true)));
    Ok(token)
}

pub fn signing_key_item(key_record: &SigningKeyRecord) -> Result<Item, StoreError> {
    Ok(with(
        key(KEYS_PK, format!("{KEY_PREFIX}{}", key_record.kid)),
        [(DATA, json(key_record)?)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{
        Allowance, Attributes, FactorKind, FactorRecord, JitProvisioning, LockState, MemberFields, MemberStatus,
        MethodRestriction, MfaPolicy, PasswordRecord, TokenKind,
    };

    fn user() -> UserRecord {
        UserRecord {
            user_id: "user-test-1".into(),
            email: "a@example.com".into(),
            email_id: "email-test-1".into(),
            email_verified: true,
            password: Some(PasswordRecord {
                password_id: "password-test-1".into(),
                hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                requires_reset: true,
            }),
            name: Default::default(),
            trusted_metadata: serde_json::from_str(r#"{"tier":"gold"}"#).unwrap(),
            untrusted_metadata: Default::default(),
            created_at: Utc::now(),
            // The lock attributes keep microseconds.
            lock: LockState {
                failed_attempts: 3,
                lock_created_at: DateTime::from_timestamp_micros(Utc::now().timestamp_micros()),
                lock_expires_at: None,
            },
            member: None,
            credential_epoch: 0,
        }
    }

    #[test]
    fn the_lock_attributes_are_the_authority_over_data() {
        let u = user();
        let mut item = user_item(&u, 1).unwrap();
        assert_eq!(get_n(&item, FAILED_ATTEMPTS).unwrap(), 3);
        assert!(!item.contains_key(LOCK_EXPIRES_AT), "no lock expiry is stored as none");
        // A claim changed the attributes only; `data` still holds the older lock.
        item.insert(FAILED_ATTEMPTS.into(), n(9));
        item.insert(LOCK_EXPIRES_AT.into(), n(4_000_000_000_000_000));
        let (read, _) = user_from_item(&item).unwrap();
        assert_eq!(read.lock.failed_attempts, 9);
        assert_eq!(read.lock.lock_expires_at.unwrap().timestamp(), 4_000_000_000);
        item.insert(FAILED_ATTEMPTS.into(), n(-1));
        assert!(matches!(user_from_item(&item), Err(StoreError::Corrupt(_))));
    }

    fn member(org: &str) -> UserRecord {
        UserRecord {
            user_id: "member-test-1".into(),
            member: Some(MemberFields::new(org, MemberStatus::Active, Utc::now())),
            ..user()
        }
    }

    fn organization() -> OrganizationRecord {
        OrganizationRecord {
            organization_id: "organization-test-1".into(),
            organization_name: "Acme".into(),
            organization_slug: "acme".into(),
            organization_logo_url: String::new(),
            organization_external_id: None,
            trusted_metadata: Default::default(),
            sso_jit_provisioning: Allowance::AllAllowed,
            email_allowed_domains: vec!["acme.test".into()],
            email_jit_provisioning: JitProvisioning::Restricted,
            email_invites: Allowance::AllAllowed,
            auth_methods: MethodRestriction::AllAllowed,
            allowed_auth_methods: vec![],
            mfa_policy: MfaPolicy::Optional,
            mfa_methods: MethodRestriction::AllAllowed,
            allowed_mfa_methods: vec![],
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn user_round_trips_with_its_keys() {
        let u = user();
        let item = user_item(&u, 7).unwrap();
        assert_eq!(get_s(&item, PK).unwrap(), "EMAIL#a@example.com");
        assert_eq!(get_s(&item, SK).unwrap(), USER_SK);
        assert!(!item.contains_key(EXPIRES_AT));
        assert_eq!(user_from_item(&item).unwrap(), (u.clone(), 7));
        let pointer = user_pointer_item(&u);
        assert_eq!(get_s(&pointer, PK).unwrap(), "USER#user-test-1");
        assert_eq!(get_s(&pointer, SK).unwrap(), PROFILE);
        assert_eq!(get_s(&pointer, EMAIL_KEY).unwrap(), "a@example.com");
        assert_eq!(get_n(&pointer, CREDENTIAL_EPOCH).unwrap(), 0);
        assert!(member_pointer_item(&u).is_none(), "a user has no member pointer");
        assert!(member_email_item(&u).is_none(), "nor an entry among members by email");
    }

    #[test]
    fn a_member_is_guarded_within_its_organization_and_pointed_to_from_it() {
        let m = member("organization-test-1");
        let item = user_item(&m, 1).unwrap();
        assert_eq!(user_from_item(&item).unwrap().0, m);
        assert_eq!(get_s(&item, PK).unwrap(), "EMAIL#organization-test-1 a@example.com");
        assert_eq!(get_s(&item, "user_id").unwrap(), "member-test-1");
        let pointer = member_pointer_item(&m).unwrap();
        assert_eq!(get_s(&pointer, PK).unwrap(), "ORG#organization-test-1");
        assert_eq!(get_s(&pointer, SK).unwrap(), "MEMBER#member-test-1");
        assert!(!pointer.contains_key(EXPIRES_AT));
        let by_email = member_email_item(&m).unwrap();
        assert_eq!(get_s(&by_email, PK).unwrap(), "MEMBERS#a@example.com");
        assert_eq!(get_s(&by_email, SK).unwrap(), "MEMBER#member-test-1");
        assert_eq!(get_s(&by_email, ORGANIZATION_ID).unwrap(), "organization-test-1");
    }

    #[test]
    fn an_organization_and_its_slug_guard_round_trip() {
        let o = organization();
        let item = organization_item(&o).unwrap();
        assert_eq!(get_s(&item, PK).unwrap(), "ORG#organization-test-1");
        assert_eq!(get_s(&item, SK).unwrap(), PROFILE);
        assert_eq!(get_s(&item, SLUG).unwrap(), "acme");
        assert_eq!(data::<OrganizationRecord>(&item).unwrap(), o);
        let guard = slug_guard_item(&o);
        assert_eq!(get_s(&guard, PK).unwrap(), "SLUG#acme");
        assert_eq!(get_s(&guard, SK).unwrap(), SLUG_SK);
        assert_eq!(get_s(&guard, ORGANIZATION_ID).unwrap(), "organization-test-1");
        assert!(!item.contains_key(EXPIRES_AT) && !guard.contains_key(EXPIRES_AT));
    }

    #[test]
    fn session_and_its_pointers_round_trip_and_expire_together() {
        let now = Utc::now();
        let s = SessionRecord {
            session_id: "session-test-1".into(),
            user_id: "user-test-1".into(),
            token_digest: "abc".into(),
            started_at: now,
            last_accessed_at: now,
            expires_at: now + chrono::Duration::minutes(5),
            attributes: Attributes::default(),
            custom_claims: Default::default(),
            factors: vec![FactorRecord::proved(FactorKind::Password, now)],
            organization: None,
        };
        let items = [
            session_item(&s).unwrap(),
            session_token_item(&s),
            session_pointer_item(&s),
        ];
        for item in &items {
            assert_eq!(get_n(item, EXPIRES_AT).unwrap(), s.expires_at.timestamp());
        }
        assert_eq!(data::<SessionRecord>(&items[0]).unwrap(), s);
        assert_eq!(get_s(&items[1], PK).unwrap(), "STOKEN#abc");
        assert_eq!(get_s(&items[2], SK).unwrap(), "SESSION#session-test-1");
    }

    #[test]
    fn token_used_flag_comes_from_its_attribute() {
        let now = Utc::now();
        let t = TokenRecord {
            token_digest: "d".into(),
            kind: TokenKind::MagicLink,
            user_id: "user-test-1".into(),
            email_id: "email-test-1".into(),
            created_at: now,
            expires_at: now,
            code_challenge: Some("c".into()),
            attributes: Attributes::default(),
            used: false,
            organization_id: Some("organization-test-1".into()),
            factors: vec![],
            credential_epoch: 3,
        };
        let mut item = token_item(&t).unwrap();
        assert_eq!(token_from_item(&item).unwrap(), t);
        item.insert(USED.into(), AttributeValue::Bool(true));
        assert!(token_from_item(&item).unwrap().used);
        assert!(token_pointer_item(&t).contains_key(EXPIRES_AT));
    }

    #[test]
    fn corrupt_items_are_reported() {
        let mut item = key("USER#x", PROFILE);
        assert!(matches!(data::<UserRecord>(&item), Err(StoreError::Corrupt(_))));
        item.insert(DATA.into(), s("{not json"));
        assert!(matches!(data::<UserRecord>(&item), Err(StoreError::Corrupt(_))));
    }
}
