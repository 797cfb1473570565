//! Typed settings from `LATCH_*` environment variables. Each has a documented default; a value
//! that does not parse or is out of range stops start-up with a message naming the variable.

use std::time::Duration;

use crate::aws_calls::AwsCallPolicy;

/// How new passwords are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrengthPolicy {
    /// zxcvbn: valid iff score ≥ 3 (Stytch's default).
    Zxcvbn,
    /// Length and character classes: lower, upper, digit, symbol.
    Luds { min_length: usize, min_complexity: usize },
}

/// What to do when the breach service cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachFailure {
    /// Treat the password as not breached and log it (default): an outage never blocks logins.
    Open,
    /// Refuse to set a password whose breach status is unknown.
    Closed,
}

#[derive(Debug, Clone)]
pub struct BreachSettings {
    /// Check new passwords (create, resets). `LATCH_BREACH_CHECK_ON_CREATE`, default true.
    pub on_create: bool,
    /// Check on authenticate; a correct but breached password then needs a reset.
    /// `LATCH_BREACH_CHECK_ON_AUTH`, default true.
    pub on_authenticate: bool,
    /// `LATCH_HIBP_URL`, default `https://api.pwnedpasswords.com`; `/range/{prefix}` is appended.
    pub base_url: String,
    /// `LATCH_HIBP_TIMEOUT_MS`, default 1500: the most an outage adds to a request.
    pub timeout: Duration,
    /// `LATCH_HIBP_FAIL_CLOSED`, default false (fail open).
    pub on_failure: BreachFailure,
    /// `LATCH_HIBP_CACHE_SECONDS`, default 3600: how long a range answer is reused; 0 = never.
    pub cache_ttl: Duration,
    /// `LATCH_HIBP_BREAKER_THRESHOLD`, default 3: consecutive failed lookups after which the
    /// service is not asked for a cool-down (each skipped lookup counts as a failed one).
    pub breaker_threshold: u32,
    /// `LATCH_HIBP_BREAKER_COOLDOWN_SECONDS`, default 30: how long lookups are skipped before one
    /// trial lookup is let through.
    pub breaker_cooldown: Duration,
}

impl BreachSettings {
    pub fn enabled(&self) -> bool {
        self.on_create || self.on_authenticate
    }
}

#[derive(Debug, Clone, Copy)]
pub struct HashSettings {
    /// `LATCH_ARGON2_MEMORY_KIB`, default 19456.
    pub memory_kib: u32,
    /// `LATCH_ARGON2_ITERATIONS`, default 2.
    pub iterations: u32,
    /// `LATCH_ARGON2_PARALLELISM`, default 1.
    pub parallelism: u32,
    /// `LATCH_HASH_CONCURRENCY`, default the number of cores: hashes running at once, which
    /// bounds memory at `memory_kib × concurrency`.
    pub concurrency: usize,
    /// `LATCH_IMPORTED_HASH_CONCURRENCY`, default 1: verifications of imported hashes (every kind
    /// but argon2 at most as costly as the configured one) running at once, on permits of their
    /// own, so that they never hold argon2's (docs/security.md H7). Each may take up to
    /// `hashing::budget::MAX_MEMORY_BYTES`.
    pub imported_concurrency: usize,
    /// `LATCH_HASH_QUEUE`, default 256: argon2 hashes that may wait for a permit beyond the
    /// `concurrency` running. Past it a request is answered 503 `service_unavailable` with
    /// `Retry-After` at once, instead of queueing without bound (docs/performance.md).
    pub queue: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct LockoutSettings {
    /// `LATCH_LOCK_THRESHOLD`, default 10 consecutive failures.
    pub threshold: u32,
    /// `LATCH_LOCK_TTL_SECONDS`, default 3600; 300 to 604800.
    pub ttl: chrono::Duration,
}

/// Where data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// One SQLite file in the data directory (the embedded default).
    Sqlite,
    /// The DynamoDB table `table`, where the AWS settings point.
    Dynamodb { table: String },
}

