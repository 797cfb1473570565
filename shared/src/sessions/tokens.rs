//! Opaque bearer tokens: random, URL-safe, and stored only as keyed digests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// `bytes` random bytes from the OS CSPRNG, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Session tokens carry 256 random bits (44 characters, like Stytch's).
pub const SESSION_TOKEN_BYTES: usize = 32;

/// HMAC-SHA256 under the deployment's pepper: a leaked table does not yield usable tokens, and
/// without the pepper a digest cannot be checked against guesses.
#[derive(Clone)]
pub struct TokenDigester {
    pepper: Vec<u8>,
}

impl TokenDigester {
    pub fn new(pepper: Vec<u8>) -> Self {
        Self { pepper }
    }

    pub fn digest(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.pepper).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for TokenDigester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigester(<pepper redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(SESSION_TOKEN_BYTES);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(SESSION_TOKEN_BYTES));
    }

    #[test]
    fn digests_depend_on_the_pepper() {
        let t = random_token(32);
        let d1 = TokenDigester::new(vec![1; 32]).digest(&t);
        assert_eq!(d1, TokenDigester::new(vec![1; 32]).digest(&t));
        assert_ne!(d1, TokenDigester::new(vec![2; 32]).digest(&t));
        assert!(!d1.contains(&t));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;
    use crate::error::ErrorType;
    use crate::flows::emailed_links::{redeemable, redeemable_member_link};
    use crate::flows::tokens::unusable as unusable_token;
    use crate::sessions::{Scope, SessionRef};
    use crate::store::TokenKind;
    use crate::test_support::{runtime, state};

    /// Strings a client might send as a token: anything, things shaped like real tokens, long ones.
    fn token_like() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_-]{43}",
            "[A-Za-z0-9_-]{500,530}",
            ".{0,600}",
            Just(String::new()),
        ]
    }

    fn token_kind() -> impl Strategy<Value = TokenKind> {
        prop::sample::select(vec![
            TokenKind::ResetPassword,
            TokenKind::MagicLink,
            TokenKind::MultiTenantMagicLink,
            TokenKind::MultiTenantPassword,
            TokenKind::IntermediateSession,
        ])
    }

    fn scope() -> impl Strategy<Value = Scope<'static>> {
        prop::sample::select(vec![
            Scope::Consumer,
            Scope::AnyOrganization,
            Scope::Organization("organization-test-x"),
        ])
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn random_tokens_are_base64url_of_their_length(n in 0usize..=64) {
            let t = random_token(n);
            prop_assert_eq!(t.len(), (4 * n).div_ceil(3));
            prop_assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{}", t);
            prop_assert_eq!(URL_SAFE_NO_PAD.decode(&t).map(|b| b.len()), Ok(n));
        }

        #[test]
        fn digests_are_keyed_hex_and_tell_tokens_apart(
            pepper in prop::collection::vec(any::<u8>(), 0..80),
            a in token_like(),
            b in token_like(),
        ) {
            let d = TokenDigester::new(pepper.clone());
            let da = d.digest(&a);
            prop_assert_eq!(da.len(), 64);
            prop_assert!(da.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)), "{}", da);
            prop_assert_eq!(&da, &TokenDigester::new(pepper).digest(&a));
            prop_assert_eq!(da == d.digest(&b), a == b);
        }

        #[test]
        fn session_arguments_take_exactly_one_nonempty_of_token_and_jwt(
            token in prop::option::of(prop_oneof![Just(String::new()), any::<String>()]),
            jwt in prop::option::of(prop_oneof![Just(String::new()), any::<String>()]),
        ) {
            let t = token.as_deref().filter(|t| !t.is_empty());
            let j = jwt.as_deref().filter(|j| !j.is_empty());
            let optional = SessionRef::from_optional(token.as_deref(), jwt.as_deref());
            let required = SessionRef::required(token.as_deref(), jwt.as_deref());
            match (t, j) {
                (Some(_), Some(_)) => {
                    prop_assert_eq!(optional.unwrap_err().error_type, ErrorType::TooManySessionArguments);
                    prop_assert_eq!(required.unwrap_err().error_type, ErrorType::TooManySessionArguments);
                }
                (None, None) => {
                    prop_assert!(optional.unwrap().is_none());
                    prop_assert_eq!(required.unwrap_err().error_type, ErrorType::NoSessionArguments);
                }
                (Some(t), None) => {
                    prop_assert!(matches!(optional, Ok(Some(SessionRef::Token(x))) if x == t));
                    prop_assert!(matches!(required, Ok(SessionRef::Token(x)) if x == t));
                }
                (None, Some(j)) => {
                    prop_assert!(matches!(optional, Ok(Some(SessionRef::Jwt(x))) if x == j));
                    prop_assert!(matches!(required, Ok(SessionRef::Jwt(x)) if x == j));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        #[test]
        fn any_session_token_is_not_found(token in token_like(), scope in scope()) {
            let err = runtime()
                .block_on(state().sessions.find(SessionRef::Token(&token), scope, chrono::Utc::now()))
                .unwrap_err();
            prop_assert_eq!(err.error_type, ErrorType::SessionNotFound, "{}", err);
        }

        #[test]
        fn any_emailed_token_is_unusable_for_its_kind(
            token in token_like(),
            kind in token_kind(),
            verifier in prop::option::of(any::<String>()),
        ) {
            let st = state();
            let want = unusable_token(kind).error_type;
            let err = runtime()
                .block_on(redeemable(st, &token, kind, verifier.as_deref(), None, None))
                .unwrap_err();
            prop_assert_eq!(err.error_type, want, "{}", err);
            let err = runtime()
                .block_on(redeemable_member_link(st, &token, kind, verifier.as_deref()))
                .unwrap_err();
            prop_assert_eq!(err.error_type, want, "{}", err);
        }
    }
}
