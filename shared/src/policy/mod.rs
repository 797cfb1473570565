//! The password policy: one place that decides whether a password may be set, and what the
//! strength check reports. Cheapest checks first: length (by type), strength, then the breach
//! service, which is the only network call.

pub mod breach;
pub mod luds;

use std::sync::Arc;

use crate::config::{BreachFailure, BreachSettings, StrengthPolicy};
use crate::domain::{EmailAddress, Password};
use crate::error::{Error, ErrorType};
pub use breach::{BreachCheck, BreachStatus};
pub use luds::LudsRequirements;

/// zxcvbn scores at or above this are acceptable (Stytch: valid iff score ≥ 3).
pub const MIN_ZXCVBN_SCORE: u8 = 3;

/// zxcvbn judges only this many leading code points. Its cost grows steeply with length and
/// depends on content: strings of l33t-substitution characters mixed with letters took ~30 ms at
/// 40 characters here, ~46 ms at 48 and ~86 ms at 64 (the crate itself cuts at 100, where random
/// text costs over 100 ms). Bounding the window keeps any accepted input under docs/security.md S4's
/// 50 ms. Characters past the window only add strength, so a long password is accepted when its
/// first 40 characters are strong on their own; one that is weak there is refused.
pub const ZXCVBN_SCORED_CHARS: usize = 40;

/// The strength half of an evaluation.
#[derive(Debug, Clone)]
pub struct Strength {
    pub policy: StrengthPolicy,
    pub score: u8,
    pub acceptable: bool,
    pub warning: String,
    pub suggestions: Vec<String>,
    pub luds: Option<LudsRequirements>,
}

/// What both strength checks answer besides their feedback, whose shape differs (consumer
/// `feedback`, B2B `zxcvbn_feedback`/`luds_feedback`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StrengthVerdict {
    pub valid_password: bool,
    pub score: u8,
    pub breached_password: bool,
    pub strength_policy: &'static str,
    pub breach_detection_on_create: bool,
}

pub struct Policy {
    strength: StrengthPolicy,
    breach_settings: BreachSettings,
    breach: Arc<dyn BreachCheck>,
}

impl Policy {
    pub fn new(strength: StrengthPolicy, breach_settings: BreachSettings, breach: Arc<dyn BreachCheck>) -> Self {
        Self {
            strength,
            breach_settings,
            breach,
        }
    }

    pub fn strength_policy(&self) -> StrengthPolicy {
        self.strength
    }

    pub fn breach_on_create(&self) -> bool {
        self.breach_settings.on_create
    }

    /// Score a password. zxcvbn can take tens of milliseconds on hostile input, so it runs on
    /// the blocking pool, not on the async threads.
    pub async fn strength(&self, password: &Password, email: Option<&EmailAddress>) -> Result<Strength, Error> {
        let policy = self.strength;
        let password = password.clone();
        let inputs = email.map(EmailAddress::user_inputs).unwrap_or_default();
        crate::blocking::spawn(move || evaluate_strength(policy, password.expose(), &inputs))
            .await
            .map_err(Error::internal)
    }

    /// Ask the breach service, applying the configured failure mode for new passwords.
    pub async fn breached_for_new_password(&self, password: &Password) -> Result<bool, Error> {
        if !self.breach_settings.on_create {
            return Ok(false);
        }
        match self.breach.check(password).await {
            BreachStatus::Breached => Ok(true),
            BreachStatus::NotBreached => Ok(false),
            BreachStatus::Unknown => match self.breach_settings.on_failure {
                BreachFailure::Open => Ok(false),
                BreachFailure::Closed => Err(Error::new(
                    ErrorType::ServiceUnavailable,
                    "The breached-password service is unreachable, so the password cannot be accepted now. Retry later.",
                )),
            },
        }
    }

    /// At login a correct password that is known breached must be reset. An unreachable breach
    /// service never blocks a login, whatever the failure mode.
    pub async fn breached_at_login(&self, password: &Password) -> bool {
        self.breach_settings.on_authenticate && self.breach.check(password).await == BreachStatus::Breached
    }

    /// Judge a password as both strength checks (consumer and B2B) do. As Stytch documents,
    /// the breach check applies when an email is given; `valid_password` then also requires
    /// not-breached.
    pub async fn judge(
        &self,
        password: &Password,
        email: Option<&EmailAddress>,
    ) -> Result<(StrengthVerdict, Strength), Error> {
        let strength = self.strength(password, email).await?;
        let breached = match email {
            Some(_) => self.breached_for_new_password(password).await?,
            None => false,
        };
        let verdict = StrengthVerdict {
            valid_password: strength.acceptable && !breached,
            score: strength.score,
            breached_password: breached,
            strength_policy: match strength.policy {
                StrengthPolicy::Zxcvbn => "zxcvbn",
                StrengthPolicy::Luds { .. } => "luds",
            },
            breach_detection_on_create: self.breach_on_create(),
        };
        Ok((verdict, strength))
    }

