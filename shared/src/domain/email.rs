//! An email address that has been checked and case-folded: the only way to get one is `parse`.

use crate::api::error::{ApiError, ErrorType};

/// Limits from RFC 5321 §4.5.3.1 (local part 64, path 254 usable characters).
const MAX_LOCAL: usize = 64;
const MAX_TOTAL: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain` with one `@`, no whitespace or control characters, a local part of
    /// at most 64 and a whole of at most 254 characters, and a domain of dot-separated labels.
    /// The result is lower-cased, so `User@Example.com` and `user@example.com` are one account.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid =
            |why: &str| ApiError::new(ErrorType::InvalidEmail, format!("The email address is invalid: {why}."));
        if raw.is_empty() {
            return Err(invalid("it is empty"));
        }
        if raw.chars().count() > MAX_TOTAL {
            return Err(invalid("it is longer than 254 characters"));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("it contains whitespace or control characters"));
        }
        let mut parts = raw.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid("it must contain exactly one @"));
        };
        if local.is_empty() || local.chars().count() > MAX_LOCAL {
            return Err(invalid("the part before @ must be 1 to 64 characters"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(invalid("the part before @ has a misplaced dot"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("the domain must be labels separated by dots, like example.com"));
        }
        Ok(Self(raw.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts zxcvbn should treat as known to an attacker: the local part, its pieces split
    /// on punctuation, and the domain's first label.
    pub fn user_inputs(&self) -> Vec<String> {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let mut inputs = vec![local.to_string()];
        // `alice.smith` is typed as `alicesmith` in passwords at least as often as with the dot.
        let joined: String = local.chars().filter(|c| c.is_alphanumeric()).collect();
        if joined != local && joined.len() >= 2 {
            inputs.push(joined);
        }
        inputs.extend(
            local
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| p.len() >= 2 && *p != local)
                .map(str::to_string),
        );
        if let Some(first) = domain.split('.').next().filter(|d| d.len() >= 2) {
            inputs.push(first.to_string());
        }
        inputs
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_case_folds() {
        assert_eq!(
            EmailAddress::parse("User@Example.COM").unwrap().as_str(),
            "user@example.com"
        );
        assert!(EmailAddress::parse("a.b+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(260));
        for bad in [
            "",
            "plain",
            "a@@b.com",
            "a@b@c.com",
            "a @b.com",
            "a\u{7}@b.com",
            "@b.com",
            "a@",
            "a@b",
            "a@.com",
            "a@b..com",
            ".a@b.com",
            "a..b@c.com",
            "a@-b.com",
            &long_local,
            &long_total,
        ] {
            let err = EmailAddress::parse(bad).unwrap_err();
            assert_eq!(err.error_type, ErrorType::InvalidEmail, "{bad:?}");
        }
    }

    #[test]
    fn user_inputs_split_the_local_part() {
        let e = EmailAddress::parse("alice.smith@acme.test").unwrap();
        let inputs = e.user_inputs();
        for want in ["alice.smith", "alicesmith", "alice", "smith", "acme"] {
            assert!(inputs.iter().any(|i| i == want), "{want} missing from {inputs:?}");
        }
    }
}
