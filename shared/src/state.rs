//! Everything a request needs, built once at start-up (or Lambda cold start) and shared.

use std::ops::Deref;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::credentials::ExpectedBasicAuth;
use crate::domain::ids::IdEnvironment;
use crate::hashing::Hasher;
use crate::mail::templates::{Template, B2B_LOGIN, B2B_SIGNUP, RESET_PASSWORD};
use crate::mail::Mailer;
use crate::policy::{BreachCheck, Policy};
use crate::sessions::keys::SigningKeys;
use crate::sessions::tokens::TokenDigester;
use crate::sessions::SessionManager;
use crate::startup::StartupError;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub credentials: ExpectedBasicAuth,
    pub env: IdEnvironment,
    pub store: Arc<dyn Store>,
    pub hasher: Arc<Hasher>,
    pub policy: Policy,
    pub sessions: SessionManager,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub reset_template: Template,
    pub b2b_login_template: Template,
    pub b2b_signup_template: Template,
    /// Encrypts members' TOTP secrets at rest.
    pub totp_sealer: crate::totp::SecretSealer,
    /// When a reset start answers, known address or not (`crate::timing`).
    pub reset_latency: crate::account_enumeration::LatencyMirror,
}

/// The adapters a host plugs in.
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub breach: Arc<dyn BreachCheck>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Wire the ports together. Loads (or creates) the signing keys from the store.
    pub async fn build(settings: Settings, ports: Ports) -> Result<Self, StartupError> {
        let Ports {
            store,
            breach,
            mailer,
            clock,
        } = ports;
        let template_dir = settings.email.template_dir.as_deref();
        let reset_template = Template::load(RESET_PASSWORD, template_dir)?;
        let b2b_login_template = Template::load(B2B_LOGIN, template_dir)?;
        let b2b_signup_template = Template::load(B2B_SIGNUP, template_dir)?;
        let totp_sealer = crate::totp::SecretSealer::new(&settings.token_pepper);
        let env = IdEnvironment::for_project(&settings.project_id);
        let hasher = Hasher::new(settings.hashing).map_err(|e| StartupError::invalid("argon2 parameters", e))?;
        let keys = SigningKeys::load_or_create(
            store.as_ref(),
            &crate::sessions::keys::sealer(&settings.token_pepper),
            env,
            clock.now(),
        )
        .await?;
        let sessions = SessionManager::new(
            store.clone(),
            keys,
            TokenDigester::new(settings.token_pepper.clone()),
            settings.project_id.clone(),
            env,
        );
        let policy = Policy::new(settings.strength, settings.breach.clone(), breach);
        let reset_latency = crate::account_enumeration::LatencyMirror::new(settings.email.reset_start_min);
        Ok(Self(Arc::new(Inner {
            credentials: ExpectedBasicAuth::new(&settings.project_id, &settings.secret),
            settings,
            env,
            store,
            hasher,
            policy,
            sessions,
            clock,
            mailer,
            reset_template,
            b2b_login_template,
            b2b_signup_template,
            totp_sealer,
            reset_latency,
        })))
    }
}
