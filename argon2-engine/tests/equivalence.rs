//! latch-argon2 gives the RFC 9106 test vectors with every backend this CPU has, and its own
//! (vector) implementations give the `argon2` crate's output for every variant, version, lane count
//! and tag length; reused (dirty, or larger) working memory does not change a result.

use latch_argon2::{Algorithm, Argon2, Backend, Block, Error, Params, Version};
use proptest::prelude::*;

fn backends() -> Vec<Backend> {
    [Backend::Portable, Backend::Avx2, Backend::Neon]
        .into_iter()
        .filter(|b| b.available())
        .collect()
}

/// The implementations that are Latch's own rather than the argon2 crate's: what the comparisons
/// with the crate test. An x86_64 CPU without AVX2 has none (and then runs the crate itself);
/// every aarch64 one has NEON.
fn own_backends() -> Vec<Backend> {
    let own: Vec<Backend> = backends().into_iter().filter(|b| *b != Backend::Portable).collect();
    if own.is_empty() {
        eprintln!("no AVX2 or NEON on this CPU: only the argon2 crate runs here, nothing to compare");
    }
    own
}

/// On aarch64 the NEON backend is the one chosen, so the comparisons below test it
/// (scripts/arm64-tests.sh checks that this test ran and passed under qemu).
#[cfg(target_arch = "aarch64")]
#[test]
fn neon_is_the_backend_on_aarch64() {
    assert_eq!(Backend::detect(), Backend::Neon);
    assert_eq!(own_backends(), [Backend::Neon]);
    assert_eq!(Backend::Neon.name(), "neon");
}

/// On x86_64 NEON is never chosen, and AVX2 is wherever the CPU has it.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_where_the_cpu_has_it() {
    assert!(!Backend::Neon.available());
    let expected = if std::is_x86_feature_detected!("avx2") {
        Backend::Avx2
    } else {
        Backend::Portable
    };
    assert_eq!(Backend::detect(), expected);
}

/// One hash's inputs.
struct Case<'a> {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    secret: &'a [u8],
    password: &'a [u8],
    salt: &'a [u8],
    out_len: usize,
}

impl Case<'_> {
    fn argon2id(params: Params, password: &'static [u8], salt: &'static [u8]) -> Case<'static> {
        Case {
            algorithm: Algorithm::Argon2id,
            version: Version::V0x13,
            params,
            secret: &[],
            password,
            salt,
            out_len: 32,
        }
    }

    fn ours(&self, backend: Backend, memory: &mut Vec<Block>) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; self.out_len];
        Argon2::with_backend(self.algorithm, self.version, self.params.clone(), backend)
            .with_secret(self.secret)
            .hash_into(self.password, self.salt, &mut out, memory)?;
        Ok(out)
    }

    fn theirs(&self) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; self.out_len];
        let argon2 = if self.secret.is_empty() {
            argon2::Argon2::new(self.algorithm, self.version, self.params.clone())
        } else {
            argon2::Argon2::new_with_secret(self.secret, self.algorithm, self.version, self.params.clone())?
        };
        argon2.hash_password_into(self.password, self.salt, &mut out)?;
        Ok(out)
    }
}

/// RFC 9106 §5: m = 32 KiB, t = 3, p = 4, with a secret and associated data.
#[test]
fn rfc_9106_test_vectors() {
    let params = argon2::ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(argon2::AssociatedData::new(&[0x04; 12]).unwrap())
        .build()
        .unwrap();
    let vectors = [
        (
            Algorithm::Argon2d,
            "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb",
        ),
        (
            Algorithm::Argon2i,
            "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8",
        ),
        (
            Algorithm::Argon2id,
            "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659",
        ),
    ];
    for backend in backends() {
        for (algorithm, tag) in vectors {
            let case = Case {
                algorithm,
                secret: &[0x03; 8],
                ..Case::argon2id(params.clone(), &[0x01; 32], &[0x02; 16])
            };
            let out = case.ours(backend, &mut Vec::new()).unwrap();
            assert_eq!(hex::encode(out), tag, "{algorithm:?} on {backend:?}");
        }
    }
}

