//! Building the state for a host: credentials, settings, the embedded store and the ports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::{aws_call_policy, Env, MailBackend, Settings, Source, StoreBackend};
use crate::credentials::{from_env_or_data_dir, from_secrets_manager, SecretIds};
pub use crate::credentials::{CredentialSource, Credentials};
use crate::mail::outbox::Outbox;
use crate::mail::ses::Ses;
use crate::mail::Mailer;
use crate::policy::breach::{HibpClient, NoBreachCheck};
use crate::policy::BreachCheck;
use crate::startup::StartupError;
use crate::state::{AppState, Ports};
use crate::store::dynamo::DynamoStore;
#[cfg(feature = "sqlite")]
use crate::store::sqlite::SqliteStore;
use crate::store::Store;

/// The data directory when `LATCH_DATA_DIR` is unset (the Lambda functions under
/// `cargo lambda watch` read it; `latch serve` takes `--data-dir`).
pub const DEFAULT_DATA_DIR: &str = "./latch-data";
pub const DATA_DIR_VAR: &str = "LATCH_DATA_DIR";

/// The breach check the settings ask for; its breaker's cool-down runs on `clock`.
pub fn breach_check(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Arc<dyn BreachCheck>, StartupError> {
    if !settings.breach.enabled() {
        return Ok(Arc::new(NoBreachCheck));
    }
    let client = HibpClient::new(&settings.breach, clock).map_err(|e| StartupError::invalid("the breach client", e))?;
    Ok(Arc::new(client))
}

/// The data directory from `LATCH_DATA_DIR`, or the default.
pub fn data_dir_from_env() -> PathBuf {
    Env.get(DATA_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

/// The AWS configuration from the standard chain (environment, profile, instance role), with
/// Latch's tries and time limits for every call (aws_calls.rs, `config::aws_call_policy`);
/// `AWS_ENDPOINT_URL` points it at an emulator with no code change.
pub async fn aws_config() -> Result<aws_config::SdkConfig, StartupError> {
    Ok(aws_call_policy(&Env)?.loader().load().await)
}

/// The AWS configuration, loaded once and only if a backend needs it: the credential chain
/// does I/O, and a Lambda cold start should pay for it once, not per client.
struct LazyAws(Option<aws_config::SdkConfig>);

impl LazyAws {
    async fn get(&mut self) -> Result<&aws_config::SdkConfig, StartupError> {
        if self.0.is_none() {
            self.0 = Some(aws_config().await?);
        }
        Ok(self.0.as_ref().expect("just loaded"))
    }
}

/// The store the settings ask for (`data_dir` holds the embedded one, absent from the Lambda
/// builds).
#[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
async fn store(settings: &Settings, data_dir: &Path, aws: &mut LazyAws) -> Result<Arc<dyn Store>, StartupError> {
    Ok(match &settings.store {
        #[cfg(feature = "sqlite")]
        StoreBackend::Sqlite => Arc::new(
            SqliteStore::open_dir_with(data_dir, settings.sqlite_busy_timeout)
                .map_err(|e| StartupError::invalid(format!("the store in {}", data_dir.display()), e))?,
        ),
        #[cfg(not(feature = "sqlite"))]
        StoreBackend::Sqlite => {
            return Err(StartupError::Unsupported(
                "LATCH_STORE=sqlite, but this build has no embedded store (it was built without the `sqlite` \
                 feature, as the Lambda functions are): set LATCH_STORE=dynamodb",
            ))
        }
        StoreBackend::Dynamodb { table } => {
            Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(aws.get().await?), table))
        }
    })
}

/// The mailer the settings ask for.
async fn mailer(settings: &Settings, data_dir: &Path, aws: &mut LazyAws) -> Result<Arc<dyn Mailer>, StartupError> {
    Ok(match &settings.mail {
        MailBackend::Outbox => Arc::new(Outbox::new(data_dir.join("outbox"))),
        MailBackend::Ses { configuration_set } => Arc::new(Ses::new(
            aws_sdk_sesv2::Client::new(aws.get().await?),
            configuration_set.clone(),
        )),
    })
}

/// The whole state from the environment: the credentials from Secrets Manager where
/// `LATCH_PROJECT_SECRET_ARN` and `LATCH_TOKEN_PEPPER_ARN` name them (else the environment and
/// the data directory), and the backends `LATCH_STORE` and `LATCH_MAILER` name (by default SQLite
/// and the outbox in `data_dir`).
pub async fn from_env(data_dir: &Path) -> Result<(AppState, Credentials, CredentialSource), StartupError> {
    // What an older version or a wider umask left readable is made private before it is used
    // (docs/security.md X3); what is created from here on is created private.
    crate::files::tighten_data_dir(data_dir).map_err(|e| StartupError::file(data_dir, e))?;
    let mut aws = LazyAws(None);
    let (creds, source) = match SecretIds::from_source(&Env)? {
        Some(ids) => {
            let client = aws_sdk_secretsmanager::Client::new(aws.get().await?);
            (
                from_secrets_manager(&client, &ids).await?,
                CredentialSource::SecretsManager,
            )
        }
        None => from_env_or_data_dir(&Env, data_dir)?,
    };
    let settings = Settings::from_source(
        &Env,
        creds.project_id.clone(),
        creds.secret.clone(),
        creds.pepper_bytes()?,
    )?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ports = Ports {
        store: store(&settings, data_dir, &mut aws).await?,
        mailer: mailer(&settings, data_dir, &mut aws).await?,
        breach: breach_check(&settings, clock.clone())?,
        clock,
    };
    let state = AppState::build(settings, ports).await?;
    Ok((state, creds, source))
}
