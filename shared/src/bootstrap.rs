//! Building the state for a host: credentials, settings, the embedded store and the ports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::clock::SystemClock;
use crate::config::{vars, Env, MailBackend, Settings, Source, StoreBackend};
use crate::mail::outbox::Outbox;
use crate::mail::ses::Ses;
use crate::mail::Mailer;
use crate::policy::breach::{HibpClient, NoBreachCheck};
use crate::policy::BreachCheck;
use crate::sessions::tokens::random_token;
use crate::state::{AppState, Ports};
use crate::store::dynamo::DynamoStore;
use crate::store::sqlite::SqliteStore;
use crate::store::Store;

/// The data directory when `LATCH_DATA_DIR` is unset (the Lambda functions under
/// `cargo lambda watch` read it; `latch serve` takes `--data-dir`).
pub const DEFAULT_DATA_DIR: &str = "./latch-data";
pub const DATA_DIR_VAR: &str = "LATCH_DATA_DIR";
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

    pub fn pepper_bytes(&self) -> Result<Vec<u8>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(self.token_pepper.trim())
            .map_err(|e| format!("{}: not base64url: {e}", vars::TOKEN_PEPPER))?;
        if bytes.len() < 16 {
            return Err(format!("{}: at least 16 bytes are needed", vars::TOKEN_PEPPER));
        }
        Ok(bytes)
    }
}

/// Where the credentials came from, so `latch serve` knows whether to print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    DataDir,
    GeneratedNow,
}

/// `LATCH_PROJECT_ID`/`LATCH_SECRET`/`LATCH_TOKEN_PEPPER` where set; the rest from
/// `<data_dir>/credentials.json`, which is generated (mode 0600) on first run. Several processes
/// starting at once agree: the file is published with an atomic link, and losers read it.
pub fn credentials(src: &dyn Source, data_dir: &Path) -> Result<(Credentials, CredentialSource), String> {
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

fn load_or_generate(data_dir: &Path) -> Result<(Credentials, CredentialSource), String> {
    let path = data_dir.join(CREDENTIALS_FILE);
    let read = |p: &Path| -> Result<Credentials, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    if path.exists() {
        return Ok((read(&path)?, CredentialSource::DataDir));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let creds = Credentials::generate();
    let tmp = data_dir.join(format!(".{CREDENTIALS_FILE}.{}", uuid::Uuid::new_v4()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        file.write_all(serde_json::to_string_pretty(&creds).expect("serializable").as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
    }
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok((creds, CredentialSource::GeneratedNow)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read(&path)?, CredentialSource::DataDir)),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The breach check the settings ask for.
pub fn breach_check(settings: &Settings) -> Result<Arc<dyn BreachCheck>, String> {
    if !settings.breach.enabled() {
        return Ok(Arc::new(NoBreachCheck));
    }
    let client = HibpClient::new(
        &settings.breach.base_url,
        settings.breach.timeout,
        settings.breach.cache_ttl,
    )
    .map_err(|e| format!("breach client: {e}"))?;
    Ok(Arc::new(client))
}

/// The data directory from `LATCH_DATA_DIR`, or the default.
pub fn data_dir_from_env() -> PathBuf {
    Env.get(DATA_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

/// The AWS configuration from the standard chain (environment, profile, instance role);
/// `AWS_ENDPOINT_URL` points it at an emulator with no code change.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The AWS configuration, loaded once and only if a backend needs it: the credential chain
/// does I/O, and a Lambda cold start should pay for it once, not per client.
struct LazyAws(Option<aws_config::SdkConfig>);

impl LazyAws {
    async fn get(&mut self) -> &aws_config::SdkConfig {
        if self.0.is_none() {
            self.0 = Some(aws_config().await);
        }
        self.0.as_ref().expect("just loaded")
    }
}

/// The store the settings ask for.
async fn store(settings: &Settings, data_dir: &Path, aws: &mut LazyAws) -> Result<Arc<dyn Store>, String> {
    Ok(match &settings.store {
        StoreBackend::Sqlite => {
            Arc::new(SqliteStore::open_dir(data_dir).map_err(|e| format!("store in {}: {e}", data_dir.display()))?)
        }
        StoreBackend::Dynamodb { table } => {
            Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(aws.get().await), table))
        }
    })
}

/// The mailer the settings ask for.
async fn mailer(settings: &Settings, data_dir: &Path, aws: &mut LazyAws) -> Arc<dyn Mailer> {
    match &settings.mail {
        MailBackend::Outbox => Arc::new(Outbox::new(data_dir.join("outbox"))),
        MailBackend::Ses { configuration_set } => Arc::new(Ses::new(
            aws_sdk_sesv2::Client::new(aws.get().await),
            configuration_set.clone(),
        )),
    }
}

/// The whole state from the environment: the backends `LATCH_STORE` and `LATCH_MAILER` name
/// (by default SQLite and the outbox in `data_dir`).
pub async fn from_env(data_dir: &Path) -> Result<(AppState, Credentials, CredentialSource), String> {
    let (creds, source) = credentials(&Env, data_dir)?;
    let settings = Settings::from_source(
        &Env,
        creds.project_id.clone(),
        creds.secret.clone(),
        creds.pepper_bytes()?,
    )
    .map_err(|e| e.to_string())?;
    let mut aws = LazyAws(None);
    let ports = Ports {
        store: store(&settings, data_dir, &mut aws).await?,
        mailer: mailer(&settings, data_dir, &mut aws).await,
        breach: breach_check(&settings)?,
        clock: Arc::new(SystemClock),
    };
    let state = AppState::build(settings, ports).await?;
    Ok((state, creds, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_and_env_overrides() {
        let dir = std::env::temp_dir().join(format!("latch-creds-{}", uuid::Uuid::new_v4()));
        let none = |_: &str| None;
        let (a, s1) = credentials(&none, &dir).unwrap();
        assert_eq!(s1, CredentialSource::GeneratedNow);
        let (b, s2) = credentials(&none, &dir).unwrap();
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
        let (c, s3) = credentials(&env, &dir).unwrap();
        assert_eq!(s3, CredentialSource::Environment);
        assert_eq!(c.project_id, "project-test-env");
        assert_eq!(c.token_pepper, b.token_pepper, "the pepper stays the data dir's");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