/// Latch's default cost (OWASP's argon2id minimum): the size a login hashes at.
#[test]
fn the_default_cost_matches_the_argon2_crate() {
    let case = Case::argon2id(
        Params::new(19_456, 2, 1, None).unwrap(),
        b"hunter2 hunter2",
        b"saltsaltsalt",
    );
    let expected = case.theirs().unwrap();
    for backend in own_backends() {
        assert_eq!(case.ours(backend, &mut Vec::new()).unwrap(), expected, "{backend:?}");
    }
}

#[test]
fn dirty_or_larger_memory_gives_the_same_hash() {
    let params = Params::new(256, 2, 2, None).unwrap();
    let case = Case::argon2id(params.clone(), b"pw", b"12345678");
    let fresh = case.ours(Backend::detect(), &mut Vec::new()).unwrap();
    let mut memory = Vec::new();
    case.ours(Backend::detect(), &mut memory).unwrap();
    assert_eq!(memory.len(), params.block_count(), "grown to the block count");
    assert_eq!(
        case.ours(Backend::detect(), &mut memory).unwrap(),
        fresh,
        "memory left from an earlier hash"
    );
    let mut larger = vec![Block::default(); 4 * params.block_count()];
    assert_eq!(
        case.ours(Backend::detect(), &mut larger).unwrap(),
        fresh,
        "memory larger than needed"
    );
    assert_eq!(larger.len(), 4 * params.block_count(), "larger memory is not shrunk");
}

#[test]
fn refuses_what_the_argon2_crate_refuses() {
    let params = Params::new(64, 1, 1, None).unwrap();
    let fixed = Params::new(64, 1, 1, Some(32)).unwrap();
    let cases = [
        // A salt under 8 bytes, a tag under 4 bytes, other than the fixed output length.
        Case::argon2id(params.clone(), b"pw", b"short"),
        Case {
            out_len: 3,
            ..Case::argon2id(params, b"pw", b"12345678")
        },
        Case {
            out_len: 31,
            ..Case::argon2id(fixed.clone(), b"pw", b"12345678")
        },
        Case {
            out_len: 33,
            ..Case::argon2id(fixed, b"pw", b"12345678")
        },
    ];
    for case in cases {
        let expected = case.theirs().unwrap_err();
        assert_eq!(case.ours(Backend::detect(), &mut Vec::new()).unwrap_err(), expected);
    }
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Argon2d),
        Just(Algorithm::Argon2i),
        Just(Algorithm::Argon2id)
    ]
}

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::V0x10), Just(Version::V0x13)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Small costs, so that many shapes run: memory just above and well above 8 × lanes, tags
    /// under and over BLAKE2b's 64 bytes (H' chains), with and without secret and data.
    #[test]
    fn matches_the_argon2_crate(
        algorithm in algorithm(),
        version in version(),
        lanes in 1u32..=4,
        extra_kib in 0u32..200,
        passes in 1u32..=3,
        password in proptest::collection::vec(any::<u8>(), 0..40),
        salt in proptest::collection::vec(any::<u8>(), 8..24),
        secret in proptest::collection::vec(any::<u8>(), 0..16),
        data in proptest::collection::vec(any::<u8>(), 0..16),
        out_len in 4usize..140,
    ) {
        let params = argon2::ParamsBuilder::new()
            .m_cost(8 * lanes + extra_kib)
            .t_cost(passes)
            .p_cost(lanes)
            .data(argon2::AssociatedData::new(&data).unwrap())
            .build()
            .unwrap();
        let case = Case { algorithm, version, params, secret: &secret, password: &password, salt: &salt, out_len };
        let expected = case.theirs().unwrap();
        for backend in own_backends() {
            prop_assert_eq!(&case.ours(backend, &mut Vec::new()).unwrap(), &expected, "{:?}", backend);
        }
    }
}
