//! RS256 signing keys: generated once, persisted in the store so every process and Lambda
//! instance signs with the same key, and parsed once per process (parsing costs more than
//! signing; see PERFORMANCE.md).

use aws_lc_rs::signature::RsaKeyPair;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;

use crate::domain::ids::{new_id, IdEnvironment, IdKind};
use crate::store::{SigningKeyRecord, Store, StoreError};

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
    fn from_record(record: &SigningKeyRecord) -> Result<Self, String> {
        let private = RsaPrivateKey::from_pkcs8_pem(&record.private_key_pem)
            .map_err(|e| format!("signing key {}: {e}", record.kid))?;
        let public = private.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        Ok(Self {
            kid: record.kid.clone(),
            signer: RsaKeyPair::from_pkcs8(
                private
                    .to_pkcs8_der()
                    .map_err(|e| format!("signing key {}: {e}", record.kid))?
                    .as_bytes(),
            )
            .map_err(|e| format!("signing key {}: {e}", record.kid))?,
            decoding: DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?,
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
    /// Load the keys from the store, generating and storing the first one if there is none.
    /// Two processes starting at once race on a conditional insert; the loser reads the winner's.
    pub async fn load_or_create(
        store: &dyn Store,
        env: IdEnvironment,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, String> {
        let mut records = store.signing_keys().await.map_err(|e| e.to_string())?;
        if records.is_empty() {
            let record = tokio::task::spawn_blocking(move || generate(env, now))
                .await
                .map_err(|e| e.to_string())??;
            match store.insert_signing_key(&record).await {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.to_string()),
            }
            records = store.signing_keys().await.map_err(|e| e.to_string())?;
        }
        records.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.kid.cmp(&b.kid)));
        let keys = records
            .iter()
            .map(LoadedKey::from_record)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err("no signing key could be loaded".into());
        }
        Ok(Self { keys })
    }

    pub fn current(&self) -> &LoadedKey {
        &self.keys[0]
    }

    pub fn by_kid(&self, kid: &str) -> Option<&LoadedKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn jwks(&self) -> Vec<Jwk> {
        self.keys.iter().map(|k| k.jwk.clone()).collect()
    }
}

/// A fresh RSA-2048 key as a store record.
pub fn generate(env: IdEnvironment, now: chrono::DateTime<chrono::Utc>) -> Result<SigningKeyRecord, String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| e.to_string())?;
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
    Ok(SigningKeyRecord {
        kid: new_id(IdKind::Jwk, env),
        private_key_pem: pem.to_string(),
        created_at: now,
    })
}
