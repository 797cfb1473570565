//! Password hashing: argon2id PHC strings, computed on the blocking pool with bounded
//! concurrency so memory stays at `memory × concurrency` and the async threads stay free.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::api::error::ApiError;
use crate::config::HashSettings;
use crate::domain::Password;

pub struct Hasher {
    params: Params,
    permits: Semaphore,
    /// A hash of a random password, verified against when the email is unknown so that path
    /// costs the same as a wrong password (SECURITY.md E1).
    dummy: OnceCell<String>,
    verifications: AtomicU64,
}

impl Hasher {
    pub fn new(settings: HashSettings) -> Result<Arc<Self>, argon2::Error> {
        let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)?;
        Ok(Arc::new(Self {
            params,
            permits: Semaphore::new(settings.concurrency),
            dummy: OnceCell::new(),
            verifications: AtomicU64::new(0),
        }))
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A new argon2id PHC string with a random 16-byte salt.
    pub async fn hash(self: &Arc<Self>, password: &Password) -> Result<String, ApiError> {
        let password = password.clone();
        let this = self.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            this.argon2()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(ApiError::internal)
        })
        .await?
    }

    /// Whether `password` matches `phc`. Parameters come from the PHC string, so hashes made
    /// with older settings still verify. Any error (a corrupt hash) is a mismatch: fail closed.
    pub async fn verify(self: &Arc<Self>, password: &Password, phc: &str) -> Result<bool, ApiError> {
        let password = password.clone();
        let phc = phc.to_string();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        self.blocking(move || verify_phc(password.expose(), &phc)).await
    }

    /// Spend the same work as a verify without any account, then report a mismatch.
    pub async fn dummy_verify(self: &Arc<Self>, password: &Password) -> Result<(), ApiError> {
        let this = self.clone();
        let dummy = self
            .dummy
            .get_or_try_init(|| async move {
                let random = Password::parse(crate::sessions::tokens::random_token(16)).expect("short");
                this.hash(&random).await
            })
            .await?
            .clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    /// How many verifications ran (real and dummy): lets tests prove equal work (E1, L2).
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(ApiError::internal)
    }
}

fn verify_phc(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::warn!("stored password hash does not parse; refusing");
        return false;
    };
    // Only argon2 hashes are verified here; anything else is refused, never trusted.
    let algorithm = match parsed.algorithm.as_str() {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    Argon2::new(algorithm, Version::V0x13, params)
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> Arc<Hasher> {
        Hasher::new(HashSettings {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            concurrency: 2,
        })
        .unwrap()
    }

    fn pw(s: &str) -> Password {
        Password::parse(s.to_string()).unwrap()
    }

    #[tokio::test]
    async fn argon2id_with_configured_params_and_distinct_salts() {
        // H1
        let h = hasher();
        let a = h.hash(&pw("same password")).await.unwrap();
        let b = h.hash(&pw("same password")).await.unwrap();
        assert_ne!(a, b);
        let parsed = PasswordHash::new(&a).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.params.get_decimal("m"), Some(19_456));
        assert_eq!(parsed.params.get_decimal("t"), Some(2));
        assert_eq!(parsed.params.get_decimal("p"), Some(1));
        assert_eq!(parsed.salt.unwrap().decode_b64(&mut [0u8; 64]).unwrap().len(), 16);
        assert!(h.verify(&pw("same password"), &a).await.unwrap());
        assert!(!h.verify(&pw("other password"), &a).await.unwrap());
    }

    #[tokio::test]
    async fn no_truncation_after_72_bytes() {
        // H5: bcrypt would ignore the tail; argon2 must not.
        let h = hasher();
        let prefix = "x".repeat(72);
        let stored = h.hash(&pw(&format!("{prefix}tail-one"))).await.unwrap();
        assert!(!h.verify(&pw(&format!("{prefix}tail-two")), &stored).await.unwrap());
    }

    #[tokio::test]
    async fn corrupt_hashes_fail_closed() {
        // H6
        let h = hasher();
        for bad in [
            "",
            "garbage",
            "$argon2id$v=19$m=19456,t=2,p=1$AAAA",
            "$2b$10$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(!h.verify(&pw("anything"), bad).await.unwrap(), "{bad}");
        }
    }

    #[tokio::test]
    async fn dummy_verify_counts_as_one_verification() {
        let h = hasher();
        let before = h.verification_count();
        h.dummy_verify(&pw("whatever")).await.unwrap();
        assert_eq!(h.verification_count(), before + 1);
    }
}
