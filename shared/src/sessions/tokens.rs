//! Opaque bearer tokens: random, URL-safe, and stored only as keyed digests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// `bytes` random bytes from the OS CSPRNG, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Session tokens carry 256 random bits (44 characters, like Stytch's).
pub const SESSION_TOKEN_BYTES: usize = 32;

/// HMAC-SHA256 under the deployment's pepper: a leaked table does not yield usable tokens, and
/// without the pepper a digest cannot be checked against guesses.
#[derive(Clone)]
pub struct TokenDigester {
    pepper: Vec<u8>,
}

impl TokenDigester {
    pub fn new(pepper: Vec<u8>) -> Self {
        Self { pepper }
    }

    pub fn digest(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.pepper).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for TokenDigester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigester(<pepper redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token(SESSION_TOKEN_BYTES);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(SESSION_TOKEN_BYTES));
    }

    #[test]
    fn digests_depend_on_the_pepper() {
        let t = random_token(32);
        let d1 = TokenDigester::new(vec![1; 32]).digest(&t);
        assert_eq!(d1, TokenDigester::new(vec![1; 32]).digest(&t));
        assert_ne!(d1, TokenDigester::new(vec![2; 32]).digest(&t));
        assert!(!d1.contains(&t));
    }
}
