//! RS256 signing keys: generated once, persisted in the store so every process and Lambda
//! instance signs with the same key, and parsed once per process (parsing costs more than
//! signing; see docs/reference/performance-facts.md).
//!
//! The private key rests sealed (docs/security.md X3): ChaCha20-Poly1305 by `totp::SecretSealer`
//! under a key derived from the token pepper for this purpose alone, so a dump of the store (a
//! copy of the SQLite file, read access to the table) does not let anyone mint JWTs. The pepper
//! comes from where the other secrets do (the environment, `credentials.json`, Secrets Manager).

use aws_lc_rs::signature::RsaKeyPair;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;

use crate::domain::ids::{new_id, IdEnvironment, IdKind};
use crate::startup::StartupError;
use crate::store::{SigningKeyRecord, Store, StoreError, StoredPrivateKey};
use crate::totp::{SecretSealer, Unsealable, SIGNING_KEY_SEAL_PURPOSE};

/// The sealer of the signing keys: the TOTP secrets' mechanism under a key of its own.
pub fn sealer(token_pepper: &[u8]) -> SecretSealer {
    SecretSealer::for_purpose(token_pepper, SIGNING_KEY_SEAL_PURPOSE)
}

/// A record's private key as PKCS#8 DER: unsealed, or (a record an older version wrote) decoded
/// from its clear PEM. A key that does not open is an error naming the likely cause; it is
/// never replaced by a new key on its own (see `SigningKeys::load_or_create`).
pub fn private_key_der(record: &SigningKeyRecord, sealer: &SecretSealer) -> Result<Vec<u8>, StartupError> {
    match &record.private_key {
        StoredPrivateKey::Sealed(sealed) => sealer.open(sealed).map_err(|Unsealable| StartupError::SigningKey {
            kid: record.kid.clone(),
            reason: "it does not open: it was sealed under another token pepper, or it is corrupt. \
                 Start with the pepper it was sealed under (LATCH_TOKEN_PEPPER, the pepper secret, or \
                 credentials.json in the data directory). Latch does not replace it with a new key by itself: \
                 every JWT signed so far would stop verifying"
                .into(),
        }),
        StoredPrivateKey::ClearPem(pem) => RsaPrivateKey::from_pkcs8_pem(pem)
            .and_then(|k| k.to_pkcs8_der())
            .map(|der| der.as_bytes().to_vec())
            .map_err(|e| key_error(record, e)),
    }
}

/// The same key, sealed (a record an older version left in clear); `None` if already sealed.
fn sealed_copy(record: &SigningKeyRecord, sealer: &SecretSealer) -> Result<Option<SigningKeyRecord>, StartupError> {
    match &record.private_key {
        StoredPrivateKey::Sealed(_) => Ok(None),
        StoredPrivateKey::ClearPem(_) => {
            let der = private_key_der(record, sealer)?;
            Ok(Some(SigningKeyRecord {
                private_key: StoredPrivateKey::Sealed(sealer.seal(&der)),
                ..record.clone()
            }))
        }
    }
}

/// A public key as the JWKS endpoint lists it (every field the Python SDK's model requires).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub key_ops: Vec<&'static str>,
    pub alg: &'static str,
    pub kid: String,
    pub x5c: Vec<String>,
    #[serde(rename = "x5tS256")]
    pub x5t_s256: String,
    pub n: String,
    pub e: String,
}

pub struct LoadedKey {
    pub kid: String,
    /// Parsed once: parsing a key costs more than a signature with it.
    pub signer: RsaKeyPair,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
}

impl LoadedKey {
    fn from_record(record: &SigningKeyRecord, sealer: &SecretSealer) -> Result<Self, StartupError> {
        if !matches!(record.private_key, StoredPrivateKey::Sealed(_)) {
            return Err(key_error(record, "it is still in clear in the store"));
        }
        let der = private_key_der(record, sealer)?;
        let private = RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| key_error(record, e))?;
        let public = private.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        Ok(Self {
            kid: record.kid.clone(),
            signer: RsaKeyPair::from_pkcs8(&der).map_err(|e| key_error(record, e))?,
            decoding: DecodingKey::from_rsa_components(&n, &e).map_err(|e| key_error(record, e))?,
            jwk: Jwk {
                kty: "RSA",
                use_: "sig",
                key_ops: vec!["verify"],
                alg: "RS256",
                kid: record.kid.clone(),
                x5c: vec![],
                x5t_s256: String::new(),
                n,
                e,
            },
        })
    }
}

/// The keys in use: the newest signs, all verify (so a rotation does not break live JWTs).
pub struct SigningKeys {
    keys: Vec<LoadedKey>,
}

