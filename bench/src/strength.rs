//! The strength check as `/v1/passwords/strength_check` runs it (`latch::policy::Policy::strength`,
//! zxcvbn on the blocking pool): time per estimate on a realistic corpus, and the worst case on
//! adversarial families of inputs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use latch::config::{BreachFailure, BreachSettings, StrengthPolicy};
use latch::domain::{EmailAddress, Password};
use latch::policy::{BreachCheck, BreachStatus, Policy};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::stats::Summary;

/// The cap `Password::parse` enforces.
const CAP: usize = latch::domain::password::MAX_PASSWORD_CHARS;
/// Each adversarial input is timed this many times; its median counts (one slow outlier caused
/// by the machine is not the input's cost).
const REPEATS: usize = 3;

/// The breach half of the policy is never consulted by a strength estimate.
struct NoBreachCheck;

#[async_trait::async_trait]
impl BreachCheck for NoBreachCheck {
    async fn check(&self, _: &Password) -> BreachStatus {
        BreachStatus::NotBreached
    }
}

fn policy() -> Policy {
    let breach = BreachSettings {
        on_create: false,
        on_authenticate: false,
        base_url: String::new(),
        timeout: Duration::from_secs(1),
        on_failure: BreachFailure::Open,
        cache_ttl: Duration::ZERO,
        breaker_threshold: 3,
        breaker_cooldown: Duration::from_secs(30),
    };
    Policy::new(StrengthPolicy::Zxcvbn, breach, Arc::new(NoBreachCheck))
}

