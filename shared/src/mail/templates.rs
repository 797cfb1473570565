//! Email templates: built in, readable, and overridable by files in `LATCH_TEMPLATE_DIR`
//! (`<name>.subject.txt`, `<name>.txt`, `<name>.html`). Placeholders are `{{name}}`, expanded in
//! one pass over the template alone: a value is inserted as text and never scanned for
//! placeholders itself, so an organization named `{{url}}` shows as `{{url}}` and cannot pull the
//! live link into the subject (docs/security.md I6). Values are HTML-escaped in the HTML body and
//! have their control characters (line breaks included) replaced by spaces in the subject.

use crate::startup::StartupError;
use std::path::Path;

pub struct Template {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub const RESET_PASSWORD: &str = "reset_password";
/// B2B: a login link for an existing member.
pub const B2B_LOGIN: &str = "b2b_login";
/// B2B: a signup link for a member just provisioned.
pub const B2B_SIGNUP: &str = "b2b_signup";

const B2B_LOGIN_SUBJECT: &str = "Log in to {{organization}}";
const B2B_LOGIN_TEXT: &str = "\
Log in to {{organization}} as {{email}}:
{{url}}

The link works once and expires in {{expiration_minutes}} minutes.
If you did not ask for this, ignore this email.
";
const B2B_LOGIN_HTML: &str = "\
<!doctype html>
<html><body style=\"font-family: sans-serif; line-height: 1.5\">
<p><a href=\"{{url}}\">Log in to {{organization}}</a> as <b>{{email}}</b>.</p>
<p>The link works once and expires in {{expiration_minutes}} minutes.<br>
If you did not ask for this, ignore this email.</p>
</body></html>
";
const B2B_SIGNUP_SUBJECT: &str = "Join {{organization}}";
const B2B_SIGNUP_TEXT: &str = "\
Confirm {{email}} to join {{organization}}:
{{url}}

The link works once and expires in {{expiration_minutes}} minutes.
If you did not ask for this, ignore this email.
";
const B2B_SIGNUP_HTML: &str = "\
<!doctype html>
<html><body style=\"font-family: sans-serif; line-height: 1.5\">
<p><a href=\"{{url}}\">Confirm {{email}} to join {{organization}}</a>.</p>
<p>The link works once and expires in {{expiration_minutes}} minutes.<br>
If you did not ask for this, ignore this email.</p>
</body></html>
";

const RESET_SUBJECT: &str = "Reset your password";
const RESET_TEXT: &str = "\
Someone asked to reset the password of the account {{email}}.

Reset your password:
{{reset_url}}

Or log in without a password:
{{login_url}}

Each link works once and expires in {{expiration_minutes}} minutes.
If you did not ask for this, ignore this email: your password stays as it is.
";
const RESET_HTML: &str = "\
<!doctype html>
<html><body style=\"font-family: sans-serif; line-height: 1.5\">
<p>Someone asked to reset the password of the account <b>{{email}}</b>.</p>
<p><a href=\"{{reset_url}}\">Reset your password</a></p>
<p><a href=\"{{login_url}}\">Log in without a password</a></p>
<p>Each link works once and expires in {{expiration_minutes}} minutes.<br>
If you did not ask for this, ignore this email: your password stays as it is.</p>
</body></html>
";

impl Template {
    /// The named template, with any file in `dir` replacing the built-in part.
    pub fn load(name: &str, dir: Option<&Path>) -> Result<Self, StartupError> {
        let (subject, text, html) = match name {
            RESET_PASSWORD => (RESET_SUBJECT, RESET_TEXT, RESET_HTML),
            B2B_LOGIN => (B2B_LOGIN_SUBJECT, B2B_LOGIN_TEXT, B2B_LOGIN_HTML),
            B2B_SIGNUP => (B2B_SIGNUP_SUBJECT, B2B_SIGNUP_TEXT, B2B_SIGNUP_HTML),
            other => {
                return Err(StartupError::invalid(
                    "mail template",
                    format!("no template named {other}"),
                ))
            }
        };
        let part = |suffix: &str, builtin: &str| -> Result<String, StartupError> {
            match dir.map(|d| d.join(format!("{name}.{suffix}"))) {
                Some(path) if path.exists() => std::fs::read_to_string(&path).map_err(|e| StartupError::file(&path, e)),
                _ => Ok(builtin.to_string()),
            }
        };
        Ok(Self {
            subject: part("subject.txt", subject)?.trim().to_string(),
            text: part("txt", text)?,
            html: part("html", html)?,
        })
    }

