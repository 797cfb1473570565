//! SES v2: text and HTML parts, the sender and an optional configuration set from settings.

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};
use aws_sdk_sesv2::Client;

use super::{MailError, Mailer, Message};

pub struct Ses {
    client: Client,
    configuration_set: Option<String>,
}

impl Ses {
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        Self {
            client,
            configuration_set,
        }
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError(e.to_string()))
}

#[async_trait::async_trait]
impl Mailer for Ses {
    async fn send(&self, message: &Message) -> Result<String, MailError> {
        let body = Body::builder()
            .text(content(&message.text)?)
            .html(content(&message.html)?)
            .build();
        let email = EmailContent::builder()
            .simple(
                SesMessage::builder()
                    .subject(content(&message.subject)?)
                    .body(body)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&message.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(email)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                // e.g. MessageRejected (unverified sender), TooManyRequestsException, AccountSuspendedException
                Some(service) => MailError(format!(
                    "SES {}: {}",
                    service.code().unwrap_or("error"),
                    service.message().unwrap_or_default()
                )),
                None => MailError(format!("SES unreachable: {e}")),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}
