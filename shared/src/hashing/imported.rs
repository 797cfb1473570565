//! A hash as migrate receives it (`hash`, `hash_type` and the type's config object), parsed into a
//! [`StoredHash`] within the cost bounds, or refused with the algorithm's own error type.
//!
//! The bounds exist because an imported hash is verified at login with its own cost: without
//! them one row could make every login of that user take seconds (docs/security.md H4). Every kind's
//! time is bounded by one budget, its cost model in [`super::budget`]; the maxima derived from it
//! are documented in docs/migration.md; change both together.

use argon2::{Algorithm, Version};
use base64::Engine as _;
use serde::Deserialize;

use super::budget;
use super::phpass::{Phpass, PhpassError};
use super::stored::{Argon2Cost, DigestAlgorithm, Pbkdf2Algorithm, StoredHash};
use crate::error::{Error, ErrorType};

/// bcrypt cost (log2 rounds): from bcrypt's minimum to the budget's (13).
pub const BCRYPT_MIN_COST: u32 = 4;
/// scrypt N: a power of two in this range (Stytch's documented range); N, r and p together are
/// bounded by the budget, and the memory they need by [`budget::MAX_MEMORY_BYTES`].
pub const SCRYPT_N: std::ops::RangeInclusive<u64> = 2..=262_144;
/// Salt bytes for scrypt and argon2.
pub const SALT_BYTES: std::ops::RangeInclusive<usize> = 8..=64;
/// Derived key bytes for scrypt, pbkdf2 and argon2.
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 16..=64;
/// pbkdf2 salt bytes (systems used all sorts; the salt does not change the cost).
pub const PBKDF2_SALT_BYTES: std::ops::RangeInclusive<usize> = 1..=256;
/// argon2 memory in KiB, at most (at least 8 × threads, as argon2 requires).
pub const ARGON2_MAX_MEMORY_KIB: u64 = budget::MAX_MEMORY_BYTES / 1024;
pub const ARGON2_THREADS: std::ops::RangeInclusive<u64> = 1..=16;
/// phpass rounds are 2^count, at least 2^7 (phpass's minimum): WordPress writes 2^13 (`$P$B`),
/// phpBB3 2^11 (`$H$9`), passlib 2^19 (`$P$H`). The most the budget allows is where every
/// password of [`budget::PHPASS_GUARANTEED_PASSWORD_BYTES`] still verifies within it.
pub const PHPASS_MIN_COUNT_LOG2: u8 = 7;

/// The highest bcrypt cost within the budget (13).
pub const fn bcrypt_max_cost() -> u32 {
    let mut cost = BCRYPT_MIN_COST;
    while budget::within(budget::bcrypt_ns(cost + 1)) {
        cost += 1;
    }
    cost
}

/// The highest phpass count (log2 rounds) within the budget for every password of
/// [`budget::PHPASS_GUARANTEED_PASSWORD_BYTES`] (19).
pub const fn phpass_max_count_log2() -> u8 {
    let mut count = PHPASS_MIN_COUNT_LOG2;
    while budget::phpass_max_password_bytes(count + 1) >= budget::PHPASS_GUARANTEED_PASSWORD_BYTES {
        count += 1;
    }
    count
}

/// The most pbkdf2 iterations × output blocks within the budget for this digest.
pub const fn pbkdf2_max_iteration_blocks(algorithm: Pbkdf2Algorithm) -> u64 {
    budget::BUDGET_NS / pbkdf2_iteration_ns(algorithm)
}

const fn pbkdf2_iteration_ns(algorithm: Pbkdf2Algorithm) -> u64 {
    match algorithm {
        Pbkdf2Algorithm::Sha256 => budget::PBKDF2_SHA256_ITERATION_NS,
        Pbkdf2Algorithm::Sha512 => budget::PBKDF2_SHA512_ITERATION_NS,
    }
}

/// The most scrypt N·r·p within the budget.
pub const SCRYPT_MAX_N_R_P: u64 = budget::BUDGET_NS / budget::SCRYPT_UNIT_NS;
/// The most argon2 memory (KiB) × iterations within the budget.
pub const ARGON2_MAX_MEMORY_X_ITERATIONS: u64 = budget::BUDGET_NS / budget::ARGON2_BLOCK_NS;
/// Salts of the salted digests, in bytes.
pub const DIGEST_SALT_MAX_BYTES: usize = 256;
/// No hash string of any kind is longer.
pub const MAX_HASH_CHARS: usize = 1024;

/// The `hash_type` values, as Stytch names them.
pub const HASH_TYPES: &[&str] = &[
    "bcrypt",
    "md_5",
    "argon_2i",
    "argon_2id",
    "sha_1",
    "sha_512",
    "scrypt",
    "phpass",
    "pbkdf_2",
];

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SaltConfig {
    /// Placed before the password when hashing.
    pub prepend_salt: Option<String>,
    /// Placed after the password when hashing.
    pub append_salt: Option<String>,
}

/// For the hex form of an argon2 hash.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Argon2Config {
    /// The salt string (its UTF-8 bytes are the salt, as with the `argon2` command).
    pub salt: String,
    pub iteration_amount: i64,
    /// KiB.
    pub memory: i64,
    pub threads: i64,
    /// Bytes of output; the hex hash has twice as many digits.
    pub key_length: i64,
}

