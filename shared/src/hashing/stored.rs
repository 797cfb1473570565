//! A stored password hash, parsed: Latch's own argon2id hashes and every kind migrate imports.
//!
//! The store keeps one string per password. Formats with a standard encoding keep it (argon2 PHC,
//! bcrypt and phpass modular crypt); scrypt and pbkdf2 are kept as PHC-style strings, and the salted
//! digests as `$salted-<algo>$<prepend>$<append>$<hex digest>` with the salts in base64. Whatever
//! form an import arrived in, it is normalised to one of these, so equal hashes compare equal.

use argon2::{Algorithm, Block, Params, Version};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use super::phpass::Phpass;

/// Standard base64 alphabet, written without padding, read with or without it (PHC's "B64").
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode PHC base64, also in passlib's "adapted" alphabet (`.` for `+`).
pub(crate) fn decode_b64(s: &str) -> Option<Vec<u8>> {
    if s.contains('+') && s.contains('.') {
        return None;
    }
    B64.decode(s.replace('.', "+")).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Md5,
    Sha1,
    Sha512,
}

impl DigestAlgorithm {
    fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "md5",
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Md5 => 16,
            DigestAlgorithm::Sha1 => 20,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            DigestAlgorithm::Md5 => run::<md5::Md5>(parts),
            DigestAlgorithm::Sha1 => run::<sha1::Sha1>(parts),
            DigestAlgorithm::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Algorithm {
    Sha256,
    Sha512,
}

impl Pbkdf2Algorithm {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Pbkdf2Algorithm::Sha256 => "sha256",
            Pbkdf2Algorithm::Sha512 => "sha512",
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            Pbkdf2Algorithm::Sha256 => 32,
            Pbkdf2Algorithm::Sha512 => 64,
        }
    }
}

/// Argon2 parameters as stored (the PHC `v`, `m`, `t`, `p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub algorithm: Algorithm,
    pub version: Version,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// A stored hash, parsed. Every variant verifies a password by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredHash {
    Argon2 {
        cost: Argon2Cost,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// `$2a$`, `$2b$` or `$2y$` modular crypt, kept verbatim.
    Bcrypt(String),
    Phpass(Phpass),
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Pbkdf2 {
        algorithm: Pbkdf2Algorithm,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// `digest(prepend + password + append)`.
    SaltedDigest {
        algorithm: DigestAlgorithm,
        prepend: String,
        append: String,
        digest: Vec<u8>,
    },
}

/// bcrypt uses at most this many bytes of a password; longer ones are truncated (as every bcrypt
/// implementation does), so an imported bcrypt hash keeps the semantics it had. Only bcrypt.
pub const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;

fn argon2_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Argon2d => "argon2d",
        Algorithm::Argon2i => "argon2i",
        Algorithm::Argon2id => "argon2id",
    }
}

impl StoredHash {
    /// Parse a stored string. None for anything that is not exactly one of the known forms: the
    /// caller treats it as a hash nothing matches (fail closed, docs/security.md H6).
    pub fn parse(s: &str) -> Option<Self> {
        if s.starts_with("$2") {
            return parse_bcrypt(s).map(StoredHash::Bcrypt);
        }
        if s.starts_with("$P$") || s.starts_with("$H$") {
            return Phpass::parse(s).ok().map(StoredHash::Phpass);
        }
        let fields: Vec<&str> = s.split('$').collect();
        if fields.first() != Some(&"") || fields.len() < 2 {
            return None;
        }
        match fields[1] {
            "argon2id" | "argon2i" | "argon2d" => parse_argon2_phc(&fields),
            "scrypt" => parse_scrypt_phc(&fields),
            "pbkdf2-sha256" | "pbkdf2-sha512" => parse_pbkdf2(&fields),
            "salted-md5" | "salted-sha1" | "salted-sha512" => parse_salted(&fields),
            _ => None,
        }
    }