#[derive(Debug, Clone, Serialize)]
pub struct Corpus {
    pub path: String,
    /// Passwords over the length cap, which the API refuses before scoring.
    pub skipped_over_cap: usize,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Family {
    pub name: &'static str,
    pub description: &'static str,
    pub inputs: usize,
    /// Of the inputs, how many the policy accepts (score ≥ 3).
    pub accepted: usize,
    /// Over the inputs, each input's median of its repeats.
    pub summary: Summary,
    /// The slowest input: its length in characters and its first characters.
    pub worst_chars: usize,
    pub worst_preview: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrengthResults {
    pub scored_chars: usize,
    /// `None` when the corpus file is absent.
    pub corpus: Option<Corpus>,
    pub corpus_note: Option<String>,
    pub families: Vec<Family>,
    pub worst_ms: f64,
    pub worst_family: &'static str,
}

async fn time_one(policy: &Policy, password: &Password, email: Option<&EmailAddress>) -> anyhow::Result<(f64, bool)> {
    let start = Instant::now();
    let s = policy
        .strength(password, email)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok((start.elapsed().as_secs_f64() * 1000.0, s.acceptable))
}

pub async fn run(corpus_path: &Path, quick: bool) -> anyhow::Result<StrengthResults> {
    let policy = policy();
    // zxcvbn builds its dictionaries on first use; that one-off is not an estimate's cost.
    let warm = Password::parse("warm up the dictionaries".into()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    time_one(&policy, &warm, None).await?;

    let (corpus, corpus_note) = match std::fs::read_to_string(corpus_path) {
        Ok(text) => (Some(corpus(&policy, corpus_path, &text, quick).await?), None),
        Err(e) => {
            let note = format!("corpus not measured: {}: {e}", corpus_path.display());
            eprintln!("{note}");
            (None, Some(note))
        }
    };

    let mut families = Vec::new();
    for (name, description, inputs) in adversarial(quick) {
        families.push(family(&policy, name, description, inputs).await?);
        eprintln!("strength: {name} done");
    }
    let worst = families
        .iter()
        .max_by(|a, b| a.summary.max.total_cmp(&b.summary.max))
        .context("no adversarial family")?;
    Ok(StrengthResults {
        scored_chars: latch::policy::ZXCVBN_SCORED_CHARS,
        worst_ms: worst.summary.max,
        worst_family: worst.name,
        corpus,
        corpus_note,
        families,
    })
}

async fn corpus(policy: &Policy, path: &Path, text: &str, quick: bool) -> anyhow::Result<Corpus> {
    let mut times = Vec::new();
    let mut skipped = 0;
    let step = if quick { 10 } else { 1 };
    for line in text.lines().filter(|l| !l.trim().is_empty()).step_by(step) {
        let row: serde_json::Value = serde_json::from_str(line).context("corpus line")?;
        let raw = row["password"].as_str().context("corpus line without a password")?;
        let Ok(password) = Password::parse(raw.to_string()) else {
            skipped += 1;
            continue;
        };
        times.push(time_one(policy, &password, None).await?.0);
    }
    Ok(Corpus {
        path: path.display().to_string(),
        skipped_over_cap: skipped,
        summary: Summary::of(&times).context("empty corpus")?,
    })
}

/// An adversarial input: the password, and the email whose parts count as user inputs.
struct Input {
    password: String,
    email: Option<String>,
}

fn plain(password: String) -> Input {
    Input { password, email: None }
}

async fn family(
    policy: &Policy,
    name: &'static str,
    description: &'static str,
    inputs: Vec<Input>,
) -> anyhow::Result<Family> {
    let mut medians = Vec::new();
    let mut accepted = 0;
    let mut worst = (f64::MIN, 0, String::new());
    for input in &inputs {
        let password = Password::parse(input.password.clone()).map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
        let email = match &input.email {
            Some(e) => Some(EmailAddress::parse(e).map_err(|err| anyhow::anyhow!("{name}: {e}: {err:?}"))?),
            None => None,
        };
        let mut times = Vec::new();
        let mut ok = false;
        for _ in 0..REPEATS {
            let (ms, acceptable) = time_one(policy, &password, email.as_ref()).await?;
            times.push(ms);
            ok = acceptable;
        }
        accepted += usize::from(ok);
        let median = Summary::of(&times).context("no repeats")?.median;
        if median > worst.0 {
            worst = (median, input.password.chars().count(), preview(&input.password));
        }
        medians.push(median);
    }
    Ok(Family {
        name,
        description,
        inputs: inputs.len(),
        accepted,
        summary: Summary::of(&medians).context("empty family")?,
        worst_chars: worst.1,
        worst_preview: worst.2,
    })
}

fn preview(s: &str) -> String {
    let head: String = s.chars().take(24).collect();
    if s.chars().count() > 24 {
        format!("{head}…")
    } else {
        head
    }
}

const L33T: &[char] = &['@', '$', '1', '3', '4', '0', '!', '|', '('];
const LETTERS: &[char] = &['a', 'e', 'i', 'l', 'o', 's', 't', 'b', 'g'];
const WORDS: &[&str] = &[
    "password", "dragon", "monkey", "letmein", "shadow", "master", "sunshine", "princess", "football", "baseball",
    "welcome", "freedom", "whatever", "trustno1", "superman", "iloveyou", "starwars", "computer", "michelle",
    "jessica",
];

fn pick(rng: &mut StdRng, set: &[char], n: usize) -> String {
    (0..n).map(|_| set[rng.gen_range(0..set.len())]).collect()
}

/// The families, each a name, what it holds and its inputs. Seeded: every run times the same.
fn adversarial(quick: bool) -> Vec<(&'static str, &'static str, Vec<Input>)> {
    let mut rng = StdRng::seed_from_u64(9);
    let samples = if quick { 3 } else { 12 };
    let printable: Vec<char> = (0x20u8..0x7f).map(char::from).collect();
    let mut families = vec![(
        "random_printable_256",
        "random printable ASCII at the 256-character cap",
        (0..samples).map(|_| plain(pick(&mut rng, &printable, CAP))).collect(),
    )];
    families.push((
        "repeats_256",
        "one character or a short pattern repeated to the cap",
        ["a", "ab", "abc", "1", "!", "aA1!", "qwerty", "@4"]
            .iter()
            .map(|p| plain(p.repeat(CAP).chars().take(CAP).collect()))
            .collect(),
    ));
    for (name, len) in [("l33t_32", 32), ("l33t_64", 64), ("l33t_100", 100), ("l33t_256", CAP)] {
        let mut inputs: Vec<Input> = (0..samples).map(|_| plain(pick(&mut rng, L33T, len))).collect();
        let mixed: Vec<char> = L33T.iter().chain(LETTERS).copied().collect();
        inputs.extend((0..samples).map(|_| plain(pick(&mut rng, &mixed, len))));
        let description = "`@$13 40!|(` only, and mixed with the letters they stand for";
        families.push((name, description, inputs));
    }
    families.push((
        "dictionary_chain_256",
        "common words chained to the cap (bare, spaced, capitalised with digits)",
        (0..samples)
            .map(|i| {
                let mut s = String::new();
                while s.chars().count() < CAP {
                    let w = WORDS[rng.gen_range(0..WORDS.len())];
                    match i % 3 {
                        0 => s.push_str(w),
                        1 => {
                            s.push_str(w);
                            s.push(' ');
                        }
                        _ => {
                            s.push_str(&w[..1].to_uppercase());
                            s.push_str(&w[1..]);
                            s.push_str(&rng.gen_range(0..100).to_string());
                        }
                    }
                }
                plain(s.chars().take(CAP).collect())
            })
            .collect(),
    ));
    families.push((
        "huge_email_inputs",
        "a 64-character local part and a 250-character address whose parts the password reuses",
        email_inputs(&mut rng, samples),
    ));
    families.push((
        "unicode_256",
        "non-ASCII at the cap: accented, CJK, emoji",
        vec![
            plain("é".repeat(CAP)),
            plain("🔑".repeat(CAP)),
            plain(
                (0..CAP)
                    .map(|_| char::from_u32(rng.gen_range(0x4e00..0x9fff)).unwrap_or('漢'))
                    .collect(),
            ),
            plain(
                (0..CAP)
                    .map(|_| char::from_u32(rng.gen_range(0xc0..0x24f)).unwrap_or('é'))
                    .collect(),
            ),
        ],
    ));
    families
}

/// The longest addresses `EmailAddress::parse` takes, with passwords built from their parts.
fn email_inputs(rng: &mut StdRng, samples: usize) -> Vec<Input> {
    (0..samples)
        .map(|i| {
            let words: Vec<&str> = (0..12).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
            let mut local = words.join(".");
            local.truncate(64);
            let local = local.trim_end_matches('.').to_string();
            let mut domain = String::new();
            // Labels add at most 11 characters; stop while the whole stays within 254.
            while domain.len() + local.len() + "@com".len() + 11 <= latch::domain::email::MAX_TOTAL {
                domain.push_str(&format!("{}{}.", WORDS[rng.gen_range(0..WORDS.len())], i));
            }
            let email = format!("{local}@{domain}com");
            let password = match i % 3 {
                0 => local.replace('.', ""),
                1 => format!("{}{}", local.replace('.', ""), domain.replace('.', "")),
                _ => local.chars().rev().collect(),
            };
            Input {
                password: password.chars().take(CAP).collect(),
                email: Some(email),
            }
        })
        .collect()
}
