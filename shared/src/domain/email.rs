//! An email address that has been checked and case-folded: the only way to get one is `parse`.

use crate::api::error::{ApiError, ErrorType};

/// Limits from RFC 5321 §4.5.3.1 (local part 64, path 254 usable characters).
const MAX_LOCAL: usize = 64;
pub const MAX_TOTAL: usize = 254;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain` with one `@`, no whitespace or control characters, a local part of
    /// at most 64 and a whole of at most 254 characters, and a domain of dot-separated labels.
    /// The result is lower-cased, so `User@Example.com` and `user@example.com` are one account.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid =
            |why: &str| ApiError::new(ErrorType::InvalidEmail, format!("The email address is invalid: {why}."));
        // Check the address as it will be stored: lower-casing can lengthen it (`İ` becomes `i`
        // and a combining dot), which would let an over-long or malformed address through.
        let folded = raw.to_lowercase();
        let raw = folded.as_str();
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
        Ok(Self(folded))
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
    fn the_limits_hold_for_the_case_folded_address() {
        // `İ` lower-cases to two characters, `i` and a combining dot (not alphanumeric).
        assert!(EmailAddress::parse("a@İx.com").is_err());
        let local = format!("{}@example.com", "İ".repeat(40));
        assert_eq!(
            EmailAddress::parse(&local).unwrap_err().error_type,
            ErrorType::InvalidEmail
        );
        assert!(EmailAddress::parse(&format!("{}@example.com", "İ".repeat(32))).is_ok());
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

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    /// Atoms of a local part: ASCII `atext`, and letters whose case mappings are unusual.
    const LOCAL_ATOM: &str = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~éÉßẞΣİıKÅ漢-]{1,20}";
    const LOCAL_ATOM_ASCII: &str = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,20}";
    const LABEL: &str = "[a-zA-Z0-9éÉİıKÅ漢]([a-zA-Z0-9éİ-]{0,14}[a-zA-Z0-9éİ])?";
    const LABEL_ASCII: &str = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,14}[a-zA-Z0-9])?";

    /// `local@domain` with 1 to 3 atoms (at most 62 characters) and 2 to 4 labels: every rule of
    /// `parse` holds for the address as generated.
    fn address(atom: &'static str, label: &'static str) -> impl Strategy<Value = String> {
        (prop::collection::vec(atom, 1..=3), prop::collection::vec(label, 2..=4))
            .prop_map(|(atoms, labels)| format!("{}@{}", atoms.join("."), labels.join(".")))
    }

    /// What every accepted address must satisfy, whatever was sent.
    fn assert_normal_form(raw: &str, e: &EmailAddress) -> Result<(), TestCaseError> {
        let s = e.as_str();
        let folded = raw.to_lowercase();
        prop_assert_eq!(s, folded.as_str());
        prop_assert!(s.chars().count() <= MAX_TOTAL, "{s:?} is too long");
        prop_assert_eq!(s.matches('@').count(), 1);
        let (local, _) = s.split_once('@').unwrap();
        prop_assert!(local.chars().count() <= MAX_LOCAL, "{local:?} is too long");
        // Once you hold one, it is valid: the stored form parses to itself.
        let reparsed = EmailAddress::parse(s);
        prop_assert_eq!(reparsed.as_ref(), Ok(e), "{:?} does not re-parse", s);
        Ok(())
    }

    /// A domain of exactly `len` (≥ 6) characters: labels of at most 50 `b`s, then `.com`.
    fn domain_of_len(len: usize) -> String {
        let mut remaining = len - 4;
        let mut out = String::new();
        while remaining > 0 {
            if remaining <= 50 {
                out.push_str(&"b".repeat(remaining));
                remaining = 0;
            } else {
                let take = 50.min(remaining - 2);
                out.push_str(&"b".repeat(take));
                out.push('.');
                remaining -= take + 1;
            }
        }
        out + ".com"
    }

    proptest! {
        #![proptest_config(crate::sessions::jwt::test_support::proptest_config(256))]

        #[test]
        fn any_input_is_invalid_email_or_a_normal_address(
            raw in prop_oneof![
                any::<String>(),
                "[^@]{0,70}@[^@]{0,70}",
                address(LOCAL_ATOM, LABEL),
            ]
        ) {
            match EmailAddress::parse(&raw) {
                Ok(e) => assert_normal_form(&raw, &e)?,
                Err(err) => prop_assert_eq!(err.error_type, ErrorType::InvalidEmail),
            }
        }

        #[test]
        fn plain_addresses_are_accepted_and_case_folded(raw in address(LOCAL_ATOM_ASCII, LABEL_ASCII)) {
            let e = EmailAddress::parse(&raw).map_err(|err| TestCaseError::fail(format!("{raw:?}: {err}")))?;
            assert_normal_form(&raw, &e)?;
            prop_assert_eq!(EmailAddress::parse(&raw.to_uppercase()), Ok(e));
        }

        #[test]
        fn the_local_part_limit_counts_characters(n in 1usize..=80, c in prop::sample::select(vec!['a', 'é', '漢', '🔑'])) {
            let raw = format!("{}@example.com", c.to_string().repeat(n));
            match EmailAddress::parse(&raw) {
                Ok(_) => prop_assert!(n <= MAX_LOCAL, "a local part of {n} was accepted"),
                Err(err) => {
                    prop_assert!(n > MAX_LOCAL, "a local part of {n} was refused: {err}");
                    prop_assert_eq!(err.error_type, ErrorType::InvalidEmail);
                }
            }
        }

        #[test]
        fn the_total_limit_is_254_characters(n in 240usize..=270) {
            let raw = format!("a@{}", domain_of_len(n - 2));
            prop_assert_eq!(raw.chars().count(), n);
            match EmailAddress::parse(&raw) {
                Ok(_) => prop_assert!(n <= MAX_TOTAL, "{n} characters were accepted"),
                Err(err) => {
                    prop_assert!(n > MAX_TOTAL, "{n} characters were refused: {err}");
                    prop_assert_eq!(err.error_type, ErrorType::InvalidEmail);
                }
            }
        }

        #[test]
        fn whitespace_control_or_a_second_at_anywhere_is_refused(
            raw in address(LOCAL_ATOM, LABEL),
            at in any::<prop::sample::Index>(),
            c in prop::sample::select(vec![
                ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{3000}', '@',
            ]),
        ) {
            let chars: Vec<char> = raw.chars().collect();
            let i = at.index(chars.len() + 1);
            let bad: String = chars[..i].iter().chain([&c]).chain(&chars[i..]).collect();
            let err = EmailAddress::parse(&bad).unwrap_err();
            prop_assert_eq!(err.error_type, ErrorType::InvalidEmail);
        }

        #[test]
        fn user_inputs_are_nonempty_pieces_of_the_address(raw in address(LOCAL_ATOM, LABEL)) {
            if let Ok(e) = EmailAddress::parse(&raw) {
                let inputs = e.user_inputs();
                let (local, _) = e.as_str().split_once('@').unwrap();
                prop_assert_eq!(inputs.first().map(String::as_str), Some(local));
                for i in &inputs {
                    prop_assert!(!i.is_empty());
                    prop_assert!(e.as_str().contains(i.as_str()) || local.replace(|c: char| !c.is_alphanumeric(), "") == *i);
                }
            }
        }
    }
}