    /// The stored form (see the module docs); `parse(encode(h)) == h`.
    pub fn encode(&self) -> String {
        match self {
            StoredHash::Argon2 { cost, salt, hash } => {
                let version = match cost.version {
                    Version::V0x10 => "$v=16".to_string(),
                    Version::V0x13 => "$v=19".to_string(),
                };
                format!(
                    "${}{}$m={},t={},p={}${}${}",
                    argon2_name(cost.algorithm),
                    version,
                    cost.memory_kib,
                    cost.iterations,
                    cost.parallelism,
                    B64.encode(salt),
                    B64.encode(hash)
                )
            }
            StoredHash::Bcrypt(s) => s.clone(),
            StoredHash::Phpass(p) => p.encode(),
            StoredHash::Scrypt {
                log_n,
                r,
                p,
                salt,
                hash,
            } => {
                format!(
                    "$scrypt$ln={log_n},r={r},p={p}${}${}",
                    B64.encode(salt),
                    B64.encode(hash)
                )
            }
            StoredHash::Pbkdf2 {
                algorithm,
                iterations,
                salt,
                hash,
            } => format!(
                "$pbkdf2-{}$i={iterations}${}${}",
                algorithm.name(),
                B64.encode(salt),
                B64.encode(hash)
            ),
            StoredHash::SaltedDigest {
                algorithm,
                prepend,
                append,
                digest,
            } => format!(
                "$salted-{}${}${}${}",
                algorithm.name(),
                B64.encode(prepend),
                B64.encode(append),
                hex::encode(digest)
            ),
        }
    }

    /// Whether `password` matches. Every comparison of secret-derived bytes is constant-time; a
    /// verifier error is a mismatch.
    pub fn verify(&self, password: &[u8]) -> bool {
        self.verify_in(password, &mut Vec::new())
    }

    /// [`Self::verify`], with `memory` as argon2's working memory (grown as needed; the caller
    /// keeps it for the next hash).
    pub fn verify_in(&self, password: &[u8], memory: &mut Vec<Block>) -> bool {
        match self {
            StoredHash::Argon2 { cost, salt, hash } => {
                let mut out = vec![0u8; hash.len()];
                argon2_into(cost, password, salt, &mut out, memory).is_ok() && bool::from(out.ct_eq(hash))
            }
            StoredHash::Bcrypt(s) => {
                let password = &password[..password.len().min(BCRYPT_MAX_PASSWORD_BYTES)];
                bcrypt::verify(password, s).unwrap_or(false)
            }
            StoredHash::Phpass(p) => p.verify(password),
            StoredHash::Scrypt {
                log_n,
                r,
                p,
                salt,
                hash,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p, hash.len()) else {
                    return false;
                };
                let mut out = vec![0u8; hash.len()];
                scrypt::scrypt(password, salt, &params, &mut out).is_ok() && bool::from(out.ct_eq(hash))
            }
            StoredHash::Pbkdf2 {
                algorithm,
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                match algorithm {
                    Pbkdf2Algorithm::Sha256 => {
                        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, *iterations, &mut out)
                    }
                    Pbkdf2Algorithm::Sha512 => {
                        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, *iterations, &mut out)
                    }
                }
                bool::from(out.ct_eq(hash))
            }
            StoredHash::SaltedDigest {
                algorithm,
                prepend,
                append,
                digest,
            } => bool::from(
                algorithm
                    .digest(&[prepend.as_bytes(), password, append.as_bytes()])
                    .ct_eq(digest),
            ),
        }
    }

    /// Whether this is an argon2id hash at least as strong as `target` in memory, iterations and
    /// parallelism. Anything else is replaced by a fresh argon2id hash after a successful login.
    pub fn is_current(&self, target: &Params) -> bool {
        match self {
            StoredHash::Argon2 { cost, .. } => {
                cost.algorithm == Algorithm::Argon2id
                    && cost.version == Version::V0x13
                    && cost.memory_kib >= target.m_cost()
                    && cost.iterations >= target.t_cost()
                    && cost.parallelism >= target.p_cost()
            }
            _ => false,
        }
    }

    /// Whether verifying costs about as much as an argon2 hash with the configured parameters.
    /// The legacy kinds are mostly far cheaper: a failed check of one is padded with argon2 work so
    /// that a wrong password takes as long as for an unknown email (docs/security.md E1).
    pub fn is_argon2(&self) -> bool {
        matches!(self, StoredHash::Argon2 { .. })
    }
}

/// Argon2 of `password` into `out` (whose length is the output length), in `memory`, which is
/// grown to the block count if it is smaller and otherwise reused as it is.
pub(crate) fn argon2_into(
    cost: &Argon2Cost,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), argon2::Error> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(out.len()))?;
    // latch-argon2: the argon2 crate's results, with AVX2 or NEON code where the CPU has it.
    latch_argon2::Argon2::new(cost.algorithm, cost.version, params).hash_into(password, salt, out, memory)
}

