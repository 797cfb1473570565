//! Redirect URLs for emailed links: from the request or the configured default, checked against
//! the configured allow-list, and never derived from the request's Host header (SECURITY.md R5).

use url::Url;

use crate::api::error::{ApiError, ErrorType};

/// Which link a URL is for: decides the error types.
#[derive(Debug, Clone, Copy)]
pub enum LinkKind {
    ResetPassword,
    Login,
    Signup,
}

impl LinkKind {
    fn errors(self) -> (ErrorType, ErrorType, &'static str) {
        match self {
            LinkKind::ResetPassword => (
                ErrorType::NoPasswordResetRedirectUrl,
                ErrorType::InvalidPasswordResetRedirectUrl,
                "reset_password_redirect_url",
            ),
            LinkKind::Login => (
                ErrorType::NoLoginRedirectUrl,
                ErrorType::InvalidLoginRedirectUrl,
                "login_redirect_url",
            ),
            LinkKind::Signup => (
                ErrorType::NoSignupRedirectUrl,
                ErrorType::InvalidSignupRedirectUrl,
                "signup_redirect_url",
            ),
        }
    }
}

/// Scheme, host, port and path: the parts an allow-list entry fixes (query strings may vary).
fn base(url: &Url) -> (String, Option<String>, Option<u16>, String) {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_ascii_lowercase),
        url.port_or_known_default(),
        url.path().to_string(),
    )
}

/// The URL to use: the request's if given, else the default; it must be on the allow-list.
pub fn resolve(
    kind: LinkKind,
    requested: Option<&str>,
    default: Option<&str>,
    allowed: &[String],
) -> Result<Url, ApiError> {
    let (missing, invalid, field) = kind.errors();
    let raw = requested
        .filter(|r| !r.is_empty())
        .or(default)
        .ok_or_else(|| ApiError::new(missing, format!("Send {field} or configure a default.")))?;
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| ApiError::new(invalid, format!("{field} is not an absolute http(s) URL.")))?;
    let listed = allowed
        .iter()
        .filter_map(|a| Url::parse(a).ok())
        .any(|a| base(&a) == base(&url));
    if !listed {
        return Err(ApiError::new(
            invalid,
            format!("{field} is not on this project's list of redirect URLs."),
        ));
    }
    Ok(url)
}

/// The link: the redirect URL with `stytch_token_type` and `token` appended to its query.
pub fn link(mut url: Url, token_type: &str, token: &str) -> String {
    url.query_pairs_mut()
        .append_pair("stytch_token_type", token_type)
        .append_pair("token", token);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec![
            "https://app.example.com/reset".into(),
            "http://localhost:3000/authenticate".into(),
        ]
    }

    #[test]
    fn request_default_and_allow_list() {
        let u = resolve(
            LinkKind::ResetPassword,
            None,
            Some("https://app.example.com/reset"),
            &allowed(),
        )
        .unwrap();
        assert_eq!(u.as_str(), "https://app.example.com/reset");
        let u = resolve(
            LinkKind::Login,
            Some("http://localhost:3000/authenticate?next=/x"),
            None,
            &allowed(),
        )
        .unwrap();
        assert_eq!(
            link(u, "magic_links", "tok"),
            "http://localhost:3000/authenticate?next=/x&stytch_token_type=magic_links&token=tok"
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let e = resolve(LinkKind::ResetPassword, None, None, &allowed()).unwrap_err();
        assert_eq!(e.error_type, ErrorType::NoPasswordResetRedirectUrl);
        for bad in [
            "https://evil.example.com/reset",
            "https://app.example.com/other",
            "javascript:alert(1)",
            "/relative",
            "https://app.example.com:8443/reset",
        ] {
            let e = resolve(LinkKind::ResetPassword, Some(bad), None, &allowed()).unwrap_err();
            assert_eq!(e.error_type, ErrorType::InvalidPasswordResetRedirectUrl, "{bad}");
        }
        let e = resolve(LinkKind::Login, Some("https://evil.example.com/"), None, &allowed()).unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidLoginRedirectUrl);
    }
}