/// How mail leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailBackend {
    /// `.eml` files in `<data-dir>/outbox/` (the embedded default).
    Outbox,
    /// Amazon SES v2, optionally with a configuration set.
    Ses { configuration_set: Option<String> },
}

/// Mail and the links in it.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `LATCH_MAIL_FROM`, default `Latch <no-reply@latch.local>`.
    pub from: String,
    /// `LATCH_TEMPLATE_DIR`: files overriding the built-in templates.
    pub template_dir: Option<std::path::PathBuf>,
    /// `LATCH_RESET_PASSWORD_REDIRECT_URL`, default `http://localhost:3000/authenticate`
    /// (Stytch's test-environment default).
    pub reset_password_redirect_url: Option<String>,
    /// `LATCH_LOGIN_REDIRECT_URL`, default `http://localhost:3000/authenticate`.
    pub login_redirect_url: Option<String>,
    /// `LATCH_SIGNUP_REDIRECT_URL` (B2B signup links), default `http://localhost:3000/authenticate`.
    pub signup_redirect_url: Option<String>,
    /// `LATCH_REDIRECT_URLS`: comma-separated allow-list; default the two URLs above.
    pub allowed_redirect_urls: Vec<String>,
    /// `LATCH_RESET_START_LIMIT`, default 5: reset emails per address per hour.
    pub reset_start_limit_per_hour: u32,
    /// `LATCH_RESET_START_MIN_MS`: a reset start (known or unknown address) answers no sooner
    /// than this after it arrived, from the first request of a process on, so its timing does
    /// not tell who has an account. Default 250 with SES (a send's usual round trip and more),
    /// 20 with the outbox (one file and one store write).
    pub reset_start_min: std::time::Duration,
}

/// `latch serve`'s defences against slow and hostile clients (the Lambda functions sit behind
/// API Gateway, which has its own limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeSettings {
    /// `LATCH_HEADER_READ_TIMEOUT_SECS`, default 10: the most a request's head (request line and
    /// headers) may take to arrive, from its first byte.
    pub header_read_timeout: Duration,
    /// `LATCH_BODY_READ_TIMEOUT_SECS`, default 10: the longest wait for the next piece of a
    /// request's body.
    pub body_read_timeout: Duration,
    /// `LATCH_IDLE_TIMEOUT_SECS`, default 30: how long a connection may sit with no request under
    /// way (before its first request, or kept alive after a response).
    pub idle_timeout: Duration,
    /// `LATCH_MAX_HEADER_BYTES`, default 32768: the largest request head accepted.
    pub max_header_bytes: usize,
    /// `LATCH_SHUTDOWN_GRACE_SECS`, default 25: on SIGTERM or SIGINT, how long the requests under
    /// way may take to finish before their connections are closed (within the 30 s a process
    /// manager or orchestrator usually waits before SIGKILL).
    pub shutdown_grace: Duration,
}

/// The frontend SDK's door, `/sdk/v1` (crate::api::sdk): who may open it from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkSettings {
    /// `LATCH_PUBLIC_TOKEN`: the token the browser SDK is created with
    /// (`public-token-test-<uuid>`, or `-live-` for a live project). Public by design: it opens
    /// `/sdk/v1` and nothing else. By default derived from the token pepper, so every process of
    /// one installation (and every Lambda function) agrees on it without storing it.
    pub public_token: String,
    /// `LATCH_SDK_ORIGINS`: comma-separated exact origins (`scheme://host[:port]`) whose pages may
    /// call `/sdk/v1`, in their serialized form. Empty (the default): no page may.
    pub origins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub project_id: String,
    pub secret: String,
    /// Key for the digests tokens are stored as.
    pub token_pepper: Vec<u8>,
    pub strength: StrengthPolicy,
    pub breach: BreachSettings,
    pub hashing: HashSettings,
    pub lockout: LockoutSettings,
    pub email: EmailSettings,
    pub store: StoreBackend,
    pub mail: MailBackend,
    /// `LATCH_B2B_CROSS_ORG_PASSWORDS`, default false: one password per email across every
    /// organization (Stytch's cross-organization passwords) instead of one per membership.
    pub cross_org_passwords: bool,
    pub serve: ServeSettings,
    /// `LATCH_SQLITE_BUSY_TIMEOUT_MS`, default 5000: how long a write to the embedded store waits
    /// for the database's write lock (held by another process, or by other writes) before it is
    /// answered 503. Reads never wait for it (WAL).
    pub sqlite_busy_timeout: Duration,
    pub sdk: SdkSettings,
}

