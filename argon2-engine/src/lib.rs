//! Argon2 (RFC 9106) as Latch's hasher runs it: the `argon2` crate's parameters, validation,
//! errors, block type and results, with an AVX2 implementation chosen at run time on x86_64 and
//! a NEON one on aarch64.
//!
//! Nearly all of a hash's time goes to the compression function G. The `argon2` crate's G is
//! scalar Rust: on the machines Latch is benchmarked on it took ~1.3× the reference C library's
//! optimised build (bench/RESULTS.md). Where the CPU has AVX2, [`Backend::Avx2`] runs the whole
//! fill here, with G on 256-bit vectors (`avx2`); on aarch64 (the arm64 Lambda functions among
//! them) [`Backend::Neon`] runs the same fill (`fill`, generic over G) with G on 128-bit NEON
//! vectors (`neon`); everywhere else [`Backend::Portable`] is the `argon2` crate itself. (A
//! variant compiled with AVX-512F/VL as well, where `vprolq` replaces one of the four rotations,
//! measured no faster on the benchmark machine: not kept.) The NEON backend's correctness is
//! tested under qemu (scripts/arm64-tests.sh); its speed has not been measured here.
//!
//! Either way the working memory is the caller's `Vec<Block>`, grown when a hash needs more and
//! otherwise reused, so a busy server does not fault in fresh pages for every hash
//! (docs/reference/performance-facts.md).
//!
//! The tests hold the vector backends' output equal to the `argon2` crate's for every variant,
//! version, lane count and tag length, and to the RFC's test vectors.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod fill;
#[cfg(target_arch = "aarch64")]
mod neon;

pub use argon2::{Algorithm, Block, Error, Params, Version};

/// Which implementation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The `argon2` crate.
    Portable,
    /// Latch's own, on x86_64 CPUs with AVX2 (detected at run time).
    Avx2,
    /// Latch's own, on aarch64 CPUs (NEON is part of every one that runs Linux).
    Neon,
}

impl Backend {
    /// The fastest implementation this CPU runs.
    pub fn detect() -> Self {
        [Backend::Avx2, Backend::Neon]
            .into_iter()
            .find(|b| b.available())
            .unwrap_or(Backend::Portable)
    }

    pub fn available(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Avx2 => false,
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[cfg(not(target_arch = "aarch64"))]
            Backend::Neon => false,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable (argon2 crate)",
            Backend::Avx2 => "avx2",
            Backend::Neon => "neon",
        }
    }
}

/// An Argon2 instance: variant, version, cost (with the associated data the parameters may carry,
/// as in the `argon2` crate), and optionally a secret.
#[derive(Clone)]
pub struct Argon2<'k> {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    secret: &'k [u8],
    backend: Backend,
}

impl<'k> Argon2<'k> {
    /// An instance using the fastest implementation this CPU supports.
    pub fn new(algorithm: Algorithm, version: Version, params: Params) -> Self {
        Self::with_backend(algorithm, version, params, Backend::detect())
    }

    /// An instance using `backend` where it is [`Backend::available`], the portable one
    /// otherwise: lets the tests and the benchmark compare the implementations.
    pub fn with_backend(algorithm: Algorithm, version: Version, params: Params, backend: Backend) -> Self {
        let backend = if backend.available() {
            backend
        } else {
            Backend::Portable
        };
        Self {
            algorithm,
            version,
            params,
            secret: &[],
            backend,
        }
    }

    /// The keyed form (RFC 9106's K input).
    pub fn with_secret(mut self, secret: &'k [u8]) -> Self {
        self.secret = secret;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Argon2 of `password` and `salt` into `out` (the tag length is `out.len()`), computed in
    /// `memory`: grown to the block count when it is shorter, used as it is otherwise.
    ///
    /// Refuses what the `argon2` crate refuses, with its errors: the portable backend is the
    /// crate, and the vector ones run only after the crate's own checks passed.
    pub fn hash_into(
        &self,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
        memory: &mut Vec<Block>,
    ) -> Result<(), Error> {
        let blocks = self.params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if self.backend != Backend::Portable {
            check_inputs(&self.params, self.secret, password, salt, out)?;
            let fill = fill::Fill {
                algorithm: self.algorithm,
                version: self.version,
                params: &self.params,
                secret: self.secret,
            };
            // SAFETY: an instance holds a vector backend only where `available()` found its
            // instructions (with_backend falls back to Portable otherwise).
            match self.backend {
                #[cfg(target_arch = "x86_64")]
                Backend::Avx2 => unsafe { fill.hash_into::<avx2::Avx2>(password, salt, out, memory) },
                #[cfg(target_arch = "aarch64")]
                Backend::Neon => unsafe { fill.hash_into::<neon::Neon>(password, salt, out, memory) },
                other => unreachable!("{other:?} is not available on this architecture"),
            }
            return Ok(());
        }
        let crate_argon2 = if self.secret.is_empty() {
            argon2::Argon2::new(self.algorithm, self.version, self.params.clone())
        } else {
            argon2::Argon2::new_with_secret(self.secret, self.algorithm, self.version, self.params.clone())?
        };
        crate_argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    }
}

/// The argon2 crate's checks of the inputs (`Argon2::new_with_secret` and
/// `hash_password_into_with_memory`), for the vector backends.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn check_inputs(params: &Params, secret: &[u8], password: &[u8], salt: &[u8], out: &[u8]) -> Result<(), Error> {
    const MIN_SALT_LEN: usize = 8;
    let too_long = |len: usize| u32::try_from(len).is_err();
    if too_long(secret.len()) {
        return Err(Error::SecretTooLong);
    }
    let (min_out, max_out) = match params.output_len() {
        Some(len) => (len, len),
        None => (Params::MIN_OUTPUT_LEN, Params::MAX_OUTPUT_LEN),
    };
    if out.len() < min_out {
        return Err(Error::OutputTooShort);
    }
    if out.len() > max_out {
        return Err(Error::OutputTooLong);
    }
    if too_long(password.len()) {
        return Err(Error::PwdTooLong);
    }
    if salt.len() < MIN_SALT_LEN {
        return Err(Error::SaltTooShort);
    }
    if too_long(salt.len()) {
        return Err(Error::SaltTooLong);
    }
    Ok(())
}
