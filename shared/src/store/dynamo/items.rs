//! Records ↔ DynamoDB items: every key and attribute name in one place (docs/dynamodb.md).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::{SessionRecord, SigningKeyRecord, StoreError, TokenRecord, UserRecord};

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const EXPIRES_AT: &str = "expires_at";
pub const DATA: &str = "data";
pub const VERSION: &str = "version";
pub const USED: &str = "used";
pub const COUNT: &str = "count";

pub const PROFILE: &str = "PROFILE";
pub const SESSION_PREFIX: &str = "SESSION#";
pub const TOKEN_PREFIX: &str = "TOKEN#";
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
            .map_err(|_| StoreError::Corrupt(format!("{name} is not a number"))),
        _ => Err(StoreError::Corrupt(format!("item lacks number attribute {name}"))),
    }
}

pub fn data<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, DATA)?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn user_item(user: &UserRecord, version: i64) -> Result<Item, StoreError> {
    Ok(with(
        key(user_pk(&user.user_id), PROFILE),
        [(DATA, json(user)?), ("email", s(&user.email)), (VERSION, n(version))],
    ))
}

pub fn email_guard_item(user: &UserRecord) -> Item {
    with(key(email_pk(&user.email), "EMAIL"), [("user_id", s(&user.user_id))])
}

pub fn session_item(session: &SessionRecord) -> Result<Item, StoreError> {
    Ok(with(
        key(session_pk(&session.session_id), "SESSION"),
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

pub fn token_item(token: &TokenRecord) -> Result<Item, StoreError> {
    Ok(with(
        key(token_pk(&token.token_digest), "TOKEN"),
        [
            (DATA, json(token)?),
            (USED, AttributeValue::Bool(token.used)),
            ("user_id", s(&token.user_id)),
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
    use crate::store::{Attributes, FactorKind, FactorRecord, LockState, PasswordRecord, TokenKind};

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
            lock: LockState {
                failed_attempts: 3,
                lock_created_at: Some(Utc::now()),
                lock_expires_at: None,
            },
        }
    }

    #[test]
    fn user_round_trips_with_its_keys() {
        let u = user();
        let item = user_item(&u, 7).unwrap();
        assert_eq!(get_s(&item, PK).unwrap(), "USER#user-test-1");
        assert_eq!(get_s(&item, SK).unwrap(), PROFILE);
        assert_eq!(get_n(&item, VERSION).unwrap(), 7);
        assert_eq!(data::<UserRecord>(&item).unwrap(), u);
        let guard = email_guard_item(&u);
        assert_eq!(get_s(&guard, PK).unwrap(), "EMAIL#a@example.com");
        assert!(!guard.contains_key(EXPIRES_AT));
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
            factors: vec![FactorRecord {
                kind: FactorKind::Password,
                last_authenticated_at: now,
                created_at: now,
                updated_at: now,
                email_id: None,
                email: None,
            }],
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