/// The variables read, for messages, the README's table and the SAM template's check.
pub mod vars {
    macro_rules! variables {
        ($($name:ident = $value:literal;)+) => {
            $(pub const $name: &str = $value;)+
            /// Every variable above.
            pub const ALL: &[&str] = &[$($name),+];
        };
    }

    variables! {
        PROJECT_ID = "LATCH_PROJECT_ID";
        SECRET = "LATCH_SECRET";
        TOKEN_PEPPER = "LATCH_TOKEN_PEPPER";
        PROJECT_SECRET_ARN = "LATCH_PROJECT_SECRET_ARN";
        TOKEN_PEPPER_ARN = "LATCH_TOKEN_PEPPER_ARN";
        STRENGTH_POLICY = "LATCH_STRENGTH_POLICY";
        LUDS_MIN_LENGTH = "LATCH_LUDS_MIN_LENGTH";
        LUDS_MIN_COMPLEXITY = "LATCH_LUDS_MIN_COMPLEXITY";
        BREACH_ON_CREATE = "LATCH_BREACH_CHECK_ON_CREATE";
        BREACH_ON_AUTH = "LATCH_BREACH_CHECK_ON_AUTH";
        HIBP_URL = "LATCH_HIBP_URL";
        HIBP_TIMEOUT_MS = "LATCH_HIBP_TIMEOUT_MS";
        HIBP_FAIL_CLOSED = "LATCH_HIBP_FAIL_CLOSED";
        HIBP_CACHE_SECONDS = "LATCH_HIBP_CACHE_SECONDS";
        HIBP_BREAKER_THRESHOLD = "LATCH_HIBP_BREAKER_THRESHOLD";
        HIBP_BREAKER_COOLDOWN_SECONDS = "LATCH_HIBP_BREAKER_COOLDOWN_SECONDS";
        HEADER_READ_TIMEOUT_SECS = "LATCH_HEADER_READ_TIMEOUT_SECS";
        BODY_READ_TIMEOUT_SECS = "LATCH_BODY_READ_TIMEOUT_SECS";
        IDLE_TIMEOUT_SECS = "LATCH_IDLE_TIMEOUT_SECS";
        MAX_HEADER_BYTES = "LATCH_MAX_HEADER_BYTES";
        SQLITE_BUSY_TIMEOUT_MS = "LATCH_SQLITE_BUSY_TIMEOUT_MS";
        SHUTDOWN_GRACE_SECS = "LATCH_SHUTDOWN_GRACE_SECS";
        ARGON2_MEMORY_KIB = "LATCH_ARGON2_MEMORY_KIB";
        ARGON2_ITERATIONS = "LATCH_ARGON2_ITERATIONS";
        ARGON2_PARALLELISM = "LATCH_ARGON2_PARALLELISM";
        HASH_CONCURRENCY = "LATCH_HASH_CONCURRENCY";
        IMPORTED_HASH_CONCURRENCY = "LATCH_IMPORTED_HASH_CONCURRENCY";
        HASH_QUEUE = "LATCH_HASH_QUEUE";
        LOCK_THRESHOLD = "LATCH_LOCK_THRESHOLD";
        LOCK_TTL_SECONDS = "LATCH_LOCK_TTL_SECONDS";
        MAIL_FROM = "LATCH_MAIL_FROM";
        TEMPLATE_DIR = "LATCH_TEMPLATE_DIR";
        RESET_PASSWORD_REDIRECT_URL = "LATCH_RESET_PASSWORD_REDIRECT_URL";
        LOGIN_REDIRECT_URL = "LATCH_LOGIN_REDIRECT_URL";
        SIGNUP_REDIRECT_URL = "LATCH_SIGNUP_REDIRECT_URL";
        CROSS_ORG_PASSWORDS = "LATCH_B2B_CROSS_ORG_PASSWORDS";
        REDIRECT_URLS = "LATCH_REDIRECT_URLS";
        RESET_START_LIMIT = "LATCH_RESET_START_LIMIT";
        RESET_START_MIN_MS = "LATCH_RESET_START_MIN_MS";
        STORE = "LATCH_STORE";
        TABLE = "LATCH_TABLE";
        MAILER = "LATCH_MAILER";
        SES_FROM = "LATCH_SES_FROM";
        SES_CONFIGURATION_SET = "LATCH_SES_CONFIGURATION_SET";
        PUBLIC_TOKEN = "LATCH_PUBLIC_TOKEN";
        SDK_ORIGINS = "LATCH_SDK_ORIGINS";
        AWS_ATTEMPT_TIMEOUT_MS = "LATCH_AWS_ATTEMPT_TIMEOUT_MS";
        AWS_CALL_TIMEOUT_MS = "LATCH_AWS_CALL_TIMEOUT_MS";
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

/// Where settings are read from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, var: &str) -> Option<String>;
}

pub struct Env;

impl Source for Env {
    fn get(&self, var: &str) -> Option<String> {
        std::env::var(var).ok().filter(|v| !v.is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, var: &str) -> Option<String> {
        self(var)
    }
}

fn parse<T: std::str::FromStr>(src: &dyn Source, var: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match src.get(var) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e| ConfigError {
            var,
            message: format!("cannot parse {raw:?}: {e}"),
        }),
    }
}