fn parse_bcrypt(s: &str) -> Option<String> {
    let parts: bcrypt::HashParts = s.parse().ok()?;
    // The crate also reads `$2x$` (the buggy variant), which import refuses; and it must be
    // canonical, so that equal hashes are equal strings.
    let version = &s[1..3];
    let canonical = match version {
        "2a" => parts.format_for_version(bcrypt::Version::TwoA),
        "2b" => parts.format_for_version(bcrypt::Version::TwoB),
        "2y" => parts.format_for_version(bcrypt::Version::TwoY),
        _ => return None,
    };
    (canonical == s).then(|| s.to_string())
}

/// `key=value,key=value` → the values of `keys`, in order; None unless exactly those keys appear.
fn params<'a>(field: &'a str, keys: &[&str]) -> Option<Vec<&'a str>> {
    let pairs: Vec<(&str, &str)> = field.split(',').map(|kv| kv.split_once('=')).collect::<Option<_>>()?;
    if pairs.len() != keys.len() {
        return None;
    }
    keys.iter()
        .map(|k| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| *v))
        .collect()
}

fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    // Decimal digits only, no sign, no leading zeros: one spelling per value.
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

fn parse_argon2_phc(fields: &[&str]) -> Option<StoredHash> {
    let algorithm = match fields[1] {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        _ => Algorithm::Argon2d,
    };
    // `$argon2id$v=19$m=…,t=…,p=…$salt$hash`, or without `v=` (version 0x10, the first release).
    let (version, rest) = match fields.len() {
        6 => {
            let v = fields[2].strip_prefix("v=")?;
            let version = match number::<u32>(v)? {
                16 => Version::V0x10,
                19 => Version::V0x13,
                _ => return None,
            };
            (version, &fields[3..])
        }
        5 => (Version::V0x10, &fields[2..]),
        _ => return None,
    };
    let values = params(rest[0], &["m", "t", "p"])?;
    let cost = Argon2Cost {
        algorithm,
        version,
        memory_kib: number(values[0])?,
        iterations: number(values[1])?,
        parallelism: number(values[2])?,
    };
    let salt = decode_b64(rest[1])?;
    let hash = decode_b64(rest[2])?;
    Some(StoredHash::Argon2 { cost, salt, hash })
}

fn parse_scrypt_phc(fields: &[&str]) -> Option<StoredHash> {
    if fields.len() != 5 {
        return None;
    }
    let values = params(fields[2], &["ln", "r", "p"])?;
    Some(StoredHash::Scrypt {
        log_n: number(values[0])?,
        r: number(values[1])?,
        p: number(values[2])?,
        salt: decode_b64(fields[3])?,
        hash: decode_b64(fields[4])?,
    })
}

fn parse_pbkdf2(fields: &[&str]) -> Option<StoredHash> {
    if fields.len() != 5 {
        return None;
    }
    let algorithm = match fields[1] {
        "pbkdf2-sha256" => Pbkdf2Algorithm::Sha256,
        _ => Pbkdf2Algorithm::Sha512,
    };
    let values = params(fields[2], &["i"])?;
    Some(StoredHash::Pbkdf2 {
        algorithm,
        iterations: number(values[0])?,
        salt: decode_b64(fields[3])?,
        hash: decode_b64(fields[4])?,
    })
}