/// For the base64 (non-PHC) form of an scrypt hash.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ScryptConfig {
    /// Base64.
    pub salt: String,
    pub n_parameter: i64,
    pub r_parameter: i64,
    pub p_parameter: i64,
    pub key_length: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Pbkdf2Config {
    /// Base64.
    pub salt: String,
    pub iteration_amount: i64,
    pub key_length: i64,
    /// `sha256` (the default when empty or absent) or `sha512`.
    pub algorithm: Option<String>,
}

/// The hash fields of both migrate requests.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct HashFields {
    /// The hash as the old system stored it (see docs/migration.md for each type's form).
    pub hash: String,
    #[schema(schema_with = hash_type_schema)]
    pub hash_type: String,
    pub md_5_config: Option<SaltConfig>,
    pub sha_1_config: Option<SaltConfig>,
    pub sha_512_config: Option<SaltConfig>,
    pub argon_2_config: Option<Argon2Config>,
    pub scrypt_config: Option<ScryptConfig>,
    pub pbkdf_2_config: Option<Pbkdf2Config>,
}

fn hash_type_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(HASH_TYPES.iter().copied()))
        .build()
}

/// `refusal` in place of a hash parser's own error, which is dropped: its message quotes the
/// hash (bcrypt's names it whole, hex and base64 name the offending character), and an imported
/// hash is as secret as the password it was made from, so none of it may reach the logs.
fn quoting_nothing<E>(refusal: Error) -> impl FnOnce(E) -> Error {
    move |_| refusal
}

fn err(t: ErrorType, message: impl Into<String>) -> Error {
    Error::new(t, message)
}

impl HashFields {
    /// The hash as it will be stored, or the error naming what is wrong with it.
    pub fn parse(&self) -> Result<StoredHash, Error> {
        if !HASH_TYPES.contains(&self.hash_type.as_str()) {
            return Err(err(
                ErrorType::InvalidHashType,
                format!("hash_type must be one of: {}.", HASH_TYPES.join(", ")),
            ));
        }
        self.refuse_foreign_configs()?;
        if self.hash.is_empty() || self.hash.len() > MAX_HASH_CHARS {
            return Err(err(
                ErrorType::InvalidHash,
                format!("hash must be 1 to {MAX_HASH_CHARS} characters."),
            ));
        }
        let hash = self.hash.as_str();
        match self.hash_type.as_str() {
            "bcrypt" => bcrypt_hash(hash),
            "md_5" => salted(
                DigestAlgorithm::Md5,
                hash,
                self.md_5_config.as_ref(),
                ErrorType::InvalidMd5Hash,
            ),
            "sha_1" => salted(
                DigestAlgorithm::Sha1,
                hash,
                self.sha_1_config.as_ref(),
                ErrorType::InvalidSha1Hash,
            ),
            "sha_512" => salted(
                DigestAlgorithm::Sha512,
                hash,
                self.sha_512_config.as_ref(),
                ErrorType::InvalidHash,
            ),
            "argon_2i" => argon2_hash(Algorithm::Argon2i, hash, self.argon_2_config.as_ref()),
            "argon_2id" => argon2_hash(Algorithm::Argon2id, hash, self.argon_2_config.as_ref()),
            "scrypt" => scrypt_hash(hash, self.scrypt_config.as_ref()),
            "pbkdf_2" => pbkdf2_hash(hash, self.pbkdf_2_config.as_ref()),
            _ => phpass_hash(hash),
        }
    }

    /// A config object for another hash type is a mistake the caller would otherwise only find
    /// at the first failed login.
    fn refuse_foreign_configs(&self) -> Result<(), Error> {
        let configs = [
            ("md_5_config", self.md_5_config.is_some(), &["md_5"][..]),
            ("sha_1_config", self.sha_1_config.is_some(), &["sha_1"]),
            ("sha_512_config", self.sha_512_config.is_some(), &["sha_512"]),
            (
                "argon_2_config",
                self.argon_2_config.is_some(),
                &["argon_2i", "argon_2id"],
            ),
            ("scrypt_config", self.scrypt_config.is_some(), &["scrypt"]),
            ("pbkdf_2_config", self.pbkdf_2_config.is_some(), &["pbkdf_2"]),
        ];
        for (name, given, applies_to) in configs {
            if given && !applies_to.contains(&self.hash_type.as_str()) {
                return Err(err(
                    ErrorType::BadRequest,
                    format!("{name} does not apply to hash_type {}.", self.hash_type),
                ));
            }
        }
        Ok(())
    }
}

fn bcrypt_hash(hash: &str) -> Result<StoredHash, Error> {
    let invalid = || {
        err(
            ErrorType::InvalidBcryptHash,
            "hash must be a bcrypt string: $2a$, $2b$ or $2y$, a two-digit cost, then 53 characters.",
        )
    };
    let parts: bcrypt::HashParts = hash.parse().map_err(quoting_nothing(invalid()))?;
    let cost = parts.get_cost();
    if cost < BCRYPT_MIN_COST || !budget::within(budget::bcrypt_ns(cost)) {
        return Err(err(
            ErrorType::InvalidBcryptCost,
            format!("bcrypt cost must be {BCRYPT_MIN_COST} to {}.", bcrypt_max_cost()),
        ));
    }
    match StoredHash::parse(hash) {
        Some(stored @ StoredHash::Bcrypt(_)) => Ok(stored),
        _ => Err(invalid()),
    }
}