/// `var` parsed (or `default`), refused outside `lo..=hi`.
fn ranged<T>(src: &dyn Source, var: &'static str, default: T, lo: T, hi: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    T::Err: std::fmt::Display,
{
    let v = parse(src, var, default)?;
    if v < lo || v > hi {
        return Err(ConfigError {
            var,
            message: format!("{v} is outside {lo}..={hi}"),
        });
    }
    Ok(v)
}

/// The policy every AWS call follows (aws_calls.rs): `AwsCallPolicy::DEPLOYED`, with the time
/// limits of an attempt and of a whole call from `LATCH_AWS_ATTEMPT_TIMEOUT_MS` and
/// `LATCH_AWS_CALL_TIMEOUT_MS` where they are set (an emulator far slower than the service needs
/// longer ones; on Lambda the call's must stay under the function's timeout).
pub fn aws_call_policy(src: &dyn Source) -> Result<AwsCallPolicy, ConfigError> {
    let deployed = AwsCallPolicy::DEPLOYED;
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let attempt = ranged(
        src,
        vars::AWS_ATTEMPT_TIMEOUT_MS,
        millis(deployed.attempt_timeout),
        100,
        600_000,
    )?;
    let call = ranged(
        src,
        vars::AWS_CALL_TIMEOUT_MS,
        millis(deployed.operation_timeout),
        100,
        3_600_000,
    )?;
    if call < attempt {
        return Err(ConfigError {
            var: vars::AWS_CALL_TIMEOUT_MS,
            message: format!(
                "{call} ms is shorter than one attempt ({} = {attempt} ms)",
                vars::AWS_ATTEMPT_TIMEOUT_MS
            ),
        });
    }
    Ok(AwsCallPolicy {
        attempt_timeout: std::time::Duration::from_millis(attempt),
        operation_timeout: std::time::Duration::from_millis(call),
        ..deployed
    })
}

/// `var`, lower-cased, which must be one of `allowed` (the first is the default when unset).
fn choice(src: &dyn Source, var: &'static str, allowed: &[&'static str]) -> Result<&'static str, ConfigError> {
    let Some(raw) = src.get(var) else {
        return Ok(allowed[0]);
    };
    let lower = raw.trim().to_ascii_lowercase();
    allowed
        .iter()
        .find(|a| **a == lower)
        .copied()
        .ok_or_else(|| ConfigError {
            var,
            message: format!("{raw:?} is not one of {}", allowed.join(", ")),
        })
}

