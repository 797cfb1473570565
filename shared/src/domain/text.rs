//! Names users give (organization and member names): free text, but one line of it, since such
//! a name goes into mail subjects and bodies and into other systems' logs and headers.

use icu_properties::props::GeneralCategory;

/// The Unicode General_Category of `c`.
pub fn general_category(c: char) -> GeneralCategory {
    icu_properties::CodePointMapData::<GeneralCategory>::new().get(c)
}

/// The first character `name` may not hold, if any: a control (Cc: CR, LF, tab, NUL, C1…), a
/// line or paragraph separator, or a bidi embedding, override or isolate (which could make a
/// subject read other than it is). Zero-width joiners and marks stay allowed: scripts such as
/// Persian and the Indic ones need them.
pub fn refused_in_name(name: &str) -> Option<char> {
    name.chars().find(|&c| {
        matches!(
            general_category(c),
            GeneralCategory::Control | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
        ) || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SECURITY I6: line breaks and other controls are refused in names; ordinary text is not.
    #[test]
    fn i6_line_breaks_controls_and_bidi_overrides_are_refused() {
        for bad in [
            "Acme\r\nBcc: x@example.com",
            "Acme\n",
            "\rAcme",
            "Ac\tme",
            "Ac\0me",
            "Ac\u{7f}me",
            "Ac\u{85}me",
            "Ac\u{2028}me",
            "Ac\u{2029}me",
            "Ac\u{202e}em",
            "Ac\u{2066}me",
        ] {
            assert!(refused_in_name(bad).is_some(), "{bad:?}");
        }
        for good in ["Acme Inc.", "{{url}} <b>x</b>", "شرکت\u{200c}ها", "漢字 🔑", "Zoë & Co"] {
            assert_eq!(refused_in_name(good), None, "{good:?}");
        }
    }
}