fn salt_text(salt: Option<&String>, error: ErrorType, name: &str) -> Result<String, Error> {
    let salt = salt.cloned().unwrap_or_default();
    if salt.len() > DIGEST_SALT_MAX_BYTES || salt.chars().any(char::is_control) {
        return Err(err(
            error,
            format!("{name} must be at most {DIGEST_SALT_MAX_BYTES} bytes, without control characters."),
        ));
    }
    Ok(salt)
}

fn salted(
    algorithm: DigestAlgorithm,
    hash: &str,
    config: Option<&SaltConfig>,
    invalid: ErrorType,
) -> Result<StoredHash, Error> {
    let digits = algorithm.output_len() * 2;
    let digest = hex::decode(hash)
        .ok()
        .filter(|d| d.len() == algorithm.output_len())
        .ok_or_else(|| err(invalid, format!("hash must be {digits} hexadecimal digits.")))?;
    let config = config.cloned().unwrap_or_default();
    Ok(StoredHash::SaltedDigest {
        algorithm,
        prepend: salt_text(
            config.prepend_salt.as_ref(),
            ErrorType::InvalidPrependSalt,
            "prepend_salt",
        )?,
        append: salt_text(config.append_salt.as_ref(), ErrorType::InvalidAppendSalt, "append_salt")?,
        digest,
    })
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    value: T,
    range: std::ops::RangeInclusive<T>,
    error: ErrorType,
    name: &str,
) -> Result<T, Error> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(err(
            error,
            format!("{name} must be {} to {}.", range.start(), range.end()),
        ))
    }
}

/// Checks an argon2 cost and key against the bounds, each with its own error type.
fn argon2_bounds(memory: u64, iterations: u64, threads: u64, key_len: u64, salt_len: usize) -> Result<(), Error> {
    if iterations == 0 {
        return Err(err(
            ErrorType::InvalidArgon2IterationAmount,
            "the argon2 iteration amount must be at least 1.",
        ));
    }
    in_range(
        threads,
        ARGON2_THREADS,
        ErrorType::InvalidArgon2Threads,
        "the argon2 threads",
    )?;
    in_range(
        memory,
        8 * threads..=ARGON2_MAX_MEMORY_KIB,
        ErrorType::InvalidArgon2Memory,
        "the argon2 memory (KiB)",
    )?;
    // Memory is bounded above; the iterations are what multiply it into time.
    if !budget::within(budget::argon2_ns(memory, iterations)) {
        return Err(err(
            ErrorType::InvalidArgon2IterationAmount,
            format!("argon2 memory (KiB) × iterations must be at most {ARGON2_MAX_MEMORY_X_ITERATIONS}."),
        ));
    }
    in_range(
        key_len as usize,
        KEY_BYTES,
        ErrorType::InvalidArgon2KeyLength,
        "the argon2 key length (bytes)",
    )?;
    in_range(
        salt_len,
        SALT_BYTES,
        ErrorType::InvalidArgon2Salt,
        "the argon2 salt (bytes)",
    )?;
    Ok(())
}

fn argon2_hash(algorithm: Algorithm, hash: &str, config: Option<&Argon2Config>) -> Result<StoredHash, Error> {
    if hash.starts_with('$') {
        // PHC form; any argon_2_config is for the hex form and is not consulted.
        let Some(StoredHash::Argon2 { cost, salt, hash }) = StoredHash::parse(hash) else {
            return Err(err(
                ErrorType::InvalidHash,
                "hash must be an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash) or hexadecimal.",
            ));
        };
        if cost.algorithm != algorithm {
            return Err(err(
                ErrorType::InvalidHash,
                "The PHC string's argon2 variant does not match hash_type.",
            ));
        }
        argon2_bounds(
            cost.memory_kib.into(),
            cost.iterations.into(),
            cost.parallelism.into(),
            hash.len() as u64,
            salt.len(),
        )?;
        return Ok(StoredHash::Argon2 { cost, salt, hash });
    }
    let config = config.ok_or_else(|| {
        err(
            ErrorType::InvalidHash,
            "A hexadecimal argon2 hash needs argon_2_config (salt, iteration_amount, memory, threads, key_length).",
        )
    })?;
    let bytes = hex::decode(hash).map_err(quoting_nothing(err(
        ErrorType::InvalidHash,
        "hash must be an argon2 PHC string or hexadecimal.",
    )))?;
    let non_negative = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
    argon2_bounds(
        non_negative(config.memory),
        non_negative(config.iteration_amount),
        non_negative(config.threads),
        non_negative(config.key_length),
        config.salt.len(),
    )?;
    if bytes.len() as i64 != config.key_length {
        return Err(err(
            ErrorType::Argon2KeyLengthMismatch,
            "key_length must be the length of the hash in bytes (half its hexadecimal digits).",
        ));
    }
    Ok(StoredHash::Argon2 {
        cost: Argon2Cost {
            algorithm,
            version: Version::V0x13,
            memory_kib: config.memory as u32,
            iterations: config.iteration_amount as u32,
            parallelism: config.threads as u32,
        },
        salt: config.salt.as_bytes().to_vec(),
        hash: bytes,
    })
}

