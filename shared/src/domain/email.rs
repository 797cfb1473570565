//! An email address that has been checked, NFC-normalised and case-folded: the only way to get
//! one is `parse`.

use icu_properties::props::GeneralCategory;
use unicode_normalization::UnicodeNormalization;

use super::text::general_category;

use crate::error::{Error, ErrorType};

/// Limits from RFC 5321 §4.5.3.1 (local part 64, path 254 usable characters).
const MAX_LOCAL: usize = 64;
pub const MAX_TOTAL: usize = 254;

/// RFC 5322 `specials` other than `@` and `.` (whose places `parse` checks itself). Latch takes
/// no quoted local parts, so none of these is ever legitimate: each would let an address
/// carry a second recipient, a comment or a display name into a mail header (docs/security.md I4).
pub const HEADER_SPECIALS: &[char] = &[',', ';', '<', '>', '(', ')', '[', ']', '\\', '"', ':'];

/// Default-ignorable code points (Unicode's Default_Ignorable_Code_Point) that are not in
/// category C, which `refused_char` already covers: they render as nothing, so two addresses
/// that differ only by them look the same.
const IGNORABLE_OUTSIDE_C: &[(char, char)] = &[
    ('\u{34f}', '\u{34f}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180d}'),
    ('\u{180f}', '\u{180f}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{e0100}', '\u{e01ef}'),
];

