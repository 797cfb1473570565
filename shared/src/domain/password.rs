//! A cleartext password as received: bounded in length, never printed.

use crate::error::{Error, ErrorType};

/// The longest password accepted, in Unicode code points. Longer input is refused before it is
/// scored or hashed, so neither can be used to burn CPU (docs/security.md S3, I1).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password within [`MAX_PASSWORD_CHARS`]. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, Error> {
        // Count lazily so a 1 MB password is refused after 257 characters, not after a full scan.
        if raw.chars().nth(MAX_PASSWORD_CHARS).is_some() {
            return Err(Error::new(
                ErrorType::PasswordTooLong,
                format!("The password is longer than {MAX_PASSWORD_CHARS} characters."),
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_code_points() {
        assert!(Password::parse("é".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert!(Password::parse("🔑".repeat(MAX_PASSWORD_CHARS)).is_ok());
        let err = Password::parse("a".repeat(MAX_PASSWORD_CHARS + 1)).unwrap_err();
        assert_eq!(err.error_type, ErrorType::PasswordTooLong);
        assert!(Password::parse("漢".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let p = Password::parse("hunter2hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn accepted_iff_at_most_the_cap_and_kept_verbatim(
            raw in prop_oneof![any::<String>(), "\\PC{240,270}", ".{250,262}"]
        ) {
            let n = raw.chars().count();
            match Password::parse(raw.clone()) {
                Ok(p) => {
                    prop_assert!(n <= MAX_PASSWORD_CHARS, "{n} characters were accepted");
                    prop_assert_eq!(p.expose(), raw.as_str());
                    prop_assert_eq!(format!("{p:?}"), "Password(<redacted>)");
                }
                Err(err) => {
                    prop_assert!(n > MAX_PASSWORD_CHARS, "{n} characters were refused: {err}");
                    prop_assert_eq!(err.error_type, ErrorType::PasswordTooLong);
                }
            }
        }

        #[test]
        fn the_cap_is_exact_for_any_character(c in any::<char>(), n in 250usize..=262) {
            let result = Password::parse(c.to_string().repeat(n));
            prop_assert_eq!(result.is_ok(), n <= MAX_PASSWORD_CHARS, "{} copies of {:?}", n, c);
            if let Err(err) = result {
                prop_assert_eq!(err.error_type, ErrorType::PasswordTooLong);
            }
        }
    }
}