fn scrypt_hash(hash: &str, config: Option<&ScryptConfig>) -> Result<StoredHash, Error> {
    let bad_hash = || {
        err(
            ErrorType::InvalidBase64ScryptHash,
            "hash must be an scrypt PHC string ($scrypt$ln=…,r=…,p=…$salt$hash) or base64.",
        )
    };
    // N itself (not its log) from either form, so both are bounded by the same rule.
    let (n, r, p, salt, key) = if hash.starts_with('$') {
        let Some(StoredHash::Scrypt {
            log_n,
            r,
            p,
            salt,
            hash,
        }) = StoredHash::parse(hash)
        else {
            return Err(bad_hash());
        };
        let n = 1u64.checked_shl(log_n.into()).unwrap_or(u64::MAX);
        (n, u64::from(r), u64::from(p), salt, hash)
    } else {
        let config = config.ok_or_else(|| {
            err(
                ErrorType::InvalidHash,
                "A base64 scrypt hash needs scrypt_config (salt, n_parameter, r_parameter, p_parameter, key_length).",
            )
        })?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(hash)
            .map_err(quoting_nothing(bad_hash()))?;
        let salt = base64::engine::general_purpose::STANDARD
            .decode(&config.salt)
            .map_err(|e| err(ErrorType::InvalidBase64ScryptSalt, "scrypt_config.salt must be base64.").caused_by(e))?;
        if key.len() as i64 != config.key_length {
            return Err(err(
                ErrorType::ScryptKeyLengthMismatch,
                "key_length must be the length of the decoded hash in bytes.",
            ));
        }
        let non_negative = |v: i64| u64::try_from(v).unwrap_or(0);
        (
            non_negative(config.n_parameter),
            non_negative(config.r_parameter),
            non_negative(config.p_parameter),
            salt,
            key,
        )
    };
    if !SCRYPT_N.contains(&n) || !n.is_power_of_two() {
        return Err(err(
            ErrorType::InvalidScryptNParameter,
            format!(
                "N must be a power of two from {} to {}.",
                SCRYPT_N.start(),
                SCRYPT_N.end()
            ),
        ));
    }
    let refused = || {
        err(
            ErrorType::InvalidScryptParameters,
            format!(
                "r and p must be at least 1, N·r·p at most {SCRYPT_MAX_N_R_P}, the memory 128·r·(N + p + 2) bytes at most {}, and the key {} to {} bytes.",
                budget::MAX_MEMORY_BYTES,
                KEY_BYTES.start(),
                KEY_BYTES.end()
            ),
        )
    };
    if r == 0
        || p == 0
        || !budget::within(budget::scrypt_ns(n, r, p))
        || budget::scrypt_memory_bytes(n, r, p) > budget::MAX_MEMORY_BYTES
        || !KEY_BYTES.contains(&key.len())
    {
        return Err(refused());
    }
    in_range(
        salt.len(),
        SALT_BYTES,
        ErrorType::InvalidScryptSaltLength,
        "the scrypt salt (bytes)",
    )?;
    let log_n = n.trailing_zeros() as u8;
    // scrypt's own constraints (e.g. N < 2^(16·r)) on top of the bounds.
    scrypt::Params::new(log_n, r as u32, p as u32, key.len()).map_err(|e| refused().caused_by(e))?;
    Ok(StoredHash::Scrypt {
        log_n,
        r: r as u32,
        p: p as u32,
        salt,
        hash: key,
    })
}