    /// (subject, text, html) with the placeholders filled.
    pub fn render(&self, values: &[(&str, &str)]) -> (String, String, String) {
        // A subject is one header line: no line break or other control may come in through a value.
        let one_line = |v: &str| v.replace(|c: char| c.is_control(), " ");
        (
            expand(&self.subject, values, one_line),
            expand(&self.text, values, str::to_string),
            expand(&self.html, values, html_escape),
        )
    }
}

/// `template` with each `{{name}}` whose name is in `values` replaced by `encode(value)`, in one
/// left-to-right pass: what a value brings is copied out and never looked at again. Anything
/// else, including `{{unknown}}`, is kept as written.
fn expand(template: &str, values: &[(&str, &str)], encode: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after
            .find("}}")
            .and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, v)));
        match value {
            Some((end, v)) => {
                out.push_str(&encode(v));
                rest = &after[end + 2..];
            }
            // Not a placeholder here: keep one brace and look again from the next character,
            // so `{{{url}}` still expands its `{{url}}`.
            None => {
                out.push('{');
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_reset_template_states_the_expiry_and_both_links() {
        let t = Template::load(RESET_PASSWORD, None).unwrap();
        let (subject, text, html) = t.render(&[
            ("email", "a@example.com"),
            ("reset_url", "https://app/reset?a=1&token=x"),
            ("login_url", "https://app/login?token=y"),
            ("expiration_minutes", "30"),
        ]);
        assert_eq!(subject, "Reset your password");
        assert!(text.contains("https://app/reset?a=1&token=x") && text.contains("https://app/login?token=y"));
        assert!(text.contains("expires in 30 minutes"));
        assert!(html.contains("https://app/reset?a=1&amp;token=x"));
        assert!(html.contains("expires in 30 minutes"));
    }

    /// SECURITY I6: a value is text: placeholders it contains are not expanded, whatever the
    /// order of the values, and it is HTML-escaped in the HTML part.
    #[test]
    fn i6_values_are_never_expanded_and_are_escaped_in_html() {
        let t = Template::load(B2B_LOGIN, None).unwrap();
        let org = "{{url}} <b>x</b> {{email}} {{expiration_minutes}}";
        let values = [
            ("email", "a@example.com"),
            ("organization", org),
            (
                "url",
                "https://app/login?stytch_token_type=multi_tenant_magic_links&token=SECRET",
            ),
            ("expiration_minutes", "60"),
        ];
        let mut reversed = values;
        reversed.reverse();
        for values in [values, reversed] {
            let (subject, text, html) = t.render(&values);
            assert_eq!(subject, format!("Log in to {org}"));
            assert!(text.contains(&format!("Log in to {org} as a@example.com:")), "{text}");
            assert_eq!(text.matches("SECRET").count(), 1, "{text}");
            assert!(
                html.contains("Log in to {{url}} &lt;b&gt;x&lt;/b&gt; {{email}} {{expiration_minutes}}</a>"),
                "{html}"
            );
            assert!(!html.contains("<b>x</b>"), "{html}");
            assert_eq!(html.matches("SECRET").count(), 1, "{html}");
        }
    }

    #[test]
    fn unknown_placeholders_and_stray_braces_are_kept() {
        let t = Template {
            subject: "{{nope}} {{a}}".into(),
            text: "{{a}}{{{a}} {{a} }} {{".into(),
            html: "{{a}}".into(),
        };
        let (subject, text, html) = t.render(&[("a", "<{{a}}>\r\nBcc: x")]);
        assert_eq!(subject, "{{nope}} <{{a}}>  Bcc: x");
        assert_eq!(text, "<{{a}}>\r\nBcc: x{<{{a}}>\r\nBcc: x {{a} }} {{");
        assert_eq!(html, "&lt;{{a}}&gt;\r\nBcc: x");
    }

    #[test]
    fn files_override_parts() {
        let dir = std::env::temp_dir().join(format!("latch-tpl-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("reset_password.subject.txt"), "Custom {{email}}\n").unwrap();
        let t = Template::load(RESET_PASSWORD, Some(&dir)).unwrap();
        let (subject, text, _) = t.render(&[("email", "a@b.c")]);
        assert_eq!(subject, "Custom a@b.c");
        assert!(text.contains("Reset your password"), "unreplaced parts stay built in");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