fn parse_salted(fields: &[&str]) -> Option<StoredHash> {
    if fields.len() != 5 {
        return None;
    }
    let algorithm = match fields[1] {
        "salted-md5" => DigestAlgorithm::Md5,
        "salted-sha1" => DigestAlgorithm::Sha1,
        _ => DigestAlgorithm::Sha512,
    };
    let text = |s: &str| String::from_utf8(B64.decode(s).ok()?).ok();
    // Lower-case only, as `encode` writes it: one spelling per hash.
    if fields[4].bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let digest = hex::decode(fields[4]).ok()?;
    (digest.len() == algorithm.output_len()).then_some(())?;
    Some(StoredHash::SaltedDigest {
        algorithm,
        prepend: text(fields[2])?,
        append: text(fields[3])?,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salted(algorithm: DigestAlgorithm, prepend: &str, append: &str, password: &str) -> StoredHash {
        StoredHash::SaltedDigest {
            algorithm,
            prepend: prepend.into(),
            append: append.into(),
            digest: algorithm.digest(&[prepend.as_bytes(), password.as_bytes(), append.as_bytes()]),
        }
    }

    #[test]
    fn every_form_round_trips_through_its_stored_string() {
        let samples = [
            salted(DigestAlgorithm::Md5, "", "", "pw"),
            salted(DigestAlgorithm::Sha1, "pre$fix", "", "pw"),
            salted(DigestAlgorithm::Sha512, "", "€ppend", "pw"),
            StoredHash::Scrypt {
                log_n: 10,
                r: 8,
                p: 1,
                salt: b"saltsalt".to_vec(),
                hash: vec![7; 32],
            },
            StoredHash::Pbkdf2 {
                algorithm: Pbkdf2Algorithm::Sha512,
                iterations: 1000,
                salt: b"NaCl".to_vec(),
                hash: vec![1; 64],
            },
            StoredHash::Argon2 {
                cost: Argon2Cost {
                    algorithm: Algorithm::Argon2i,
                    version: Version::V0x10,
                    memory_kib: 64,
                    iterations: 1,
                    parallelism: 1,
                },
                salt: b"somesalt".to_vec(),
                hash: vec![9; 32],
            },
        ];
        for h in samples {
            assert_eq!(StoredHash::parse(&h.encode()), Some(h.clone()), "{}", h.encode());
        }
    }

    #[test]
    fn salted_digests_verify_the_salts_in_order() {
        let h = salted(DigestAlgorithm::Sha1, "front", "back", "pässwörd");
        assert!(h.verify("pässwörd".as_bytes()));
        assert!(!h.verify("pässwörD".as_bytes()));
        let swapped = salted(DigestAlgorithm::Sha1, "back", "front", "pässwörd");
        assert_ne!(h, swapped);
        assert!(!StoredHash::parse(&swapped.encode()).unwrap().verify(b"frontpassword"));
    }

    #[test]
    fn non_canonical_or_foreign_strings_do_not_parse() {
        for bad in [
            "",
            "plain",
            "$md5$abc",
            "$salted-md5$$$00",
            "$salted-md5$$$0123456789abcdef0123456789abcdeX",
            "$salted-md5$$$0123456789ABCDEF0123456789abcdef",
            "$scrypt$ln=010,r=8,p=1$c2FsdHNhbHQ$AAAA",
            "$scrypt$ln=10,r=8$c2FsdHNhbHQ$AAAA",
            "$pbkdf2-sha1$i=1000$c2FsdA$AAAA",
            "$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$AAAA",
            "$2x$10$abcdefghijklmnopqrstuuJ8i/RyJuGBX1j3tzyyfqzyOhCtPwCnC",
        ] {
            assert_eq!(StoredHash::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bcrypt_counts_only_the_first_72_bytes() {
        let long = "a".repeat(80);
        let stored = bcrypt::hash(&long[..72], 4).unwrap();
        let h = StoredHash::parse(&stored).unwrap();
        assert!(h.verify(long.as_bytes()));
        assert!(h.verify(format!("{}zzz", &long[..72]).as_bytes()));
        assert!(!h.verify(&long.as_bytes()[..71]));
    }

    #[test]
    fn only_argon2id_at_or_above_the_target_is_current() {
        let target = Params::new(19_456, 2, 1, None).unwrap();
        let argon = |algorithm, memory_kib, iterations| StoredHash::Argon2 {
            cost: Argon2Cost {
                algorithm,
                version: Version::V0x13,
                memory_kib,
                iterations,
                parallelism: 1,
            },
            salt: vec![0; 16],
            hash: vec![0; 32],
        };
        assert!(argon(Algorithm::Argon2id, 19_456, 2).is_current(&target));
        assert!(argon(Algorithm::Argon2id, 65_536, 3).is_current(&target));
        assert!(!argon(Algorithm::Argon2id, 8_192, 2).is_current(&target));
        assert!(!argon(Algorithm::Argon2id, 19_456, 1).is_current(&target));
        assert!(!argon(Algorithm::Argon2i, 65_536, 3).is_current(&target));
        assert!(!salted(DigestAlgorithm::Md5, "", "", "x").is_current(&target));
    }
}
