//! Why Latch could not start. Each variant names what failed and keeps its source, so the one
//! message a host prints (`latch serve`, a Lambda cold start) carries the whole cause chain.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A file or directory Latch reads or writes at start-up.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file Latch wrote (credentials.json) that does not parse.
    #[error("{}: {source}", path.display())]
    Malformed {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A setting out of range or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A value that is present but unusable, with what it is and why.
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
    /// A Secrets Manager secret that could not be read or does not hold what Latch needs.
    #[error("secret {id}: {reason}")]
    Secret { id: String, reason: String },
    /// The store did not answer or refused (the signing keys, the table).
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    /// A signing key that cannot be used.
    #[error("signing key {kid}: {reason}")]
    SigningKey { kid: String, reason: String },
    /// This build lacks what the settings ask for.
    #[error("{0}")]
    Unsupported(&'static str),
}

impl StartupError {
    pub fn invalid(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::File {
            path: path.into(),
            source,
        }
    }
}
