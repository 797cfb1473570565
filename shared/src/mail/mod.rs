//! Mail as a port: the local outbox (default for `latch serve`) or SES (production).

pub mod outbox;
pub mod ses;
pub mod templates;

/// One message, with both a text and an HTML body.
#[derive(Debug, Clone)]
pub struct Message {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The links the message carries, for the outbox's log line.
    pub links: Vec<String>,
}

/// Why a message did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailFailure {
    /// The service could not take it now (down, out of reach, throttled): the same message may
    /// go through later.
    Unavailable,
    /// The service refused this message (an unverified sender or recipient, a paused or
    /// suspended account): sending it again fails the same way until the operator acts.
    Refused,
}

#[derive(Debug, thiserror::Error)]
#[error("mail could not be sent: {detail}")]
pub struct MailError {
    pub failure: MailFailure,
    pub detail: String,
}

impl MailError {
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            failure: MailFailure::Unavailable,
            detail: detail.into(),
        }
    }

    pub fn refused(detail: impl Into<String>) -> Self {
        Self {
            failure: MailFailure::Refused,
            detail: detail.into(),
        }
    }
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Send or deliver the message; returns an id (a file name, a provider message id).
    async fn send(&self, message: &Message) -> Result<String, MailError>;
}