impl Settings {
    /// Read everything but the credentials, which the host provides (environment, data
    /// directory or Secrets Manager) and which are passed in.
    pub fn from_source(
        src: &dyn Source,
        project_id: String,
        secret: String,
        token_pepper: Vec<u8>,
    ) -> Result<Self, ConfigError> {
        let strength = match choice(src, vars::STRENGTH_POLICY, &["zxcvbn", "luds"])? {
            "luds" => StrengthPolicy::Luds {
                min_length: ranged(src, vars::LUDS_MIN_LENGTH, 10usize, 8, 32)?,
                min_complexity: ranged(src, vars::LUDS_MIN_COMPLEXITY, 3usize, 1, 4)?,
            },
            _ => StrengthPolicy::Zxcvbn,
        };
        let breach = BreachSettings {
            on_create: parse(src, vars::BREACH_ON_CREATE, true)?,
            on_authenticate: parse(src, vars::BREACH_ON_AUTH, true)?,
            base_url: src
                .get(vars::HIBP_URL)
                .unwrap_or_else(|| "https://api.pwnedpasswords.com".into())
                .trim_end_matches('/')
                .to_string(),
            timeout: Duration::from_millis(ranged(src, vars::HIBP_TIMEOUT_MS, 1500u64, 50, 10_000)?),
            on_failure: if parse(src, vars::HIBP_FAIL_CLOSED, false)? {
                BreachFailure::Closed
            } else {
                BreachFailure::Open
            },
            cache_ttl: Duration::from_secs(ranged(src, vars::HIBP_CACHE_SECONDS, 3600u64, 0, 7 * 86_400)?),
            breaker_threshold: ranged(src, vars::HIBP_BREAKER_THRESHOLD, 3u32, 1, 1000)?,
            breaker_cooldown: Duration::from_secs(ranged(src, vars::HIBP_BREAKER_COOLDOWN_SECONDS, 30u64, 1, 3600)?),
        };
        let serve = ServeSettings {
            header_read_timeout: Duration::from_secs(ranged(src, vars::HEADER_READ_TIMEOUT_SECS, 10u64, 1, 300)?),
            body_read_timeout: Duration::from_secs(ranged(src, vars::BODY_READ_TIMEOUT_SECS, 10u64, 1, 300)?),
            idle_timeout: Duration::from_secs(ranged(src, vars::IDLE_TIMEOUT_SECS, 30u64, 1, 3600)?),
            // At most 64 KiB: below hyper's own limits (its buffer, and 65534 bytes of URI), so an
            // oversized head always meets Latch's 431 in the envelope first (crate::server).
            max_header_bytes: ranged(src, vars::MAX_HEADER_BYTES, 32 * 1024usize, 1024, 64 * 1024)?,
            shutdown_grace: Duration::from_secs(ranged(src, vars::SHUTDOWN_GRACE_SECS, 25u64, 1, 300)?),
        };
        let sqlite_busy_timeout = Duration::from_millis(ranged(src, vars::SQLITE_BUSY_TIMEOUT_MS, 5000u64, 0, 60_000)?);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let hashing = HashSettings {
            memory_kib: ranged(src, vars::ARGON2_MEMORY_KIB, 19_456u32, 8, 4 * 1024 * 1024)?,
            iterations: ranged(src, vars::ARGON2_ITERATIONS, 2u32, 1, 64)?,
            parallelism: ranged(src, vars::ARGON2_PARALLELISM, 1u32, 1, 64)?,
            concurrency: ranged(src, vars::HASH_CONCURRENCY, cores, 1, 1024)?,
            imported_concurrency: ranged(src, vars::IMPORTED_HASH_CONCURRENCY, 1, 1, 64)?,
            queue: ranged(src, vars::HASH_QUEUE, 256usize, 0, 1_000_000)?,
        };
        let lockout = LockoutSettings {
            threshold: ranged(src, vars::LOCK_THRESHOLD, 10u32, 1, 1000)?,
            ttl: chrono::Duration::seconds(ranged(src, vars::LOCK_TTL_SECONDS, 3600i64, 300, 604_800)?),
        };
        let mut email = email_settings(src)?;
        let store = match choice(src, vars::STORE, &["sqlite", "dynamodb"])? {
            "dynamodb" => StoreBackend::Dynamodb {
                table: src
                    .get(vars::TABLE)
                    .unwrap_or_else(|| crate::store::dynamo::table::DEFAULT_TABLE.into()),
            },
            _ => StoreBackend::Sqlite,
        };
        let mail = match choice(src, vars::MAILER, &["outbox", "ses"])? {
            "ses" => {
                // SES sends only from a verified identity: there is no sensible default.
                email.from = src.get(vars::SES_FROM).ok_or(ConfigError {
                    var: vars::SES_FROM,
                    message: "the sender is required when LATCH_MAILER=ses".into(),
                })?;
                MailBackend::Ses {
                    configuration_set: src.get(vars::SES_CONFIGURATION_SET),
                }
            }
            _ => MailBackend::Outbox,
        };
        let min_ms = match &mail {
            MailBackend::Ses { .. } => 250u64,
            MailBackend::Outbox => 20,
        };
        email.reset_start_min =
            std::time::Duration::from_millis(ranged(src, vars::RESET_START_MIN_MS, min_ms, 0, 10_000)?);
        let sdk = sdk_settings(src, &project_id, &token_pepper)?;
        Ok(Self {
            project_id,
            secret,
            token_pepper,
            strength,
            breach,
            hashing,
            lockout,
            email,
            store,
            mail,
            cross_org_passwords: parse(src, vars::CROSS_ORG_PASSWORDS, false)?,
            serve,
            sqlite_busy_timeout,
            sdk,
        })
    }
}

