//! Redirect URLs for emailed links: from the request or the configured default, checked against
//! the configured allow-list, and never derived from the request's Host header (docs/security.md R5).
//! An allowed URL matches an entry in scheme, host, port and path exactly, carries no userinfo,
//! and has no query parameter of the names Latch appends, so a mailed link carries exactly one
//! token, Latch's (docs/security.md I5).

use url::Url;

use crate::error::{Error, ErrorType};

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

/// Query parameters Latch appends (or Stytch's SDKs read from the link), which a redirect URL
/// may not bring of its own: a `token=` planted there would be the one a client reads first.
/// Names are compared after percent-decoding and ignoring ASCII case.
fn reserved_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "token" || name.starts_with("stytch_")
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
) -> Result<Url, Error> {
    let (missing, invalid, field) = kind.errors();
    let raw = requested
        .filter(|r| !r.is_empty())
        .or(default)
        .ok_or_else(|| Error::new(missing, format!("Send {field} or configure a default.")))?;
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| Error::new(invalid, format!("{field} is not an absolute http(s) URL.")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::new(
            invalid,
            format!("{field} may not carry a user name or password."),
        ));
    }
    if let Some((name, _)) = url.query_pairs().find(|(name, _)| reserved_param(name)) {
        return Err(Error::new(
            invalid,
            format!("{field} may not carry its own {name:?} query parameter: Latch adds the link's token."),
        ));
    }
    let listed = allowed
        .iter()
        .filter_map(|a| Url::parse(a).ok())
        .any(|a| base(&a) == base(&url));
    if !listed {
        return Err(Error::new(
            invalid,
            format!("{field} is not on this project's list of redirect URLs."),
        ));
    }
    Ok(url)
}

impl LinkKind {
    /// The link's `stytch_redirect_type`: the frontend SDK's pre-built UI opens its reset form
    /// for `reset_password` (docs/frontend-sdk.md).
    fn redirect_type(self) -> &'static str {
        match self {
            LinkKind::ResetPassword => "reset_password",
            LinkKind::Login => "login",
            LinkKind::Signup => "signup",
        }
    }
}

/// The link: the redirect URL, its own query kept, with `stytch_token_type`, `token` and
/// `stytch_redirect_type` appended once (`resolve` refused URLs that already had them).
pub fn link(mut url: Url, kind: LinkKind, token_type: &str, token: &str) -> String {
    url.query_pairs_mut()
        .append_pair("stytch_token_type", token_type)
        .append_pair("token", token)
        .append_pair("stytch_redirect_type", kind.redirect_type());
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
            link(u, LinkKind::Login, "magic_links", "tok"),
            "http://localhost:3000/authenticate?next=/x&stytch_token_type=magic_links&token=tok&stytch_redirect_type=login"
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

    /// SECURITY I5: scheme, host, port and path must match an entry exactly.
    #[test]
    fn i5_scheme_host_port_and_path_match_exactly() {
        for bad in [
            "http://app.example.com/reset",
            "https://app.example.com.evil.test/reset",
            "https://evil.test/reset?https://app.example.com/reset",
            "https://app.example.com:444/reset",
            "https://app.example.com/reset/",
            "https://app.example.com/reset/x",
            "https://app.example.com/Reset",
            "https://app.example.com/rese",
            "http://localhost:3001/authenticate",
            "http://127.0.0.1:3000/authenticate",
        ] {
            let e = resolve(LinkKind::ResetPassword, Some(bad), None, &allowed()).unwrap_err();
            assert_eq!(e.error_type, ErrorType::InvalidPasswordResetRedirectUrl, "{bad}");
        }
        // Spellings of the same URL that the URL standard makes equal stay equal.
        for good in [
            "https://APP.example.com/reset",
            "https://app.example.com:443/reset",
            "https://app.example.com/reset#top",
        ] {
            assert!(
                resolve(LinkKind::ResetPassword, Some(good), None, &allowed()).is_ok(),
                "{good}"
            );
        }
    }

    /// SECURITY I5: no userinfo, even on an allowed host and path.
    #[test]
    fn i5_userinfo_is_refused() {
        for bad in [
            "https://user@app.example.com/reset",
            "https://user:pw@app.example.com/reset",
            "https://:pw@app.example.com/reset",
            "http://app.example.com@localhost:3000/authenticate",
        ] {
            let e = resolve(LinkKind::Signup, Some(bad), None, &allowed()).unwrap_err();
            assert_eq!(e.error_type, ErrorType::InvalidSignupRedirectUrl, "{bad}");
            assert!(e.message.contains("user name"), "{bad}: {}", e.message);
        }
        // The configured default is held to the same rule.
        let e = resolve(
            LinkKind::ResetPassword,
            None,
            Some("https://u:p@app.example.com/reset"),
            &allowed(),
        );
        assert_eq!(e.unwrap_err().error_type, ErrorType::InvalidPasswordResetRedirectUrl);
    }

    /// SECURITY I5: a query that brings its own `token` or `stytch_*` parameter is refused, in
    /// any case and percent-encoded; any other query is kept, with Latch's parameters appended
    /// once.
    #[test]
    fn i5_reserved_query_parameters_are_refused_and_others_kept() {
        for bad in [
            "https://app.example.com/reset?token=planted",
            "https://app.example.com/reset?next=/x&token=",
            "https://app.example.com/reset?stytch_token_type=magic_links",
            "https://app.example.com/reset?stytch_redirect_type=login",
            "https://app.example.com/reset?TOKEN=planted",
            "https://app.example.com/reset?%74oken=planted",
            "https://app.example.com/reset?a=1&Stytch_Token_Type=x",
        ] {
            let e = resolve(LinkKind::ResetPassword, Some(bad), None, &allowed()).unwrap_err();
            assert_eq!(e.error_type, ErrorType::InvalidPasswordResetRedirectUrl, "{bad}");
        }
        let u = resolve(
            LinkKind::ResetPassword,
            Some("https://app.example.com/reset?next=%2Fhome&tokenish=1&x=a+b"),
            None,
            &allowed(),
        )
        .unwrap();
        let l = link(u, LinkKind::ResetPassword, "reset_password", "tok");
        assert_eq!(
            l,
            "https://app.example.com/reset?next=%2Fhome&tokenish=1&x=a+b&stytch_token_type=reset_password&token=tok&stytch_redirect_type=reset_password"
        );
        let parsed = Url::parse(&l).unwrap();
        let tokens: Vec<_> = parsed.query_pairs().filter(|(k, _)| k == "token").collect();
        assert_eq!(tokens.len(), 1);
    }
}
