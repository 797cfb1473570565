//! The local outbox: each message is an RFC 5322 `.eml` file (multipart/alternative, text and
//! HTML) under `<data-dir>/outbox/`, readable by any mail client, plus a log line naming the
//! file and its links so a developer can follow them straight from the terminal. The links carry
//! live tokens: this adapter is for local use, where the file holds them in clear anyway.

use std::path::PathBuf;

use super::{MailError, Mailer, Message};

pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

/// Render a message as RFC 5322 text with CRLF line ends.
pub fn render_eml(message: &Message, message_id: &str, date: chrono::DateTime<chrono::Utc>) -> String {
    let boundary = format!("latch-{}", uuid::Uuid::new_v4().simple());
    let crlf = |s: &str| s.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut out = String::new();
    for (name, value) in [
        ("From", message.from.as_str()),
        ("To", message.to.as_str()),
        ("Subject", message.subject.as_str()),
        ("Date", &date.to_rfc2822()),
        ("Message-ID", &format!("<{message_id}>")),
        ("MIME-Version", "1.0"),
        (
            "Content-Type",
            &format!("multipart/alternative; boundary=\"{boundary}\""),
        ),
    ] {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    for (kind, body) in [("text/plain", &message.text), ("text/html", &message.html)] {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
            crlf(body)
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, message: &Message) -> Result<String, MailError> {
        let now = chrono::Utc::now();
        let id = uuid::Uuid::new_v4();
        let name = format!("{}-{}.eml", now.format("%Y%m%dT%H%M%S%.3fZ"), id.simple());
        let message_id = format!("{}@latch.local", id.simple());
        let body = render_eml(message, &message_id, now);
        let (dir, final_path) = (self.dir.clone(), self.dir.join(&name));
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let written = final_path.clone();
        // Write then rename, so a reader never sees half a message.
        // 0600 in a 0700 directory: the message holds live tokens (docs/security.md X3).
        crate::blocking::spawn(move || -> std::io::Result<()> {
            crate::files::private_dir(&dir)?;
            let mut file = crate::files::create_new_private().open(&tmp)?;
            std::io::Write::write_all(&mut file, body.as_bytes())?;
            drop(file);
            std::fs::rename(&tmp, &written)
        })
        .await
        .map_err(|e| MailError::unavailable(e.to_string()))?
        .map_err(|e| MailError::unavailable(format!("{}: {e}", final_path.display())))?;
        tracing::info!(file = %final_path.display(), to = %message.to, links = ?message.links, "mail written to the outbox");
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_is_multipart_alternative_with_crlf() {
        let m = Message {
            to: "a@example.com".into(),
            from: "Latch <no-reply@latch.local>".into(),
            subject: "Hi".into(),
            text: "line one\nline two".into(),
            html: "<p>hi</p>".into(),
            links: vec![],
        };
        let eml = render_eml(&m, "x@latch.local", chrono::Utc::now());
        assert!(eml.starts_with("From: Latch <no-reply@latch.local>\r\nTo: a@example.com\r\n"));
        assert!(eml.contains("Content-Type: multipart/alternative; boundary="));
        assert!(eml.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(eml.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(eml.contains("line one\r\nline two"));
        assert!(!eml.replace("\r\n", "").contains('\n'), "bare LF in the message");
    }
}
