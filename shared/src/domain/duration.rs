//! Bounded durations taken from requests.

use crate::error::{Error, ErrorType};

/// `session_duration_minutes`: 5 minutes to 366 days, as Stytch allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDuration(i64);

impl SessionDuration {
    pub const MIN: i64 = 5;
    pub const MAX: i64 = 527_040;

    pub fn parse(minutes: i64) -> Result<Self, Error> {
        if (Self::MIN..=Self::MAX).contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(Error::new(
                ErrorType::InvalidSessionDurationMinutes,
                format!(
                    "session_duration_minutes must be between {} and {}.",
                    Self::MIN,
                    Self::MAX
                ),
            ))
        }
    }

    /// B2B endpoints start a session even when no duration is sent: 60 minutes (docs/reference/stytch-api.md §12).
    pub const B2B_DEFAULT: Self = Self(60);

    /// Parse an optional request field.
    pub fn parse_opt(minutes: Option<i64>) -> Result<Option<Self>, Error> {
        minutes.map(Self::parse).transpose()
    }

    pub fn as_chrono(self) -> chrono::Duration {
        chrono::Duration::minutes(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(SessionDuration::parse(4).is_err());
        assert!(SessionDuration::parse(5).is_ok());
        assert!(SessionDuration::parse(527_040).is_ok());
        assert!(SessionDuration::parse(527_041).is_err());
        assert!(SessionDuration::parse(-1).is_err());
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn minutes() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            (SessionDuration::MIN - 10)..=(SessionDuration::MIN + 10),
            (SessionDuration::MAX - 10)..=(SessionDuration::MAX + 10),
            SessionDuration::MIN..=SessionDuration::MAX,
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn accepted_iff_within_bounds(m in minutes()) {
            let in_bounds = (5..=527_040).contains(&m);
            match SessionDuration::parse(m) {
                Ok(d) => {
                    prop_assert!(in_bounds, "{m} was accepted");
                    prop_assert_eq!(d.as_chrono().num_minutes(), m);
                }
                Err(err) => {
                    prop_assert!(!in_bounds, "{m} was refused");
                    prop_assert_eq!(err.error_type, ErrorType::InvalidSessionDurationMinutes);
                }
            }
        }

        #[test]
        fn an_optional_field_parses_as_the_field(m in prop::option::of(minutes())) {
            match (SessionDuration::parse_opt(m), m) {
                (Ok(None), None) => {}
                (Ok(Some(d)), Some(m)) => prop_assert_eq!(Ok(d), SessionDuration::parse(m)),
                (Err(err), Some(m)) => prop_assert_eq!(Err(err), SessionDuration::parse(m)),
                (got, m) => prop_assert!(false, "{m:?} gave {got:?}"),
            }
        }
    }
}