fn pbkdf2_hash(hash: &str, config: Option<&Pbkdf2Config>) -> Result<StoredHash, Error> {
    let config = config.ok_or_else(|| {
        err(
            ErrorType::InvalidHash,
            "A pbkdf_2 hash needs pbkdf_2_config (salt, iteration_amount, key_length, algorithm).",
        )
    })?;
    let algorithm = match config.algorithm.as_deref().unwrap_or("") {
        "" | "sha256" => Pbkdf2Algorithm::Sha256,
        "sha512" => Pbkdf2Algorithm::Sha512,
        _ => {
            return Err(err(
                ErrorType::InvalidPbkdf2Algorithm,
                "pbkdf_2_config.algorithm must be sha256 or sha512.",
            ))
        }
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(hash)
        .ok()
        .filter(|k| KEY_BYTES.contains(&k.len()))
        .ok_or_else(|| {
            err(
                ErrorType::InvalidPbkdf2Hash,
                format!(
                    "hash must be base64 of {} to {} bytes.",
                    KEY_BYTES.start(),
                    KEY_BYTES.end()
                ),
            )
        })?;
    let salt = base64::engine::general_purpose::STANDARD
        .decode(&config.salt)
        .ok()
        .filter(|s| PBKDF2_SALT_BYTES.contains(&s.len()))
        .ok_or_else(|| {
            err(
                ErrorType::InvalidPbkdf2Salt,
                format!(
                    "pbkdf_2_config.salt must be base64 of {} to {} bytes.",
                    PBKDF2_SALT_BYTES.start(),
                    PBKDF2_SALT_BYTES.end()
                ),
            )
        })?;
    if key.len() as i64 != config.key_length {
        return Err(err(
            ErrorType::Pbkdf2KeyLengthMismatch,
            "key_length must be the length of the decoded hash in bytes.",
        ));
    }
    let iterations = u64::try_from(config.iteration_amount).unwrap_or(0);
    let cost = budget::pbkdf2_ns(
        iterations,
        key.len(),
        algorithm.output_len(),
        pbkdf2_iteration_ns(algorithm),
    );
    if iterations == 0 || !budget::within(cost) {
        return Err(err(
            ErrorType::InvalidPbkdf2IterationAmount,
            format!(
                "iteration_amount × ⌈key_length ÷ {}⌉ must be 1 to {} for {}.",
                algorithm.output_len(),
                pbkdf2_max_iteration_blocks(algorithm),
                algorithm.name()
            ),
        ));
    }
    Ok(StoredHash::Pbkdf2 {
        algorithm,
        iterations: iterations as u32,
        salt,
        hash: key,
    })
}

fn phpass_hash(hash: &str) -> Result<StoredHash, Error> {
    let parsed = Phpass::parse(hash).map_err(|e| match e {
        PhpassError::Prefix => err(
            ErrorType::InvalidPhpassHashPrefix,
            "A phpass hash starts with $P$ or $H$.",
        ),
        PhpassError::Format => err(
            ErrorType::InvalidPhpassHashFormat,
            "hash must be a portable phpass string: $P$, a count character, 8 salt and 22 hash characters.",
        ),
    })?;
    if !(PHPASS_MIN_COUNT_LOG2..=phpass_max_count_log2()).contains(&parsed.count_log2) {
        return Err(err(
            ErrorType::InvalidPhpassHashFormat,
            format!(
                "phpass rounds must be 2^{PHPASS_MIN_COUNT_LOG2} to 2^{}.",
                phpass_max_count_log2()
            ),
        ));
    }
    Ok(StoredHash::Phpass(parsed))
}

/// `B64` is used for the stored form; re-exported here so tests can build PHC strings.
#[cfg(test)]
pub(crate) fn b64(bytes: &[u8]) -> String {
    super::stored::B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(hash_type: &str, hash: &str) -> HashFields {
        HashFields {
            hash: hash.into(),
            hash_type: hash_type.into(),
            md_5_config: None,
            sha_1_config: None,
            sha_512_config: None,
            argon_2_config: None,
            scrypt_config: None,
            pbkdf_2_config: None,
        }
    }

    fn refused(f: &HashFields) -> ErrorType {
        f.parse().expect_err("should be refused").error_type
    }

    const BCRYPT_10: &str = "$2b$10$abcdefghijklmnopqrstuuJ8i/RyJuGBX1j3tzyyfqzyOhCtPwCnC";

    #[test]
    fn hash_type_and_foreign_configs() {
        assert_eq!(refused(&fields("md4", "00")), ErrorType::InvalidHashType);
        assert_eq!(refused(&fields("", "00")), ErrorType::InvalidHashType);
        let mut f = fields("sha_1", &"0".repeat(40));
        f.md_5_config = Some(SaltConfig::default());
        assert_eq!(refused(&f), ErrorType::BadRequest);
        assert_eq!(refused(&fields("md_5", "")), ErrorType::InvalidHash);
    }

    #[test]
    fn bcrypt_shape_and_cost() {
        assert!(fields("bcrypt", BCRYPT_10).parse().is_ok());
        assert_eq!(refused(&fields("bcrypt", "$2b$10$short")), ErrorType::InvalidBcryptHash);
        assert_eq!(
            refused(&fields("bcrypt", &BCRYPT_10.replace("$2b$", "$2x$"))),
            ErrorType::InvalidBcryptHash
        );
        for cost in ["03", "14", "31"] {
            let h = BCRYPT_10.replace("$10$", &format!("${cost}$"));
            assert_eq!(refused(&fields("bcrypt", &h)), ErrorType::InvalidBcryptCost, "{cost}");
        }
    }

    #[test]
    fn salted_digests_check_length_and_salts() {
        assert!(fields("md_5", &"A".repeat(32)).parse().is_ok());
        assert_eq!(refused(&fields("md_5", &"0".repeat(31))), ErrorType::InvalidMd5Hash);
        assert_eq!(refused(&fields("sha_1", &"g".repeat(40))), ErrorType::InvalidSha1Hash);
        assert_eq!(refused(&fields("sha_512", &"0".repeat(40))), ErrorType::InvalidHash);
        let mut f = fields("md_5", &"0".repeat(32));
        f.md_5_config = Some(SaltConfig {
            prepend_salt: Some("x".repeat(257)),
            append_salt: None,
        });
        assert_eq!(refused(&f), ErrorType::InvalidPrependSalt);
        f.md_5_config = Some(SaltConfig {
            prepend_salt: None,
            append_salt: Some("a\u{0}b".into()),
        });
        assert_eq!(refused(&f), ErrorType::InvalidAppendSalt);
    }

    fn argon_config(memory: i64, iterations: i64, threads: i64, key_length: i64, salt: &str) -> Argon2Config {
        Argon2Config {
            salt: salt.into(),
            iteration_amount: iterations,
            memory,
            threads,
            key_length,
        }
    }

    #[test]
    fn argon2_bounds_each_have_their_error() {
        let hex32 = "ab".repeat(32);
        let with = |c: Argon2Config| {
            let mut f = fields("argon_2id", &hex32);
            f.argon_2_config = Some(c);
            f
        };
        assert!(with(argon_config(19_456, 2, 1, 32, "saltsalt")).parse().is_ok());
        assert_eq!(refused(&fields("argon_2id", &hex32)), ErrorType::InvalidHash);
        let cases = [
            (
                argon_config(1 << 20, 1, 1, 32, "saltsalt"),
                ErrorType::InvalidArgon2Memory,
            ),
            (
                argon_config(131_072, 8, 1, 32, "saltsalt"),
                ErrorType::InvalidArgon2IterationAmount,
            ),
            (argon_config(4, 1, 1, 32, "saltsalt"), ErrorType::InvalidArgon2Memory),
            (
                argon_config(8192, 0, 1, 32, "saltsalt"),
                ErrorType::InvalidArgon2IterationAmount,
            ),
            (
                argon_config(8192, -1, 1, 32, "saltsalt"),
                ErrorType::InvalidArgon2IterationAmount,
            ),
            (
                argon_config(8192, 1, 17, 32, "saltsalt"),
                ErrorType::InvalidArgon2Threads,
            ),
            (
                argon_config(8192, 1, 1, 8, "saltsalt"),
                ErrorType::InvalidArgon2KeyLength,
            ),
            (argon_config(8192, 1, 1, 32, "short"), ErrorType::InvalidArgon2Salt),
            (
                argon_config(8192, 1, 1, 16, "saltsalt"),
                ErrorType::Argon2KeyLengthMismatch,
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(refused(&with(config.clone())), expected, "{config:?}");
        }
        // PHC: the variant must match and the same bounds apply.
        let phc = format!("$argon2i$v=19$m=65536,t=3,p=4${}${}", b64(b"saltsalt"), b64(&[1; 32]));
        assert!(fields("argon_2i", &phc).parse().is_ok());
        assert_eq!(refused(&fields("argon_2id", &phc)), ErrorType::InvalidHash);
        let heavy = phc.replace("t=3", "t=16");
        assert_eq!(
            refused(&fields("argon_2i", &heavy)),
            ErrorType::InvalidArgon2IterationAmount
        );
    }

    #[test]
    fn scrypt_forms_and_bounds() {
        let std = base64::engine::general_purpose::STANDARD;
        let raw = |n: i64, r: i64, p: i64, key: usize, salt: &[u8]| {
            let mut f = fields("scrypt", &std.encode(vec![3; key]));
            f.scrypt_config = Some(ScryptConfig {
                salt: std.encode(salt),
                n_parameter: n,
                r_parameter: r,
                p_parameter: p,
                key_length: key as i64,
            });
            f
        };
        assert!(raw(16_384, 8, 1, 32, b"saltsalt").parse().is_ok());
        assert_eq!(
            refused(&raw(16_383, 8, 1, 32, b"saltsalt")),
            ErrorType::InvalidScryptNParameter
        );
        assert_eq!(
            refused(&raw(1 << 19, 1, 1, 32, b"saltsalt")),
            ErrorType::InvalidScryptNParameter
        );
        assert_eq!(
            refused(&raw(1 << 18, 8, 1, 32, b"saltsalt")),
            ErrorType::InvalidScryptParameters
        );
        assert_eq!(
            refused(&raw(1 << 17, 8, 4, 32, b"saltsalt")),
            ErrorType::InvalidScryptParameters
        );
        assert_eq!(
            refused(&raw(16_384, 0, 1, 32, b"saltsalt")),
            ErrorType::InvalidScryptParameters
        );
        // scrypt itself needs N < 2^(16·r).
        assert_eq!(
            refused(&raw(1 << 16, 1, 1, 32, b"saltsalt")),
            ErrorType::InvalidScryptParameters
        );
        assert_eq!(
            refused(&raw(16_384, 8, 1, 32, b"salt")),
            ErrorType::InvalidScryptSaltLength
        );
        let mut mismatch = raw(16_384, 8, 1, 32, b"saltsalt");
        mismatch.scrypt_config.as_mut().unwrap().key_length = 64;
        assert_eq!(refused(&mismatch), ErrorType::ScryptKeyLengthMismatch);
        let mut bad_salt = raw(16_384, 8, 1, 32, b"saltsalt");
        bad_salt.scrypt_config.as_mut().unwrap().salt = "***".into();
        assert_eq!(refused(&bad_salt), ErrorType::InvalidBase64ScryptSalt);
        assert_eq!(refused(&fields("scrypt", "not base64!")), ErrorType::InvalidHash);
        let mut bad_hash = raw(16_384, 8, 1, 32, b"saltsalt");
        bad_hash.hash = "not base64!".into();
        assert_eq!(refused(&bad_hash), ErrorType::InvalidBase64ScryptHash);
        let phc = format!("$scrypt$ln=14,r=8,p=1${}${}", b64(b"saltsalt"), b64(&[3; 32]));
        assert!(fields("scrypt", &phc).parse().is_ok());
        let heavy = phc.replace("ln=14", "ln=18");
        assert_eq!(refused(&fields("scrypt", &heavy)), ErrorType::InvalidScryptParameters);
    }

    #[test]
    fn pbkdf2_config_and_bounds() {
        let std = base64::engine::general_purpose::STANDARD;
        let with = |iterations: i64, key: usize, algorithm: Option<&str>| {
            let mut f = fields("pbkdf_2", &std.encode(vec![5; key]));
            f.pbkdf_2_config = Some(Pbkdf2Config {
                salt: std.encode(b"salt"),
                iteration_amount: iterations,
                key_length: key as i64,
                algorithm: algorithm.map(str::to_string),
            });
            f
        };
        assert!(with(600_000, 32, Some("sha256")).parse().is_ok());
        assert!(with(1_500_000, 32, None).parse().is_ok());
        assert!(with(1_000_000, 64, Some("sha512")).parse().is_ok());
        assert_eq!(
            refused(&with(3_000_000, 64, Some("sha256"))),
            ErrorType::InvalidPbkdf2IterationAmount
        );
        assert_eq!(refused(&with(0, 32, None)), ErrorType::InvalidPbkdf2IterationAmount);
        assert_eq!(
            refused(&with(1_000, 32, Some("md5"))),
            ErrorType::InvalidPbkdf2Algorithm
        );
        assert_eq!(refused(&with(1_000, 8, None)), ErrorType::InvalidPbkdf2Hash);
        assert_eq!(refused(&fields("pbkdf_2", "AAAA")), ErrorType::InvalidHash);
        let mut mismatch = with(1_000, 32, None);
        mismatch.pbkdf_2_config.as_mut().unwrap().key_length = 20;
        assert_eq!(refused(&mismatch), ErrorType::Pbkdf2KeyLengthMismatch);
        let mut bad_salt = with(1_000, 32, None);
        bad_salt.pbkdf_2_config.as_mut().unwrap().salt = String::new();
        assert_eq!(refused(&bad_salt), ErrorType::InvalidPbkdf2Salt);
    }

    #[test]
    fn phpass_prefix_format_and_rounds() {
        let wordpress = "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0";
        assert!(fields("phpass", wordpress).parse().is_ok());
        assert_eq!(
            refused(&fields("phpass", "$1$abcdefgh")),
            ErrorType::InvalidPhpassHashPrefix
        );
        assert_eq!(refused(&fields("phpass", "$P$9IQ")), ErrorType::InvalidPhpassHashFormat);
        // 'K' is 2^22 rounds: phpass allows it, the budget does not.
        let heavy = wordpress.replacen('9', "K", 1);
        assert_eq!(refused(&fields("phpass", &heavy)), ErrorType::InvalidPhpassHashFormat);
    }

    /// The cost-bound helpers of the budget tests below, one per kind.
    mod with {
        use super::*;

        pub fn bcrypt(cost: u32) -> HashFields {
            fields("bcrypt", &BCRYPT_10.replace("$10$", &format!("${cost:02}$")))
        }

        pub fn phpass(count_log2: u8) -> HashFields {
            let count = super::super::super::phpass::ITOA64[usize::from(count_log2)] as char;
            fields("phpass", &format!("$P${count}IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"))
        }

        pub fn pbkdf2(algorithm: &str, iterations: i64, key: usize) -> HashFields {
            let std = base64::engine::general_purpose::STANDARD;
            let mut f = fields("pbkdf_2", &std.encode(vec![5; key]));
            f.pbkdf_2_config = Some(Pbkdf2Config {
                salt: std.encode(b"p9aXQm2VfK4r"),
                iteration_amount: iterations,
                key_length: key as i64,
                algorithm: Some(algorithm.into()),
            });
            f
        }

        pub fn scrypt(n: i64, r: i64, p: i64) -> HashFields {
            let std = base64::engine::general_purpose::STANDARD;
            let mut f = fields("scrypt", &std.encode([3; 32]));
            f.scrypt_config = Some(ScryptConfig {
                salt: std.encode(b"saltsaltsaltsalt"),
                n_parameter: n,
                r_parameter: r,
                p_parameter: p,
                key_length: 32,
            });
            f
        }

        pub fn argon2(memory: i64, iterations: i64, threads: i64) -> HashFields {
            let mut f = fields("argon_2id", &"ab".repeat(32));
            f.argon_2_config = Some(argon_config(memory, iterations, threads, 32, "saltsalt"));
            f
        }
    }

    #[test]
    fn h4_real_exports_are_within_the_budget() {
        let real = [
            ("bcrypt 10", with::bcrypt(10)),
            ("bcrypt 12", with::bcrypt(12)),
            ("bcrypt 13", with::bcrypt(13)),
            ("Django 5.1 pbkdf2_sha256, 870 000", with::pbkdf2("sha256", 870_000, 32)),
            (
                "Django 5.2 pbkdf2_sha256, 1 000 000",
                with::pbkdf2("sha256", 1_000_000, 32),
            ),
            ("OWASP pbkdf2-sha512, 210 000", with::pbkdf2("sha512", 210_000, 64)),
            ("phpBB3 $H$9", with::phpass(11)),
            ("WordPress $P$B", with::phpass(13)),
            ("passlib phpass default, 2^19", with::phpass(19)),
            ("Firebase-style scrypt N=2^14", with::scrypt(1 << 14, 8, 1)),
            ("Firebase-style scrypt N=2^15", with::scrypt(1 << 15, 8, 1)),
            ("passlib scrypt default N=2^16", with::scrypt(1 << 16, 8, 1)),
            ("PHP password_hash argon2id", with::argon2(65_536, 4, 1)),
            ("argon2-cffi default", with::argon2(65_536, 3, 4)),
        ];
        for (name, f) in real {
            assert!(f.parse().is_ok(), "{name}: {:?}", f.parse().err());
        }
    }

    #[test]
    fn h4_the_costs_that_took_seconds_are_refused() {
        // The measurements: 3.4 s, 2.5 s and 1.5 s per wrong login.
        assert_eq!(refused(&with::scrypt(4, 8, 65_536)), ErrorType::InvalidScryptParameters);
        assert_eq!(
            refused(&with::scrypt(1 << 17, 8, 2)),
            ErrorType::InvalidScryptParameters
        );
        assert_eq!(
            refused(&with::pbkdf2("sha512", 1_500_000, 64)),
            ErrorType::InvalidPbkdf2IterationAmount
        );
    }

    #[test]
    fn h4_each_kinds_maximum_is_accepted_and_one_step_more_refused() {
        // The derived maxima of docs/migration.md, from the constants of hashing::budget.
        assert_eq!(bcrypt_max_cost(), 13);
        assert!(with::bcrypt(13).parse().is_ok());
        assert_eq!(refused(&with::bcrypt(14)), ErrorType::InvalidBcryptCost);

        assert_eq!(phpass_max_count_log2(), 19);
        assert!(with::phpass(19).parse().is_ok());
        assert_eq!(refused(&with::phpass(20)), ErrorType::InvalidPhpassHashFormat);

        assert_eq!(pbkdf2_max_iteration_blocks(Pbkdf2Algorithm::Sha256), 4_484_042);
        assert!(with::pbkdf2("sha256", 4_484_042, 32).parse().is_ok());
        assert_eq!(
            refused(&with::pbkdf2("sha256", 4_484_043, 32)),
            ErrorType::InvalidPbkdf2IterationAmount
        );
        // A 64-byte key is two sha256 blocks: half the iterations.
        assert!(with::pbkdf2("sha256", 2_242_021, 64).parse().is_ok());
        assert_eq!(
            refused(&with::pbkdf2("sha256", 2_242_022, 64)),
            ErrorType::InvalidPbkdf2IterationAmount
        );
        assert_eq!(pbkdf2_max_iteration_blocks(Pbkdf2Algorithm::Sha512), 1_419_946);
        assert!(with::pbkdf2("sha512", 1_419_946, 64).parse().is_ok());
        assert_eq!(
            refused(&with::pbkdf2("sha512", 1_419_947, 64)),
            ErrorType::InvalidPbkdf2IterationAmount
        );

        // scrypt time: N·r·p at most 1 703 936 = 2^14 · 8 · 13.
        assert_eq!(SCRYPT_MAX_N_R_P, 1_703_936);
        assert!(with::scrypt(1 << 14, 8, 13).parse().is_ok());
        assert_eq!(
            refused(&with::scrypt(1 << 14, 8, 14)),
            ErrorType::InvalidScryptParameters
        );
        assert!(with::scrypt(1 << 16, 8, 3).parse().is_ok());
        assert_eq!(
            refused(&with::scrypt(1 << 16, 8, 4)),
            ErrorType::InvalidScryptParameters
        );
        // scrypt memory, apart from time: 128·r·(N + p + 2) bytes at most 128 MiB. N = 2^17 with
        // r = 8 is within the time but 3 KiB over the memory.
        assert!(budget::within(budget::scrypt_ns(1 << 17, 8, 1)));
        assert!(with::scrypt(1 << 17, 7, 1).parse().is_ok());
        assert_eq!(
            refused(&with::scrypt(1 << 17, 8, 1)),
            ErrorType::InvalidScryptParameters
        );

        // argon2 time: memory × iterations at most 990 660; memory at most 131 072 KiB.
        assert_eq!(ARGON2_MAX_MEMORY_X_ITERATIONS, 990_660);
        assert!(with::argon2(66_044, 15, 1).parse().is_ok());
        assert_eq!(
            refused(&with::argon2(66_045, 15, 1)),
            ErrorType::InvalidArgon2IterationAmount
        );
        assert!(with::argon2(131_072, 7, 4).parse().is_ok());
        assert_eq!(
            refused(&with::argon2(131_072, 8, 4)),
            ErrorType::InvalidArgon2IterationAmount
        );
        assert!(with::argon2(131_072, 1, 1).parse().is_ok());
        assert_eq!(refused(&with::argon2(131_073, 1, 1)), ErrorType::InvalidArgon2Memory);
    }

    #[test]
    fn h4_every_maximum_is_within_one_budget() {
        // The one rule, kind by kind, at the maxima above: none costs more than bcrypt 13.
        let costs = [
            budget::bcrypt_ns(bcrypt_max_cost()),
            budget::phpass_ns(phpass_max_count_log2(), budget::PHPASS_GUARANTEED_PASSWORD_BYTES),
            budget::pbkdf2_ns(4_484_042, 32, 32, budget::PBKDF2_SHA256_ITERATION_NS),
            budget::pbkdf2_ns(1_419_946, 64, 64, budget::PBKDF2_SHA512_ITERATION_NS),
            budget::scrypt_ns(1 << 14, 8, 13),
            budget::argon2_ns(66_044, 15),
        ];
        for cost in costs {
            assert!(cost <= budget::BUDGET_NS, "{cost}");
            // And each is close to it: the budget is spent, not a far lower cap.
            assert!(cost * 10 >= budget::BUDGET_NS * 6, "{cost}");
        }
    }
}