    /// The gate for every password being set (create and every reset): `weak_password`, then
    /// `breached_password`.
    pub async fn require_acceptable(&self, password: &Password, email: Option<&EmailAddress>) -> Result<(), Error> {
        let strength = self.strength(password, email).await?;
        if !strength.acceptable {
            let mut message = String::from("The password does not meet the strength policy.");
            if !strength.warning.is_empty() {
                message.push(' ');
                message.push_str(&strength.warning);
            }
            for s in &strength.suggestions {
                message.push(' ');
                message.push_str(s);
            }
            return Err(Error::new(ErrorType::WeakPassword, message));
        }
        if self.breached_for_new_password(password).await? {
            return Err(Error::new(
                ErrorType::BreachedPassword,
                "This password has appeared in a data breach (HaveIBeenPwned); choose another.",
            ));
        }
        Ok(())
    }
}

fn evaluate_strength(policy: StrengthPolicy, password: &str, user_inputs: &[String]) -> Strength {
    match policy {
        StrengthPolicy::Zxcvbn => {
            let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
            let scored = match password.char_indices().nth(ZXCVBN_SCORED_CHARS) {
                Some((cut, _)) => &password[..cut],
                None => password,
            };
            let entropy = zxcvbn::zxcvbn(scored, &inputs);
            let score = u8::from(entropy.score());
            let acceptable = score >= MIN_ZXCVBN_SCORE;
            // Stytch's zxcvbn sends no advice for an acceptable password.
            let (warning, suggestions) = match entropy.feedback().filter(|_| !acceptable) {
                Some(f) => (
                    f.warning().map(|w| w.to_string()).unwrap_or_default(),
                    f.suggestions().iter().map(ToString::to_string).collect(),
                ),
                None => (String::new(), Vec::new()),
            };
            Strength {
                policy,
                score,
                acceptable,
                warning,
                suggestions,
                luds: None,
            }
        }
        StrengthPolicy::Luds {
            min_length,
            min_complexity,
        } => {
            let luds = LudsRequirements::evaluate(password, min_length, min_complexity);
            let acceptable = luds.is_met();
            let mut suggestions = Vec::new();
            if luds.missing_characters > 0 {
                suggestions.push(format!("Add {} more characters.", luds.missing_characters));
            }
            if luds.missing_complexity > 0 {
                suggestions.push(format!(
                    "Use {} more of: lower-case letters, upper-case letters, digits, symbols.",
                    luds.missing_complexity
                ));
            }
            Strength {
                policy,
                score: 0,
                acceptable,
                warning: String::new(),
                suggestions,
                luds: Some(luds),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zx(pw: &str, inputs: &[&str]) -> Strength {
        let inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
        evaluate_strength(StrengthPolicy::Zxcvbn, pw, &inputs)
    }

    #[test]
    fn zxcvbn_threshold_is_three() {
        let weak = zx("password1", &[]);
        assert!(weak.score < 3 && !weak.acceptable);
        assert!(!weak.warning.is_empty() || !weak.suggestions.is_empty());
        let strong = zx("correct horse battery staple violet", &[]);
        assert!(strong.score >= 3 && strong.acceptable);
        assert!(strong.warning.is_empty() && strong.suggestions.is_empty());
    }

    #[test]
    fn only_the_leading_window_is_scored() {
        // S4: the judged window is bounded; a strong head carries a long password, a weak head
        // sinks it whatever follows.
        let strong_head = format!("{}{}", "violet staple correct battery horse 42", "a".repeat(200));
        assert!(zx(&strong_head, &[]).acceptable);
        let weak_head = format!(
            "{}{}",
            "a".repeat(ZXCVBN_SCORED_CHARS),
            "xK9#mQ2$vL7!pR4@nT6%wY8^zB3&cF5*"
        );
        assert!(!zx(&weak_head, &[]).acceptable);
    }

    #[test]
    fn the_email_counts_against_the_password() {
        // S5: the same password scores lower once the email's parts are known.
        let without = zx("alicesmith2024", &[]);
        let email = EmailAddress::parse("alice.smith@example.com").unwrap();
        let owned = email.user_inputs();
        let inputs: Vec<&str> = owned.iter().map(String::as_str).collect();
        let with = zx("alicesmith2024", &inputs);
        assert!(with.score < without.score, "{} vs {}", with.score, without.score);
        assert!(!with.acceptable);
    }

    #[test]
    fn agrees_with_the_reference_corpus() {
        // ../shared/data: the zxcvbn crate matched the reference validity on 99.5% of the corpus.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/zxcvbn-reference.jsonl");
        // The corpus sits in shared/ beside the clone; CI always has it, so there it must be read.
        let corpus = match std::fs::read_to_string(path) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!("skipping outside CI: {path}: {e}");
                return;
            }
            Err(e) => panic!("{path}: {e}"),
        };
        let (mut total, mut agree) = (0, 0);
        for line in corpus.lines() {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            let pw = row["password"].as_str().unwrap();
            let reference_valid = row["score_python"].as_u64().unwrap() >= 3;
            if pw.chars().count() > crate::domain::password::MAX_PASSWORD_CHARS {
                continue;
            }
            total += 1;
            if zx(pw, &[]).acceptable == reference_valid {
                agree += 1;
            }
        }
        let ratio = agree as f64 / total as f64;
        assert!(
            total > 1000 && ratio >= 0.99,
            "validity agreement {ratio:.4} over {total}"
        );
    }
}