/// The default redirect for both links: Stytch's test-environment default.
pub const DEFAULT_REDIRECT_URL: &str = "http://localhost:3000/authenticate";

fn absolute_url(var: &'static str, raw: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(raw.trim()).map_err(|e| ConfigError {
        var,
        message: format!("{raw:?} is not an absolute URL: {e}"),
    })?;
    Ok(parsed.to_string())
}

fn email_settings(src: &dyn Source) -> Result<EmailSettings, ConfigError> {
    let reset = absolute_url(
        vars::RESET_PASSWORD_REDIRECT_URL,
        &src.get(vars::RESET_PASSWORD_REDIRECT_URL)
            .unwrap_or_else(|| DEFAULT_REDIRECT_URL.into()),
    )?;
    let login = absolute_url(
        vars::LOGIN_REDIRECT_URL,
        &src.get(vars::LOGIN_REDIRECT_URL)
            .unwrap_or_else(|| DEFAULT_REDIRECT_URL.into()),
    )?;
    let signup = absolute_url(
        vars::SIGNUP_REDIRECT_URL,
        &src.get(vars::SIGNUP_REDIRECT_URL)
            .unwrap_or_else(|| DEFAULT_REDIRECT_URL.into()),
    )?;
    let allowed = match src.get(vars::REDIRECT_URLS) {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| absolute_url(vars::REDIRECT_URLS, u))
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![reset.clone(), login.clone(), signup.clone()],
    };
    Ok(EmailSettings {
        from: src
            .get(vars::MAIL_FROM)
            .unwrap_or_else(|| "Latch <no-reply@latch.local>".into()),
        template_dir: src.get(vars::TEMPLATE_DIR).map(Into::into),
        reset_password_redirect_url: Some(reset),
        login_redirect_url: Some(login),
        signup_redirect_url: Some(signup),
        allowed_redirect_urls: allowed,
        reset_start_limit_per_hour: ranged(src, vars::RESET_START_LIMIT, 5u32, 1, 10_000)?,
        // Set by the caller, which knows the mailer.
        reset_start_min: std::time::Duration::ZERO,
    })
}

