//! SES v2: text and HTML parts, the sender and an optional configuration set from settings.

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};
use aws_sdk_sesv2::Client;

use super::{MailError, Mailer, Message};

/// SES's answers that mean "not now" rather than "not this message".
const SES_NOT_NOW: [&str; 2] = ["TooManyRequestsException", "LimitExceededException"];

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
        .map_err(|e| MailError::refused(e.to_string()))
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
                // The SDK has already tried a throttled or failing send again (aws_calls.rs).
                Some(service) => {
                    let code = service.code().unwrap_or("error");
                    let detail = format!("SES {code}: {}", service.message().unwrap_or_default());
                    if SES_NOT_NOW.contains(&code) || e.raw_response().is_some_and(|r| r.status().is_server_error()) {
                        MailError::unavailable(detail)
                    } else {
                        // MessageRejected, MailFromDomainNotVerifiedException, SendingPausedException,
                        // AccountSuspendedException, NotFoundException (a configuration set), …
                        MailError::refused(detail)
                    }
                }
                None => MailError::unavailable(format!("SES unreachable: {e}")),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}
