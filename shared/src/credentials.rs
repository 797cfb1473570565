//! The project's credentials (project id, secret) and the token pepper: from the environment,
//! from Secrets Manager (on Lambda: the SAM template creates both secrets), or from a file in the
//! data directory generated on first run (the embedded default).

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{vars, Source};
use crate::sessions::tokens::random_token;
use crate::startup::StartupError;

const CREDENTIALS_FILE: &str = "credentials.json";

/// The project's credentials and the token pepper.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub project_id: String,
    pub secret: String,
    /// base64url; the key of the token digests.
    pub token_pepper: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    fn generate() -> Self {
        Self {
            project_id: format!("project-test-{}", uuid::Uuid::new_v4()),
            secret: format!("secret-test-{}", random_token(32)),
            token_pepper: random_token(32),
        }
    }

    pub fn pepper_bytes(&self) -> Result<Vec<u8>, StartupError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(self.token_pepper.trim())
            // Not the decoder's message: it quotes a character of the pepper.
            .map_err(|_| StartupError::invalid(vars::TOKEN_PEPPER, "not base64url"))?;
        if bytes.len() < 16 {
            return Err(StartupError::invalid(
                vars::TOKEN_PEPPER,
                "at least 16 bytes are needed",
            ));
        }
        Ok(bytes)
    }
}

/// Where the credentials came from, so `latch serve` knows whether to print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    SecretsManager,
    DataDir,
    GeneratedNow,
}

/// `LATCH_PROJECT_ID`/`LATCH_SECRET`/`LATCH_TOKEN_PEPPER` where set; the rest from
/// `<data_dir>/credentials.json`, which is generated (mode 0600, in a 0700 directory) on first run. Several processes
/// starting at once agree: the file is published with an atomic link, and losers read it.
pub fn from_env_or_data_dir(
    src: &dyn Source,
    data_dir: &Path,
) -> Result<(Credentials, CredentialSource), StartupError> {
    let from_env = (
        src.get(vars::PROJECT_ID),
        src.get(vars::SECRET),
        src.get(vars::TOKEN_PEPPER),
    );
    if let (Some(project_id), Some(secret), Some(token_pepper)) = from_env.clone() {
        return Ok((
            Credentials {
                project_id,
                secret,
                token_pepper,
            },
            CredentialSource::Environment,
        ));
    }
    let (mut creds, source) = load_or_generate(data_dir)?;
    let env_given = from_env.0.is_some() && from_env.1.is_some();
    if let (Some(id), Some(secret)) = (from_env.0, from_env.1) {
        creds.project_id = id;
        creds.secret = secret;
    }
    if let Some(pepper) = from_env.2 {
        creds.token_pepper = pepper;
    }
    Ok((
        creds,
        if env_given {
            CredentialSource::Environment
        } else {
            source
        },
    ))
}

fn load_or_generate(data_dir: &Path) -> Result<(Credentials, CredentialSource), StartupError> {
    let path = data_dir.join(CREDENTIALS_FILE);
    let read = |p: &Path| -> Result<Credentials, StartupError> {
        let text = std::fs::read_to_string(p).map_err(|e| StartupError::file(p, e))?;
        serde_json::from_str(&text).map_err(|source| StartupError::Malformed {
            path: p.to_path_buf(),
            source,
        })
    };
    if path.exists() {
        return Ok((read(&path)?, CredentialSource::DataDir));
    }
    crate::files::private_dir(data_dir).map_err(|e| StartupError::file(data_dir, e))?;
    let creds = Credentials::generate();
    let tmp = data_dir.join(format!(".{CREDENTIALS_FILE}.{}", uuid::Uuid::new_v4()));
    {
        let mut file = crate::files::create_new_private()
            .open(&tmp)
            .map_err(|e| StartupError::file(&tmp, e))?;
        file.write_all(serde_json::to_string_pretty(&creds).expect("serializable").as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| StartupError::file(&tmp, e))?;
    }
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok((creds, CredentialSource::GeneratedNow)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read(&path)?, CredentialSource::DataDir)),
        Err(e) => Err(StartupError::file(&path, e)),
    }
}

/// The project secret as Secrets Manager holds it: the SAM template generates `secret` and
/// writes `project_id` beside it, and an operator may replace both (e.g. with the ones the SDKs
/// are already configured with).
#[derive(Deserialize)]
struct ProjectSecret {
    project_id: String,
    secret: String,
}

/// Secrets Manager's ids (ARNs or names) of the two secrets, where the host names them.
#[derive(Debug)]
pub struct SecretIds {
    /// JSON `{"project_id": …, "secret": …}`.
    pub project: String,
    /// The pepper itself: base64url, at least 16 bytes.
    pub token_pepper: String,
}

impl SecretIds {
    /// Both of `LATCH_PROJECT_SECRET_ARN` and `LATCH_TOKEN_PEPPER_ARN`, or neither.
    pub fn from_source(src: &dyn Source) -> Result<Option<Self>, StartupError> {
        match (src.get(vars::PROJECT_SECRET_ARN), src.get(vars::TOKEN_PEPPER_ARN)) {
            (Some(project), Some(token_pepper)) => Ok(Some(Self { project, token_pepper })),
            (None, None) => Ok(None),
            _ => Err(StartupError::invalid(
                format!("{} and {}", vars::PROJECT_SECRET_ARN, vars::TOKEN_PEPPER_ARN),
                "they go together: set both or neither",
            )),
        }
    }
}

