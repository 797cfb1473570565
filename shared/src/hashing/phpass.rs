//! phpass "portable" hashes (`$P$` from WordPress and phpass, `$H$` from phpBB): iterated MD5
//! with a custom base64. No maintained crate implements it, and it is twenty lines.

use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq as _;

pub(crate) const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// A portable hash is `$P$`, one count character, 8 salt characters, 22 hash characters.
const LENGTH: usize = 34;

/// Why a string is not a portable phpass hash (import answers each with its own error type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhpassError {
    Prefix,
    Format,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phpass {
    encoded: String,
    /// log2 of the number of MD5 rounds, 7 to 30 as phpass allows.
    pub count_log2: u8,
}

impl Phpass {
    pub fn parse(s: &str) -> Result<Self, PhpassError> {
        if !(s.starts_with("$P$") || s.starts_with("$H$")) {
            return Err(PhpassError::Prefix);
        }
        let bytes = s.as_bytes();
        if bytes.len() != LENGTH || !bytes[3..].iter().all(|b| ITOA64.contains(b)) {
            return Err(PhpassError::Format);
        }
        let count_log2 = ITOA64.iter().position(|&c| c == bytes[3]).unwrap_or(0) as u8;
        if !(7..=30).contains(&count_log2) {
            return Err(PhpassError::Format);
        }
        // The 16-byte digest fills 22 characters with 4 bits to spare, which are always zero; a
        // string with them set would verify nothing.
        if ITOA64.iter().position(|&c| c == bytes[LENGTH - 1]).unwrap_or(0) > 3 {
            return Err(PhpassError::Format);
        }
        Ok(Self {
            encoded: s.to_string(),
            count_log2,
        })
    }

    pub fn encode(&self) -> String {
        self.encoded.clone()
    }

    /// Whether `password` matches. A password longer than the verify-cost budget allows for this
    /// hash's rounds (`super::budget::phpass_max_password_bytes`: only 2^18 and 2^19 rounds
    /// allow less than any password Latch takes) is refused without hashing: phpass's cost grows
    /// with the password, which whoever logs in chooses (docs/security.md H4).
    pub fn verify(&self, password: &[u8]) -> bool {
        if password.len() > super::budget::phpass_max_password_bytes(self.count_log2) {
            return false;
        }
        let setting = &self.encoded.as_bytes()[..12];
        let salt = &setting[4..12];
        let mut digest = Md5::new().chain_update(salt).chain_update(password).finalize();
        for _ in 0..(1u64 << self.count_log2) {
            digest = Md5::new().chain_update(digest).chain_update(password).finalize();
        }
        let mut computed = setting.to_vec();
        computed.extend(encode64(&digest));
        computed.ct_eq(self.encoded.as_bytes()).into()
    }
}

/// phpass's base64: little-endian groups of three bytes, low six bits first.
fn encode64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let value = chunk.iter().rev().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        for i in 0..=chunk.len() {
            out.push(ITOA64[((value >> (6 * i)) & 0x3f) as usize]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_test_vector_verifies() {
        // From phpass 0.3's own test.php: "test12345" with a portable hash.
        let h = Phpass::parse("$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0").unwrap();
        assert_eq!(h.count_log2, 11);
        assert!(h.verify(b"test12345"));
        assert!(!h.verify(b"test12346"));
    }

    #[test]
    fn malformed_strings_are_refused_with_their_reason() {
        assert_eq!(Phpass::parse("$1$abc").unwrap_err(), PhpassError::Prefix);
        assert_eq!(Phpass::parse("$P$9IQRaTwm").unwrap_err(), PhpassError::Format);
        assert_eq!(
            Phpass::parse("$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L!").unwrap_err(),
            PhpassError::Format
        );
        // Count character '1' means 2^3 rounds: below phpass's minimum.
        assert_eq!(
            Phpass::parse("$P$1IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0").unwrap_err(),
            PhpassError::Format
        );
    }

    #[test]
    fn h4_passlibs_default_rounds_verify_and_overlong_passwords_are_refused_unverified() {
        // Made by passlib 1.7.4 (`phpass.using(salt=…).hash(…)`; 2^19 rounds is its default).
        let h = Phpass::parse("$P$HLatchPL1eGaQ9vaazIU8n4g.FkPGN.").unwrap();
        assert_eq!(h.count_log2, 19);
        assert!(h.verify(b"Passlib-Default-Rounds-19"));
        assert!(!h.verify(b"Passlib-Default-Rounds-18"));
        // The budget keeps 423 bytes of password at 2^19 rounds: the right 423-byte password
        // verifies, the right 424-byte one is refused.
        assert_eq!(crate::hashing::budget::phpass_max_password_bytes(19), 423);
        let fits = Phpass::parse("$P$HLongPw19LCOmZc2.pj.FwUNEvNO6r.").unwrap();
        assert!(fits.verify(&[b'a'; 423]));
        let over = Phpass::parse("$P$HLongPw1911cQsnYp3GAKTxsnTGBSH0").unwrap();
        assert!(!over.verify(&[b'a'; 424]));
    }
}
