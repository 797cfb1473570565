//! PKCE (RFC 7636, S256): a start call may send `code_challenge`; the completing call must then
//! send the `code_verifier` whose SHA-256 (base64url) is that challenge.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorType};

/// A code challenge as sent at start: 43 to 128 characters of the base64url alphabet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let ok =
            (43..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(Error::new(
                ErrorType::InvalidPkceCodeChallenge,
                "code_challenge must be the base64url SHA-256 of a code verifier (43 to 128 characters).",
            ))
        }
    }

    pub fn parse_opt(raw: Option<&str>) -> Result<Option<Self>, Error> {
        raw.filter(|r| !r.is_empty()).map(Self::parse).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn of_verifier(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

/// Check the completing call against what the start call stored.
pub fn check(stored_challenge: Option<&str>, verifier: Option<&str>) -> Result<(), Error> {
    match (stored_challenge, verifier.filter(|v| !v.is_empty())) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(Error::new(
            ErrorType::PkceExpectedCodeVerifier,
            "This token was issued with PKCE: send code_verifier.",
        )),
        (None, Some(_)) => Err(Error::new(
            ErrorType::PkceDidNotExpectCodeVerifier,
            "This token was issued without PKCE: do not send code_verifier.",
        )),
        (Some(challenge), Some(v)) => {
            let computed = CodeChallenge::of_verifier(v);
            if bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorType::PkceMismatch,
                    "code_verifier does not match the code_challenge.",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_example() {
        // RFC 7636 appendix B.
        assert_eq!(
            CodeChallenge::of_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let stored = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check(Some(stored), Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).is_ok());
        assert_eq!(
            check(Some(stored), Some("wrong")).unwrap_err().error_type,
            ErrorType::PkceMismatch
        );
        assert_eq!(
            check(Some(stored), None).unwrap_err().error_type,
            ErrorType::PkceExpectedCodeVerifier
        );
        assert_eq!(
            check(None, Some("x")).unwrap_err().error_type,
            ErrorType::PkceDidNotExpectCodeVerifier
        );
        assert!(CodeChallenge::parse("short").is_err());
        assert!(CodeChallenge::parse(stored).is_ok());
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn is_base64url(s: &str) -> bool {
        s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    fn challenge_like() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[A-Za-z0-9_-]{30,140}", "[A-Za-z0-9_=+/.~ é-]{40,130}",]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn a_challenge_is_43_to_128_base64url_characters(raw in challenge_like()) {
            let valid = (43..=128).contains(&raw.chars().count()) && is_base64url(&raw);
            match CodeChallenge::parse(&raw) {
                Ok(c) => {
                    prop_assert!(valid, "{raw:?} was accepted");
                    prop_assert_eq!(c.as_str(), raw.as_str());
                }
                Err(err) => {
                    prop_assert!(!valid, "{raw:?} was refused");
                    prop_assert_eq!(err.error_type, ErrorType::InvalidPkceCodeChallenge);
                }
            }
        }

        #[test]
        fn an_empty_optional_challenge_is_none(raw in prop::option::of(challenge_like())) {
            let got = CodeChallenge::parse_opt(raw.as_deref());
            match raw.as_deref() {
                None | Some("") => prop_assert_eq!(got, Ok(None)),
                Some(r) => prop_assert_eq!(got, CodeChallenge::parse(r).map(Some)),
            }
        }

        #[test]
        fn the_challenge_of_any_verifier_is_a_valid_challenge(verifier in any::<String>()) {
            let challenge = CodeChallenge::of_verifier(&verifier);
            prop_assert_eq!(challenge.len(), 43);
            prop_assert!(CodeChallenge::parse(&challenge).is_ok());
        }

        #[test]
        fn only_the_matching_verifier_passes(verifier in "[A-Za-z0-9._~-]{1,128}", other in any::<String>()) {
            let challenge = CodeChallenge::of_verifier(&verifier);
            prop_assert_eq!(check(Some(&challenge), Some(&verifier)), Ok(()));
            let got = check(Some(&challenge), Some(&other));
            if other.is_empty() {
                prop_assert_eq!(got.unwrap_err().error_type, ErrorType::PkceExpectedCodeVerifier);
            } else if other != verifier {
                prop_assert_eq!(got.unwrap_err().error_type, ErrorType::PkceMismatch);
            }
        }

        #[test]
        fn check_never_panics_and_answers_a_pkce_error(
            stored in prop::option::of(challenge_like()),
            verifier in prop::option::of(any::<String>()),
        ) {
            let sent = verifier.as_deref().filter(|v| !v.is_empty());
            match (check(stored.as_deref(), verifier.as_deref()), stored.as_deref(), sent) {
                (Ok(()), None, None) => {}
                (Ok(()), Some(c), Some(v)) => prop_assert_eq!(CodeChallenge::of_verifier(v), c),
                (Err(err), Some(_), None) => prop_assert_eq!(err.error_type, ErrorType::PkceExpectedCodeVerifier),
                (Err(err), None, Some(_)) => prop_assert_eq!(err.error_type, ErrorType::PkceDidNotExpectCodeVerifier),
                (Err(err), Some(c), Some(v)) => {
                    prop_assert_ne!(CodeChallenge::of_verifier(v), c);
                    prop_assert_eq!(err.error_type, ErrorType::PkceMismatch);
                }
                (got, c, v) => prop_assert!(false, "{c:?} and {v:?} gave {got:?}"),
            }
        }
    }
}
