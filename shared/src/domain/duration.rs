//! Bounded durations taken from requests.

use crate::api::error::{ApiError, ErrorType};

/// `session_duration_minutes`: 5 minutes to 366 days, as Stytch allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDuration(i64);

impl SessionDuration {
    pub const MIN: i64 = 5;
    pub const MAX: i64 = 527_040;

    pub fn parse(minutes: i64) -> Result<Self, ApiError> {
        if (Self::MIN..=Self::MAX).contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(ApiError::new(
                ErrorType::InvalidSessionDurationMinutes,
                format!(
                    "session_duration_minutes must be between {} and {}.",
                    Self::MIN,
                    Self::MAX
                ),
            ))
        }
    }

    /// B2B endpoints start a session even when no duration is sent: 60 minutes (reference §12).
    pub const B2B_DEFAULT: Self = Self(60);

    /// Parse an optional request field.
    pub fn parse_opt(minutes: Option<i64>) -> Result<Option<Self>, ApiError> {
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