/// Read both secrets, once, at cold start. The values are never logged; errors name the secret
/// id and what was wrong with it, not its content.
pub async fn from_secrets_manager(
    client: &aws_sdk_secretsmanager::Client,
    ids: &SecretIds,
) -> Result<Credentials, StartupError> {
    // Both at once: this is cold-start latency on every new Lambda instance.
    let (project_text, token_pepper) = tokio::try_join!(
        secret_string(client, &ids.project),
        secret_string(client, &ids.token_pepper)
    )?;
    // Not serde's message: it quotes the text it could not parse, which is the secret.
    let project: ProjectSecret = serde_json::from_str(&project_text).map_err(|_| StartupError::Secret {
        id: ids.project.clone(),
        reason: "not JSON with string fields project_id and secret".into(),
    })?;
    let creds = Credentials {
        project_id: project.project_id,
        secret: project.secret,
        token_pepper,
    };
    if creds.project_id.trim().is_empty() || creds.secret.trim().is_empty() {
        return Err(StartupError::Secret {
            id: ids.project.clone(),
            reason: "project_id and secret must not be empty".into(),
        });
    }
    creds.pepper_bytes().map_err(|e| StartupError::Secret {
        id: ids.token_pepper.clone(),
        reason: e.to_string(),
    })?;
    Ok(creds)
}

async fn secret_string(client: &aws_sdk_secretsmanager::Client, id: &str) -> Result<String, StartupError> {
    let secret = |reason: String| StartupError::Secret {
        id: id.to_string(),
        reason,
    };
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| secret(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
    out.secret_string
        .ok_or_else(|| secret("no string value (binary secrets are not read)".into()))
}

/// What the credentials must hash to. Comparing fixed-size digests keeps the comparison's time
/// independent of where (or whether) the strings differ, and of their lengths.
#[derive(Clone)]
pub struct ExpectedBasicAuth {
    expected: [u8; 32],
}

impl ExpectedBasicAuth {
    pub fn new(project_id: &str, secret: &str) -> Self {
        Self {
            expected: Self::digest(project_id.as_bytes(), secret.as_bytes()),
        }
    }

    fn digest(project_id: &[u8], secret: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((project_id.len() as u64).to_be_bytes());
        h.update(project_id);
        h.update(secret);
        h.finalize().into()
    }

    /// Whether an `Authorization` header value carries this project's credentials.
    pub fn accepts(&self, header: Option<&str>) -> bool {
        let Some((user, password)) = basic_credentials(header) else {
            return false;
        };
        let given = Self::digest(&user, &password);
        given.ct_eq(&self.expected).into()
    }
}

/// The user name and password of an HTTP Basic `Authorization` header value (`Basic ` or
/// `basic `, the base64 of `user:password`, split at the first colon), as bytes: the project's
/// credentials and the frontend SDK's public token (crate::api::sdk) are both read with it.
pub fn basic_credentials(header: Option<&str>) -> Option<(Vec<u8>, Vec<u8>)> {
    let encoded = header.and_then(|h| h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")))?;
    let mut decoded = STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let password = decoded.split_off(colon + 1);
    decoded.truncate(colon);
    Some((decoded, password))
}

impl std::fmt::Debug for ExpectedBasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExpectedBasicAuth(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_and_env_overrides() {
        let dir = std::env::temp_dir().join(format!("latch-creds-{}", uuid::Uuid::new_v4()));
        let none = |_: &str| None;
        let (a, s1) = from_env_or_data_dir(&none, &dir).unwrap();
        assert_eq!(s1, CredentialSource::GeneratedNow);
        let (b, s2) = from_env_or_data_dir(&none, &dir).unwrap();
        assert_eq!(s2, CredentialSource::DataDir);
        assert_eq!(
            (a.project_id.clone(), a.secret.clone(), a.token_pepper.clone()),
            (b.project_id, b.secret, b.token_pepper.clone())
        );
        assert!(a.pepper_bytes().unwrap().len() >= 32);
        let env = |k: &str| match k {
            "LATCH_PROJECT_ID" => Some("project-test-env".to_string()),
            "LATCH_SECRET" => Some("secret-env".to_string()),
            _ => None,
        };
        let (c, s3) = from_env_or_data_dir(&env, &dir).unwrap();
        assert_eq!(s3, CredentialSource::Environment);
        assert_eq!(c.project_id, "project-test-env");
        assert_eq!(c.token_pepper, b.token_pepper, "the pepper stays the data dir's");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn secret_ids_come_in_pairs() {
        let none = |_: &str| None;
        assert!(SecretIds::from_source(&none).unwrap().is_none());
        let one = |k: &str| (k == vars::PROJECT_SECRET_ARN).then(|| "arn:project".to_string());
        assert!(SecretIds::from_source(&one)
            .unwrap_err()
            .to_string()
            .contains(vars::TOKEN_PEPPER_ARN));
        let both = |k: &str| match k {
            vars::PROJECT_SECRET_ARN => Some("arn:project".to_string()),
            vars::TOKEN_PEPPER_ARN => Some("arn:pepper".to_string()),
            _ => None,
        };
        let ids = SecretIds::from_source(&both).unwrap().unwrap();
        assert_eq!(
            (ids.project.as_str(), ids.token_pepper.as_str()),
            ("arn:project", "arn:pepper")
        );
    }
}