fn sdk_settings(src: &dyn Source, project_id: &str, token_pepper: &[u8]) -> Result<SdkSettings, ConfigError> {
    let env = crate::domain::ids::IdEnvironment::for_project(project_id);
    let prefix = format!("public-token-{}-", env.as_str());
    let public_token = match src.get(vars::PUBLIC_TOKEN) {
        Some(given) => {
            let given = given.trim().to_string();
            let rest = given.strip_prefix(&prefix).ok_or_else(|| ConfigError {
                var: vars::PUBLIC_TOKEN,
                message: format!("must start with {prefix:?}, as this project's ids do"),
            })?;
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ConfigError {
                    var: vars::PUBLIC_TOKEN,
                    message: format!("after {prefix:?} only letters, digits and '-' may follow"),
                });
            }
            given
        }
        None => {
            use hmac::Mac;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(token_pepper).expect("HMAC takes any key");
            mac.update(b"latch public token");
            let digest = mac.finalize().into_bytes();
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            format!("{prefix}{}", uuid::Builder::from_random_bytes(bytes).into_uuid())
        }
    };
    let origins = src
        .get(vars::SDK_ORIGINS)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(parse_origin)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SdkSettings { public_token, origins })
}

/// An origin as browsers send it in `Origin`: scheme, host and a port other than the scheme's
/// default, nothing else.
fn parse_origin(raw: &str) -> Result<String, ConfigError> {
    let refuse = |why: &str| ConfigError {
        var: vars::SDK_ORIGINS,
        message: format!("{raw:?} is not an origin (scheme://host[:port]): {why}"),
    };
    let url = url::Url::parse(raw).map_err(|e| refuse(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("the scheme must be http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("no user, query or fragment"));
    }
    if url.path() != "/" || raw.trim_end().ends_with('/') {
        return Err(refuse("no path, not even a trailing '/'"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let src = move |k: &str| map.get(k).cloned();
        Settings::from_source(&src, "project-test-x".into(), "s".into(), vec![0; 32])
    }

    #[test]
    fn the_aws_call_policy_is_the_deployed_one_unless_its_time_limits_are_set() {
        let policy = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            aws_call_policy(&move |k: &str| map.get(k).cloned())
        };
        assert_eq!(policy(&[]).unwrap(), AwsCallPolicy::DEPLOYED);
        let slow = policy(&[
            (vars::AWS_ATTEMPT_TIMEOUT_MS, "60000"),
            (vars::AWS_CALL_TIMEOUT_MS, "180000"),
        ])
        .unwrap();
        assert_eq!(slow.attempt_timeout, Duration::from_secs(60));
        assert_eq!(slow.operation_timeout, Duration::from_secs(180));
        assert_eq!(slow.max_attempts, AwsCallPolicy::DEPLOYED.max_attempts);
        let shorter = policy(&[
            (vars::AWS_ATTEMPT_TIMEOUT_MS, "5000"),
            (vars::AWS_CALL_TIMEOUT_MS, "4000"),
        ]);
        assert_eq!(shorter.unwrap_err().var, vars::AWS_CALL_TIMEOUT_MS);
        assert_eq!(
            policy(&[(vars::AWS_ATTEMPT_TIMEOUT_MS, "10")]).unwrap_err().var,
            vars::AWS_ATTEMPT_TIMEOUT_MS
        );
    }

    #[test]
    fn defaults_are_stytchs() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.strength, StrengthPolicy::Zxcvbn);
        assert!(s.breach.on_create && s.breach.on_authenticate);
        assert_eq!(s.breach.on_failure, BreachFailure::Open);
        assert_eq!(
            (s.hashing.memory_kib, s.hashing.iterations, s.hashing.parallelism),
            (19_456, 2, 1)
        );
        assert_eq!(s.lockout.threshold, 10);
        assert_eq!(s.lockout.ttl, chrono::Duration::hours(1));
    }

    #[test]
    fn out_of_range_values_name_the_variable() {
        let err = settings(&[(vars::LOCK_TTL_SECONDS, "60")]).unwrap_err();
        assert_eq!(err.var, vars::LOCK_TTL_SECONDS);
        let err = settings(&[(vars::STRENGTH_POLICY, "luds"), (vars::LUDS_MIN_LENGTH, "40")]).unwrap_err();
        assert_eq!(err.var, vars::LUDS_MIN_LENGTH);
        assert!(settings(&[(vars::STRENGTH_POLICY, "bogus")]).is_err());
        assert!(settings(&[(vars::BREACH_ON_AUTH, "maybe")]).is_err());
    }

    #[test]
    fn backends_are_selected_by_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.store, s.mail), (StoreBackend::Sqlite, MailBackend::Outbox));
        let s = settings(&[
            (vars::STORE, "dynamodb"),
            (vars::TABLE, "t1"),
            (vars::MAILER, "ses"),
            (vars::SES_FROM, "auth@example.com"),
        ])
        .unwrap();
        assert_eq!(s.store, StoreBackend::Dynamodb { table: "t1".into() });
        assert_eq!(
            s.mail,
            MailBackend::Ses {
                configuration_set: None
            }
        );
        assert_eq!(s.email.from, "auth@example.com");
        assert_eq!(settings(&[(vars::MAILER, "ses")]).unwrap_err().var, vars::SES_FROM);
        assert_eq!(settings(&[(vars::STORE, "postgres")]).unwrap_err().var, vars::STORE);
    }

    #[test]
    fn the_public_token_is_derived_and_stable_or_given_and_checked() {
        let derived = settings(&[]).unwrap().sdk.public_token;
        assert!(derived.starts_with("public-token-test-"), "{derived}");
        assert!(uuid::Uuid::parse_str(derived.trim_start_matches("public-token-test-")).is_ok());
        assert_eq!(
            settings(&[]).unwrap().sdk.public_token,
            derived,
            "the same pepper, the same token"
        );
        let other = Settings::from_source(&|_: &str| None, "project-test-x".into(), "s".into(), vec![1; 32]);
        assert_ne!(
            other.unwrap().sdk.public_token,
            derived,
            "another pepper, another token"
        );
        let live = Settings::from_source(&|_: &str| None, "project-live-x".into(), "s".into(), vec![0; 32]);
        assert!(live.unwrap().sdk.public_token.starts_with("public-token-live-"));
        let given = "public-token-test-11111111-2222-4333-8444-555555555555";
        assert_eq!(
            settings(&[(vars::PUBLIC_TOKEN, given)]).unwrap().sdk.public_token,
            given
        );
        for bad in [
            "public-token-live-x",
            "secret-test-x",
            "public-token-test-",
            "public-token-test-a b",
        ] {
            assert_eq!(
                settings(&[(vars::PUBLIC_TOKEN, bad)]).unwrap_err().var,
                vars::PUBLIC_TOKEN,
                "{bad}"
            );
        }
    }

    #[test]
    fn sdk_origins_are_exact_origins() {
        assert!(settings(&[]).unwrap().sdk.origins.is_empty());
        let s = settings(&[(vars::SDK_ORIGINS, "http://localhost:8080, https://App.Example.com:443")]).unwrap();
        assert_eq!(s.sdk.origins, ["http://localhost:8080", "https://app.example.com"]);
        for bad in [
            "localhost:8080",
            "https://app.example.com/",
            "https://app.example.com/login",
            "ftp://x.example.com",
            "https://u:p@x.example.com",
            "*",
        ] {
            assert_eq!(
                settings(&[(vars::SDK_ORIGINS, bad)]).unwrap_err().var,
                vars::SDK_ORIGINS,
                "{bad}"
            );
        }
    }

    #[test]
    fn luds_is_selectable() {
        let s = settings(&[
            (vars::STRENGTH_POLICY, "LUDS"),
            (vars::LUDS_MIN_LENGTH, "12"),
            (vars::LUDS_MIN_COMPLEXITY, "4"),
        ])
        .unwrap();
        assert_eq!(
            s.strength,
            StrengthPolicy::Luds {
                min_length: 12,
                min_complexity: 4
            }
        );
    }
}
