//! One verify-cost budget for every imported hash kind (docs/security.md H4, H7).
//!
//! An imported hash is verified at login with its own parameters, so each kind's parameters are
//! bounded at import by the same rule: the estimated time of one verification must not exceed
//! what bcrypt cost 13 takes. The estimate is a cost model from each algorithm's structure (how
//! many of its primitive steps one verification runs) times that step's time, measured once on
//! the reference machine; the measurements, the date and the machine are in docs/migration.md,
//! which lists each kind's derived maximum. Change both together.
//!
//! The unit is nanoseconds of one core of the reference machine. Only ratios matter: on a faster
//! or slower machine every kind's maximum still costs about what bcrypt 13 costs there.
//!
//! Working memory is bounded apart from time ([`MAX_MEMORY_BYTES`]): scrypt and argon2 trade one
//! for the other, and the imported-hash pool (`super::Hasher`) runs few at once.

/// bcrypt: one of its 2^cost expensive key-schedule rounds (two ExpandKey of 521 Blowfish
/// encryptions each). Measured 51–53 µs per round at costs 10, 12 and 13.
pub const BCRYPT_ROUND_NS: u64 = 52_000;
/// MD5: one 64-byte compression (phpass runs 2^count + 1 digests of the previous digest and the
/// password). Measured 97–110 ns.
pub const MD5_BLOCK_NS: u64 = 110;
/// PBKDF2-HMAC-SHA256: one iteration for one 32-byte output block (one HMAC: two SHA-256
/// compressions, the keyed states being computed once). Measured 94–96 ns.
pub const PBKDF2_SHA256_ITERATION_NS: u64 = 95;
/// PBKDF2-HMAC-SHA512: one iteration for one 64-byte output block (two SHA-512 compressions).
/// Measured 291–316 ns.
pub const PBKDF2_SHA512_ITERATION_NS: u64 = 300;
/// scrypt: one unit of N·r·p (each of the p ROMix runs 2N BlockMix of 2r Salsa20/8 cores, half
/// of them reading back at random from the N·r·128-byte table). Measured 150–254 ns; the
/// highest, with tables of 16–128 MiB, is the one that counts.
pub const SCRYPT_UNIT_NS: u64 = 250;
/// argon2: one 1 KiB block of memory × iterations (one compression, G over the block). Measured
/// 204–435 ns with Latch's AVX2 argon2: more as the memory outgrows the caches; the highest, at
/// 128 MiB and 4 lanes, is the one that counts.
pub const ARGON2_BLOCK_NS: u64 = 430;

/// The budget: what verifying a bcrypt hash of cost 13 costs (≈ 0.43 s on the reference
/// machine). bcrypt 13 is the costliest setting real systems write.
pub const BUDGET_NS: u64 = bcrypt_ns(13);

/// Working memory of one imported verification, at most: scrypt's table and block buffers, or
/// argon2's blocks.
pub const MAX_MEMORY_BYTES: u64 = 128 * 1024 * 1024;

/// Every phpass hash accepted at import verifies every password of up to this many bytes (every
/// ASCII password Latch takes: `crate::domain::password::MAX_PASSWORD_CHARS`) within the budget.
pub const PHPASS_GUARANTEED_PASSWORD_BYTES: usize = 256;

/// Whether an estimated cost fits the budget.
pub const fn within(cost_ns: u64) -> bool {
    cost_ns <= BUDGET_NS
}

/// bcrypt of `cost` (log2 rounds).
pub const fn bcrypt_ns(cost: u32) -> u64 {
    if cost >= 40 {
        return u64::MAX;
    }
    (1u64 << cost).saturating_mul(BCRYPT_ROUND_NS)
}

/// MD5 compressions of a message of `bytes` (with its padding: one 0x80 byte and the 8-byte
/// length).
const fn md5_blocks(bytes: usize) -> u64 {
    (bytes as u64 + 9).div_ceil(64)
}

/// phpass with 2^`count_log2` rounds and a password of `password_bytes`: the first digest of
/// salt and password, then one digest of the 16-byte digest and the password per round. Unlike
/// every other kind, the cost grows with the password, which the person logging in chooses.
pub const fn phpass_ns(count_log2: u8, password_bytes: usize) -> u64 {
    if count_log2 >= 40 {
        return u64::MAX;
    }
    ((1u64 << count_log2) + 1)
        .saturating_mul(md5_blocks(16 + password_bytes))
        .saturating_mul(MD5_BLOCK_NS)
}

/// The longest password (in bytes) a phpass hash of 2^`count_log2` rounds verifies within the
/// budget. Longer ones are refused unverified (as a wrong password): without this a 1 KiB
/// password would make one verification of a 2^19-round hash (passlib's default) cost 17
/// times more than a short one.
pub const fn phpass_max_password_bytes(count_log2: u8) -> usize {
    let per_block = phpass_ns(count_log2, 0);
    if per_block == 0 || per_block > BUDGET_NS {
        return 0;
    }
    let blocks = BUDGET_NS / per_block;
    // `blocks` compressions hold 64·blocks − 9 bytes of message, 16 of them the digest.
    (blocks * 64).saturating_sub(9 + 16) as usize
}

/// PBKDF2 with `iterations` and a `key_bytes` output, with a digest of `digest_bytes` whose one
/// iteration costs `iteration_ns`: the output is ⌈key ÷ digest⌉ blocks, each of all iterations.
pub const fn pbkdf2_ns(iterations: u64, key_bytes: usize, digest_bytes: usize, iteration_ns: u64) -> u64 {
    let blocks = (key_bytes as u64).div_ceil(digest_bytes as u64);
    iterations.saturating_mul(blocks).saturating_mul(iteration_ns)
}

/// scrypt of N, r, p.
pub const fn scrypt_ns(n: u64, r: u64, p: u64) -> u64 {
    n.saturating_mul(r).saturating_mul(p).saturating_mul(SCRYPT_UNIT_NS)
}

/// scrypt's working memory: the N·r·128-byte table, the p·r·128 bytes of blocks, and 256·r of
/// scratch.
pub const fn scrypt_memory_bytes(n: u64, r: u64, p: u64) -> u64 {
    128u64
        .saturating_mul(r)
        .saturating_mul(n.saturating_add(p).saturating_add(2))
}

/// argon2 of `memory_kib` and `iterations`: every pass fills every 1 KiB block once, whatever
/// the number of lanes (Latch computes them one after the other).
pub const fn argon2_ns(memory_kib: u64, iterations: u64) -> u64 {
    memory_kib.saturating_mul(iterations).saturating_mul(ARGON2_BLOCK_NS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_bcrypt_13() {
        assert!(within(bcrypt_ns(13)));
        assert!(!within(bcrypt_ns(14)));
        assert!(!within(bcrypt_ns(63)));
    }

    #[test]
    fn phpass_passwords_up_to_the_guarantee_fit_every_accepted_count() {
        // 2^19 (passlib's default) keeps 423 bytes, 2^18 871, and 2^17 more than any password.
        assert_eq!(phpass_max_password_bytes(19), 423);
        assert_eq!(phpass_max_password_bytes(18), 871);
        assert!(phpass_max_password_bytes(17) > 4 * 256);
        assert!(phpass_max_password_bytes(20) < PHPASS_GUARANTEED_PASSWORD_BYTES);
        assert_eq!(phpass_max_password_bytes(30), 0);
        for count in 7..=19 {
            let max = phpass_max_password_bytes(count);
            assert!(within(phpass_ns(count, max)), "2^{count}");
            assert!(!within(phpass_ns(count, max + 64)) || max > 4 * 256, "2^{count}");
        }
    }
}
