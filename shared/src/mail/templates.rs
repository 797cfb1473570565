//! Email templates: built in, readable, and overridable by files in `LATCH_TEMPLATE_DIR`
//! (`<name>.subject.txt`, `<name>.txt`, `<name>.html`). Placeholders are `{{name}}`; values are
//! HTML-escaped in the HTML body.

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
    pub fn load(name: &str, dir: Option<&Path>) -> Result<Self, String> {
        let (subject, text, html) = match name {
            RESET_PASSWORD => (RESET_SUBJECT, RESET_TEXT, RESET_HTML),
            B2B_LOGIN => (B2B_LOGIN_SUBJECT, B2B_LOGIN_TEXT, B2B_LOGIN_HTML),
            B2B_SIGNUP => (B2B_SIGNUP_SUBJECT, B2B_SIGNUP_TEXT, B2B_SIGNUP_HTML),
            other => return Err(format!("no template named {other}")),
        };
        let part = |suffix: &str, builtin: &str| -> Result<String, String> {
            match dir.map(|d| d.join(format!("{name}.{suffix}"))) {
                Some(path) if path.exists() => {
                    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
                }
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
        let fill = |s: &str, escape: bool| {
            values.iter().fold(s.to_string(), |acc, (k, v)| {
                let v = if escape { html_escape(v) } else { v.to_string() };
                acc.replace(&format!("{{{{{k}}}}}"), &v)
            })
        };
        // A subject is one header line: no line breaks may come in through a value.
        let subject = fill(&self.subject, false).replace(['\r', '\n'], " ");
        (subject, fill(&self.text, false), fill(&self.html, true))
    }
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
