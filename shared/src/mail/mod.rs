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

#[derive(Debug, thiserror::Error)]
#[error("mail could not be sent: {0}")]
pub struct MailError(pub String);

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Send or deliver the message; returns an id (a file name, a provider message id).
    async fn send(&self, message: &Message) -> Result<String, MailError>;
}