/// Why `c` may not appear anywhere in an address, if it may not: whitespace; any category C
/// character — controls (Cc), format characters such as zero-width spaces and bidi overrides
/// (Cf), private use (Co) and unassigned code points (Cn), none of which shows as what it is;
/// other invisible characters; and the header specials.
fn refused_char(c: char) -> Option<&'static str> {
    if c.is_whitespace() {
        return Some("whitespace");
    }
    match general_category(c) {
        GeneralCategory::Control => return Some("a control character"),
        GeneralCategory::Format => return Some("an invisible format character"),
        GeneralCategory::PrivateUse | GeneralCategory::Unassigned | GeneralCategory::Surrogate => {
            return Some("an unassigned or private-use character")
        }
        _ => {}
    }
    if IGNORABLE_OUTSIDE_C.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) {
        return Some("an invisible character");
    }
    if HEADER_SPECIALS.contains(&c) {
        return Some("a character that is special in mail headers");
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain` with one `@`, no whitespace, control, invisible or header-special
    /// characters, a local part of at most 64 and a whole of at most 254 characters, and a
    /// domain of dot-separated labels. The result is NFC-normalised, then lower-cased (and
    /// normalised again, as lower-casing can undo NFC), so `User@Example.com` and
    /// `user@example.com` are one account, and so are `é` typed as one code point or as `e`
    /// and a combining accent.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::new(ErrorType::InvalidEmail, format!("The email address is invalid: {why}."));
        // Check the address as it will be stored: lower-casing can lengthen it (`İ` becomes `i`
        // and a combining dot), which would let an over-long or malformed address through.
        let folded: String = raw.nfc().collect::<String>().to_lowercase().nfc().collect();
        let raw = folded.as_str();
        if raw.is_empty() {
            return Err(invalid("it is empty"));
        }
        if raw.chars().count() > MAX_TOTAL {
            return Err(invalid("it is longer than 254 characters"));
        }
        if let Some((c, what)) = raw.chars().find_map(|c| refused_char(c).map(|what| (c, what))) {
            return Err(invalid(&format!("it contains {what} (U+{:04X})", c as u32)));
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

    /// Every code point of `category`, for the exhaustive tables below.
    pub(super) fn all_of(category: GeneralCategory) -> Vec<char> {
        (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|c| general_category(*c) == category)
            .collect()
    }

    /// `c` inside the local part, at the end of the local part, and inside the domain.
    fn placements(c: char) -> [String; 3] {
        [
            format!("ab{c}cd@example.com"),
            format!("abcd{c}@example.com"),
            format!("abcd@exa{c}mple.com"),
        ]
    }

    fn assert_refused(bad: &str) {
        match EmailAddress::parse(bad) {
            Ok(e) => panic!("{bad:?} was accepted as {:?}", e.as_str()),
            Err(err) => assert_eq!(err.error_type, ErrorType::InvalidEmail, "{bad:?}"),
        }
    }

    /// SECURITY I4: each RFC 5322 special is refused wherever it stands unquoted (Latch takes no
    /// quoted local parts, so that is everywhere), and so is a quoted local part.
    #[test]
    fn i4_every_header_special_is_refused() {
        for c in [',', ';', '<', '>', '(', ')', '[', ']', '\\', '"', ':'] {
            for bad in placements(c) {
                assert_refused(&bad);
            }
        }
        for bad in [
            "\"a,b\"@example.com",
            "a@example.com,victim@example.org",
            "Eve <eve@example.com>",
            "eve@example.com>\r\nBcc: x@example.org",
            "a(comment)@example.com",
            "a@[127.0.0.1]",
            "a:b@example.com",
        ] {
            assert_refused(bad);
        }
        // The allowed `atext` punctuation stays allowed.
        assert!(EmailAddress::parse("a!#$%&'*+/=?^_`{|}~-@example.com").is_ok());
    }

    /// SECURITY I4: every format character (category Cf: zero-width spaces and joiners, bidi
    /// embeddings, overrides and isolates, the BOM, tag characters…) is refused, as are the
    /// other invisible characters.
    #[test]
    fn i4_every_format_and_invisible_character_is_refused() {
        let cf = all_of(GeneralCategory::Format);
        assert!(cf.len() > 150, "{} Cf characters", cf.len());
        let named = [
            '\u{ad}',
            '\u{61c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{feff}',
            '\u{e0001}',
            '\u{e007f}',
        ];
        for c in named.into_iter().chain(cf) {
            for bad in placements(c) {
                assert_refused(&bad);
            }
        }
        for &(lo, hi) in IGNORABLE_OUTSIDE_C {
            for c in [lo, hi] {
                for bad in placements(c) {
                    assert_refused(&bad);
                }
            }
        }
        for c in ['\u{e000}', '\u{f8ff}', '\u{10fffd}', '\u{378}', '\u{e0080}'] {
            assert_refused(&format!("ab{c}@example.com"));
        }
    }

    /// SECURITY I3/I4: every control character (Cc, C0 and C1 and DEL) is refused.
    #[test]
    fn i4_every_control_character_is_refused() {
        let cc = all_of(GeneralCategory::Control);
        assert_eq!(cc.len(), 65);
        for c in cc {
            for bad in placements(c) {
                assert_refused(&bad);
            }
        }
    }

    /// SECURITY I4: NFC before case folding: composed and decomposed spellings are one address,
    /// stored composed.
    #[test]
    fn i4_nfc_and_nfd_spellings_are_one_address() {
        for (nfc, nfd) in [
            ("jos\u{e9}@example.com", "jose\u{301}@example.com"),
            ("J\u{d6}RG@\u{c9}XAMPLE.com", "JO\u{308}RG@E\u{301}XAMPLE.com"),
            ("\u{d55c}@example.com", "\u{1112}\u{1161}\u{11ab}@example.com"),
            ("\u{212b}ngstr\u{f6}m@example.com", "A\u{30a}ngstro\u{308}m@example.com"),
        ] {
            let a = EmailAddress::parse(nfc).unwrap();
            let b = EmailAddress::parse(nfd).unwrap();
            assert_eq!(a, b, "{nfc:?} and {nfd:?}");
            assert!(unicode_normalization::is_nfc(a.as_str()), "{:?}", a.as_str());
        }
        assert_eq!(
            EmailAddress::parse("jose\u{301}@example.com").unwrap().as_str(),
            "jos\u{e9}@example.com"
        );
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

    /// Atoms and labels rich in characters with decompositions (accents, Hangul syllables,
    /// compatibility letters such as the Kelvin and Ångström signs).
    const LOCAL_ATOM_DECOMPOSABLE: &str = "[a-zA-Z0-9éÉñÑüÜÅåǅΩΩKKḱṩẞ한국語ﬁ-]{1,20}";
    const LABEL_DECOMPOSABLE: &str = "[a-zé한ñÅK]([a-zA-Z0-9éÉñü한국Å-]{0,14}[a-zé한ñü])?";

    /// What every accepted address must satisfy, whatever was sent.
    fn assert_normal_form(raw: &str, e: &EmailAddress) -> Result<(), TestCaseError> {
        let s = e.as_str();
        // Lower-cased, and composed: one stored spelling per address (SECURITY I3, I4).
        prop_assert_eq!(s.to_lowercase(), s);
        prop_assert!(unicode_normalization::is_nfc(s), "{s:?} is not NFC");
        let nfc_of_raw: String = raw.nfc().collect();
        prop_assert_eq!(s, nfc_of_raw.to_lowercase().nfc().collect::<String>());
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
        #![proptest_config(crate::test_support::proptest_config(256))]

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

        /// SECURITY I4: an address and its NFD and NFC spellings parse alike, to
        /// one NFC address or to the same refusal; parsing is idempotent.
        #[test]
        fn i4_nfc_and_nfd_spellings_parse_alike(
            raw in prop_oneof![
                address(LOCAL_ATOM_DECOMPOSABLE, LABEL_DECOMPOSABLE),
                address(LOCAL_ATOM, LABEL),
                any::<String>(),
            ],
            upper in any::<bool>(),
        ) {
            let raw = if upper { raw.to_uppercase() } else { raw };
            let nfd: String = raw.nfd().collect();
            let nfc: String = raw.nfc().collect();
            let parsed = EmailAddress::parse(&raw);
            prop_assert_eq!(&EmailAddress::parse(&nfd), &parsed, "NFD {:?}", nfd);
            prop_assert_eq!(&EmailAddress::parse(&nfc), &parsed, "NFC {:?}", nfc);
            if let Ok(e) = &parsed {
                assert_normal_form(&raw, e)?;
                let again = EmailAddress::parse(e.as_str());
                prop_assert_eq!(again.as_ref(), Ok(e));
            }
        }

        /// SECURITY I4: a header special, a format (Cf), control (Cc) or other invisible
        /// character anywhere in an otherwise valid address makes it `invalid_email`.
        #[test]
        fn i4_specials_format_and_control_characters_anywhere_are_refused(
            raw in address(LOCAL_ATOM_DECOMPOSABLE, LABEL_DECOMPOSABLE),
            at in any::<prop::sample::Index>(),
            c in prop_oneof![
                prop::sample::select(HEADER_SPECIALS.to_vec()),
                prop::sample::select(super::tests::all_of(GeneralCategory::Format)),
                prop::sample::select(super::tests::all_of(GeneralCategory::Control)),
                prop::sample::select(IGNORABLE_OUTSIDE_C.iter().flat_map(|(lo, hi)| [*lo, *hi]).collect::<Vec<_>>()),
            ],
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