impl SigningKeys {
    /// Load the keys from the store, generating and storing the first one (sealed) if there is
    /// none, and sealing any an older version left in clear. Two processes starting at once race
    /// on conditional writes; the loser reads the winner's. Both seal the same key, so either
    /// way there is one key, never two.
    pub async fn load_or_create(
        store: &dyn Store,
        sealer: &SecretSealer,
        env: IdEnvironment,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, StartupError> {
        let mut records = store.signing_keys().await?;
        if records.is_empty() {
            let s = sealer.clone();
            let record = crate::blocking::spawn(move || generate(&s, env, now))
                .await
                .map_err(|e| StartupError::invalid("generating the first signing key", e))??;
            match store.insert_signing_key(&record).await {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            records = store.signing_keys().await?;
        }
        let mut resealed = false;
        for record in &records {
            if let Some(sealed) = sealed_copy(record, sealer)? {
                match store.replace_signing_key(record, &sealed).await {
                    // On a conflict another process sealed it first: read back below.
                    Ok(()) | Err(StoreError::Conflict) => resealed = true,
                    Err(e) => return Err(key_error(record, format!("sealing it: {e}"))),
                }
            }
        }
        if resealed {
            records = store.signing_keys().await?;
            tracing::info!("signing keys left in clear by an older version are sealed");
        }
        records.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.kid.cmp(&b.kid)));
        let keys = records
            .iter()
            .map(|r| LoadedKey::from_record(r, sealer))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(StartupError::invalid("signing keys", "no signing key could be loaded"));
        }
        Ok(Self { keys })
    }

    pub fn current(&self) -> &LoadedKey {
        &self.keys[0]
    }

    /// One freshly generated key, for tests that need a key set other than the project's.
    #[cfg(test)]
    pub(crate) fn generated() -> Self {
        let sealer = sealer(b"test-pepper-for-a-generated-key!");
        let record = generate(&sealer, IdEnvironment::Test, chrono::Utc::now()).expect("generate");
        Self {
            keys: vec![LoadedKey::from_record(&record, &sealer).expect("load")],
        }
    }

    pub fn by_kid(&self, kid: &str) -> Option<&LoadedKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn jwks(&self) -> Vec<Jwk> {
        self.keys.iter().map(|k| k.jwk.clone()).collect()
    }
}

fn key_error(record: &SigningKeyRecord, reason: impl std::fmt::Display) -> StartupError {
    StartupError::SigningKey {
        kid: record.kid.clone(),
        reason: reason.to_string(),
    }
}

/// A fresh RSA-2048 key as a store record, sealed.
pub fn generate(
    sealer: &SecretSealer,
    env: IdEnvironment,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SigningKeyRecord, StartupError> {
    let failed = |e: &dyn std::fmt::Display| StartupError::invalid("generating a signing key", e);
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| failed(&e))?;
    let der = key.to_pkcs8_der().map_err(|e| failed(&e))?;
    Ok(SigningKeyRecord {
        kid: new_id(IdKind::Jwk, env),
        private_key: StoredPrivateKey::Sealed(sealer.seal(der.as_bytes())),
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record as versions before sealing wrote it still reads (as a clear key, to be
    /// sealed), and a sealed record carries no clear field.
    #[test]
    fn older_records_read_and_sealed_ones_hold_no_clear_field() {
        let old = r#"{"kid":"jwk-test-1","private_key_pem":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n","created_at":"2025-06-01T12:00:00.123456789Z"}"#;
        let record: SigningKeyRecord = serde_json::from_str(old).unwrap();
        assert!(matches!(&record.private_key, StoredPrivateKey::ClearPem(p) if p.starts_with("-----BEGIN")));
        assert_eq!(serde_json::to_string(&record).unwrap(), old, "read and written alike");
        let sealed = SigningKeyRecord {
            private_key: StoredPrivateKey::Sealed("c2VhbGVk".into()),
            ..record
        };
        let json: serde_json::Value = serde_json::to_value(&sealed).unwrap();
        assert_eq!(json["sealed_private_key"], "c2VhbGVk");
        assert!(json.get("private_key_pem").is_none(), "{json}");
        assert!(
            !format!("{sealed:?}").contains("c2VhbGVk"),
            "Debug shows no key material"
        );
    }

    #[test]
    fn a_generated_key_is_sealed_and_opens_only_under_its_pepper() {
        let record = generate(&sealer(&[7; 32]), IdEnvironment::Test, chrono::Utc::now()).unwrap();
        assert!(matches!(record.private_key, StoredPrivateKey::Sealed(_)));
        let der = private_key_der(&record, &sealer(&[7; 32])).unwrap();
        assert!(RsaPrivateKey::from_pkcs8_der(&der).is_ok());
        let err = private_key_der(&record, &sealer(&[8; 32])).unwrap_err().to_string();
        assert!(err.contains(&record.kid) && err.contains("pepper"), "{err}");
        // Nor under the TOTP secrets' key from the same pepper.
        assert!(private_key_der(&record, &SecretSealer::new(&[7; 32])).is_err());
    }
}
