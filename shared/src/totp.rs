//! TOTP (RFC 6238) for B2B MFA: secrets, codes, the enrolment QR code, and sealing the secret
//! for storage. A TOTP secret must be readable to check codes, so it cannot be hashed like a
//! password: it rests encrypted (ChaCha20-Poly1305) under a key derived from the token pepper.
//! The same sealer, under a key of its own, seals the JWT signing keys (`sessions::keys`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// 160-bit secrets, as RFC 4226 recommends and authenticator apps expect.
pub const SECRET_BYTES: usize = 20;
pub const DIGITS: u32 = 6;
pub const STEP_SECONDS: i64 = 30;
/// Codes of the previous and next step are accepted too (clock drift between phone and server).
const DRIFT_STEPS: i64 = 1;

pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret as authenticator apps take it: base32 without padding.
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code for one time step (RFC 4226 HOTP over the step counter, SHA-1, 6 digits).
pub fn code_for_step(secret: &[u8], step: i64) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:0width$}", binary % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// The time step `code` is valid for at `unix_seconds` (± one step), compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: i64) -> Option<i64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS)
        .find(|&step| bool::from(code_for_step(secret, step).as_bytes().ct_eq(code.as_bytes())))
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let mut url = url::Url::parse("otpauth://totp/").expect("static URL");
    url.set_path(&format!("{issuer}:{account}"));
    url.query_pairs_mut()
        .append_pair("secret", &encode_secret(secret))
        .append_pair("issuer", issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", &DIGITS.to_string())
        .append_pair("period", &STEP_SECONDS.to_string());
    url.to_string()
}

/// The URI as a QR code: an SVG image in a base64 data URL.
pub fn qr_data_url(uri: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::new(uri.as_bytes())?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
}

/// The purpose label of the key that seals TOTP secrets.
pub const TOTP_SEAL_PURPOSE: &[u8] = b"latch/totp-secret-seal/v1";
/// The purpose label of the key that seals the JWT signing keys (`sessions::keys`).
pub const SIGNING_KEY_SEAL_PURPOSE: &[u8] = b"latch/signing-key-seal/v1";

/// Encrypts secrets that must be read back (TOTP secrets, signing keys) for the store.
#[derive(Clone)]
pub struct SecretSealer {
    cipher: ChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
#[error("a sealed secret does not open (corrupt, or sealed under another pepper)")]
pub struct Unsealable;

// Every way a sealed value fails to open is one answer: the AEAD tells nothing more by design,
// and which byte of the encoding was wrong would only help someone probing the sealed text.
impl From<base64::DecodeError> for Unsealable {
    fn from(_: base64::DecodeError) -> Self {
        Unsealable
    }
}

impl From<std::array::TryFromSliceError> for Unsealable {
    fn from(_: std::array::TryFromSliceError) -> Self {
        Unsealable
    }
}

impl From<chacha20poly1305::aead::Error> for Unsealable {
    fn from(_: chacha20poly1305::aead::Error) -> Self {
        Unsealable
    }
}

impl SecretSealer {
    /// The sealer of TOTP secrets.
    pub fn new(pepper: &[u8]) -> Self {
        Self::for_purpose(pepper, TOTP_SEAL_PURPOSE)
    }

    /// The key is HMAC-SHA256(pepper, purpose): the pepper itself never keys two algorithms,
    /// and what one purpose sealed does not open under another.
    pub fn for_purpose(pepper: &[u8], purpose: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper).expect("HMAC takes any key length");
        mac.update(purpose);
        let key = mac.finalize().into_bytes();
        let key: [u8; 32] = key.into();
        Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    /// base64(nonce ‖ ciphertext), with a fresh random nonce.
    pub fn seal(&self, secret: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), secret)
            .expect("ChaCha20-Poly1305 encryption of an in-memory secret cannot fail");
        STANDARD.encode([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let raw = STANDARD.decode(sealed)?;
        if raw.len() < 12 {
            return Err(Unsealable);
        }
        let (nonce, body) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into()?;
        Ok(self.cipher.decrypt(&Nonce::from(nonce), body)?)
    }
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSealer(<key redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8-digit values; the 6-digit code is their last six digits).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_for_step(secret, step_at(time)), eight[2..], "t={time}");
        }
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = generate_secret();
        let now = 1_700_000_000;
        let code = code_for_step(&secret, step_at(now));
        assert_eq!(matching_step(&secret, &code, now), Some(step_at(now)));
        assert_eq!(matching_step(&secret, &code, now + 30), Some(step_at(now)));
        assert_eq!(matching_step(&secret, &code, now + 90), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn sealing_round_trips_and_depends_on_the_pepper() {
        let secret = generate_secret();
        let sealer = SecretSealer::new(&[7; 32]);
        let sealed = sealer.seal(&secret);
        assert!(!sealed.contains(&encode_secret(&secret)));
        assert_ne!(sealed, sealer.seal(&secret), "fresh nonce each time");
        assert_eq!(sealer.open(&sealed).unwrap(), secret);
        assert!(SecretSealer::new(&[8; 32]).open(&sealed).is_err());
        assert!(sealer.open("not base64!").is_err());
        let keys = SecretSealer::for_purpose(&[7; 32], SIGNING_KEY_SEAL_PURPOSE);
        assert!(
            keys.open(&sealed).is_err(),
            "one purpose's seal does not open under another"
        );
        assert_eq!(keys.open(&keys.seal(&secret)).unwrap(), secret);
    }

    #[test]
    fn enrolment_uri_and_qr() {
        let secret = generate_secret();
        let uri = otpauth_uri("Acme", "bob@acme.test", &secret);
        assert!(uri.starts_with("otpauth://totp/Acme:bob@acme.test?secret="), "{uri}");
        assert!(uri.contains(&encode_secret(&secret)));
        assert!(qr_data_url(&uri).unwrap().starts_with("data:image/svg+xml;base64,"));
    }
}
