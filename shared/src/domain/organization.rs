//! What a B2B organization's and member's fields may hold (docs/reference/stytch-api.md §12).

use super::text;
use crate::error::{Error, ErrorType};

const SLUG_CHARS: &str = "-._~";

/// 2–128 of `A-Za-z0-9-._~` (docs/reference/stytch-api.md §12).
pub fn valid_slug(slug: &str) -> bool {
    (2..=128).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SLUG_CHARS.contains(c))
}

pub fn parse_slug(slug: &str) -> Result<String, Error> {
    if valid_slug(slug) {
        Ok(slug.to_string())
    } else {
        Err(Error::new(
            ErrorType::InvalidOrganizationSlug,
            "organization_slug must be 2 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~.",
        ))
    }
}

/// A slug made from a name when none is sent: lower-cased, other characters as `-`.
pub fn slug_from_name(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.trim_matches('-').chars().take(128).collect()
}

pub fn parse_name(name: &str) -> Result<String, Error> {
    let len = name.chars().count();
    if !(1..=128).contains(&len) || name.trim().is_empty() {
        return Err(Error::new(
            ErrorType::InvalidOrganizationName,
            "organization_name must be 1 to 128 characters.",
        ));
    }
    // It goes into mail subjects and bodies: one line of plain text (docs/security.md I6).
    if let Some(c) = text::refused_in_name(name) {
        return Err(Error::new(
            ErrorType::InvalidOrganizationName,
            format!(
                "organization_name may not contain line breaks, control or bidi override characters (U+{:04X}).",
                c as u32
            ),
        ));
    }
    Ok(name.to_string())
}

/// A member's `name` as sent (none is `""`): any text on one line (docs/security.md I6).
pub fn parse_member_name(name: Option<&str>) -> Result<String, Error> {
    let name = name.unwrap_or_default();
    match text::refused_in_name(name) {
        None => Ok(name.to_string()),
        Some(c) => Err(Error::new(
            ErrorType::BadRequest,
            format!(
                "name may not contain line breaks, control or bidi override characters (U+{:04X}).",
                c as u32
            ),
        )),
    }
}

/// E.164: `+` then 2 to 15 digits, the first not 0.
fn parse_phone(raw: &str) -> Result<String, Error> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    let ok = (2..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(Error::new(
            ErrorType::InvalidPhoneNumber,
            "mfa_phone_number must be in E.164 form, like +14155550100.",
        ))
    }
}

/// `external_id`: at most 128 of `A-Za-z0-9._-|` (docs/reference/stytch-api.md §12).
fn parse_external_id(raw: &str) -> Result<String, Error> {
    if (1..=128).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_alphanumeric() || "._-|".contains(c)) {
        Ok(raw.to_string())
    } else {
        Err(Error::new(
            ErrorType::BadRequest,
            "external_id must be 1 to 128 characters of A-Z, a-z, 0-9, ., _, - and |.",
        ))
    }
}

/// A new member's `mfa_phone_number` and `external_id` as sent (empty means none): the phone
/// number (empty if none) and the external id.
pub fn parse_phone_and_external_id(
    phone: Option<&str>,
    external_id: Option<&str>,
) -> Result<(String, Option<String>), Error> {
    let phone = phone.filter(|p| !p.is_empty()).map(parse_phone).transpose()?;
    let external_id = external_id
        .filter(|e| !e.is_empty())
        .map(parse_external_id)
        .transpose()?;
    Ok((phone.unwrap_or_default(), external_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(valid_slug("acme-inc.eu_1~"));
        assert!(!valid_slug("a"));
        assert!(!valid_slug("has space"));
        assert!(!valid_slug(&"x".repeat(129)));
        assert_eq!(slug_from_name("Example Org Inc."), "example-org-inc");
    }

    #[test]
    fn phones_and_external_ids() {
        assert!(parse_phone("+14155550100").is_ok());
        for bad in ["14155550100", "+0123", "+1", "+1415555010012345", "+1-415"] {
            assert!(parse_phone(bad).is_err(), "{bad}");
        }
        assert!(parse_external_id("emp|42.a_b-c").is_ok());
        assert!(parse_external_id("no spaces").is_err());
    }
}
