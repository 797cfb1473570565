//! One migrate request and what its answer means for the row: imported, a final error, worth
//! retrying, or a sign that the whole run cannot work (credentials refused, no such endpoint).

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use super::credentials::ProjectCredentials;
use super::request::{Endpoint, MigrateRequest};

/// An error for one row, as the server (or the connection) gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// None when no answer came.
    pub status: Option<u16>,
    pub error_type: String,
    pub error_message: String,
}

/// What one request's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Imported {
        created: bool,
    },
    /// A final error for this row (a 4xx about the row).
    Rejected(RowError),
    /// Worth another try: 408, 429, 5xx, or no answer.
    Retry {
        error: RowError,
        /// Whether the request may have taken effect (the server may have processed it).
        maybe_applied: bool,
        /// What the server asked to wait (Retry-After).
        wait: Option<Duration>,
    },
    /// No row can succeed: stop the run.
    Fatal(String),
}

/// Sends migrate requests to one server with the project's credentials.
pub struct MigrateClient {
    http: reqwest::Client,
    base: String,
    credentials: ProjectCredentials,
}

impl MigrateClient {
    /// `base` is the server's URL; the API paths are appended to it.
    pub fn new(base: &str, credentials: ProjectCredentials, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("latch-import/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
        })
    }

    pub fn url(&self, endpoint: Endpoint) -> String {
        format!("{}{}", self.base, endpoint.path())
    }

    /// One request for the row.
    pub async fn send(&self, request: &MigrateRequest) -> Answer {
        let sent = self
            .http
            .post(self.url(request.endpoint))
            .basic_auth(&self.credentials.project_id, Some(&self.credentials.secret))
            .json(&request.body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return no_answer(&e),
        };
        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        match response.bytes().await {
            Ok(body) => classify(request.endpoint, status, &body, wait),
            Err(e) => no_answer(&e),
        }
    }
}

/// A request that got no (complete) answer.
fn no_answer(e: &reqwest::Error) -> Answer {
    let (error_type, maybe_applied) = if e.is_connect() {
        ("connection_failed", false)
    } else if e.is_timeout() {
        ("timeout", true)
    } else {
        ("connection_error", true)
    };
    // Without the URL: it is known, and the message stays short.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    Answer::Retry {
        error: RowError {
            status: None,
            error_type: error_type.into(),
            error_message: message,
        },
        maybe_applied,
        wait: None,
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(60)))
}

/// What an answer with this status and body means for the row.
pub fn classify(endpoint: Endpoint, status: u16, body: &[u8], wait: Option<Duration>) -> Answer {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        let created = json
            .as_ref()
            .and_then(|j| j.get(endpoint.created_field()))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return Answer::Imported { created };
    }
    let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(Value::as_str);
    let envelope = field("error_type").is_some();
    let error = RowError {
        status: Some(status),
        error_type: field("error_type").map_or_else(|| format!("http_{status}"), str::to_owned),
        error_message: field("error_message").map_or_else(
            || {
                let text = String::from_utf8_lossy(body);
                let text: String = text.trim().chars().take(200).collect();
                if text.is_empty() {
                    format!("HTTP {status} with no body")
                } else {
                    text
                }
            },
            str::to_owned,
        ),
    };
    match status {
        401 | 403 => Answer::Fatal(format!(
            "the server refused the project's credentials ({} {}: {})",
            status, error.error_type, error.error_message
        )),
        404 | 405 if !envelope || error.error_type == "route_not_found" || error.error_type == "method_not_allowed" => {
            Answer::Fatal(format!(
                "the server has no {} endpoint (HTTP {status}); is --url the Latch server?",
                endpoint.path()
            ))
        }
        408 | 429 | 500..=599 => Answer::Retry {
            // A 429 was refused before any work; other answers may follow a change.
            maybe_applied: status != 429,
            error,
            wait,
        },
        _ => Answer::Rejected(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(status: u16, error_type: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "status_code": status, "request_id": "request-id-test-1", "error_type": error_type,
            "error_message": "message", "error_url": "https://stytch.com/docs/api-reference/consumer/api/errors/400"
        }))
        .unwrap()
    }

    #[test]
    fn success_answers_say_whether_the_account_was_created() {
        let consumer = br#"{"status_code":200,"request_id":"r","user_id":"user-test-1","user_created":true}"#;
        assert_eq!(
            classify(Endpoint::Consumer, 200, consumer, None),
            Answer::Imported { created: true }
        );
        let b2b = br#"{"status_code":200,"request_id":"r","member_id":"member-test-1","member_created":false}"#;
        assert_eq!(
            classify(Endpoint::B2b, 200, b2b, None),
            Answer::Imported { created: false }
        );
        assert_eq!(
            classify(Endpoint::B2b, 200, br#"{"member_created":true}"#, None),
            Answer::Imported { created: true }
        );
    }

    #[test]
    fn row_errors_are_final_with_the_servers_type_and_message() {
        let a = classify(Endpoint::Consumer, 400, &envelope(400, "invalid_bcrypt_hash"), None);
        assert_eq!(
            a,
            Answer::Rejected(RowError {
                status: Some(400),
                error_type: "invalid_bcrypt_hash".into(),
                error_message: "message".into()
            })
        );
        let a = classify(Endpoint::B2b, 404, &envelope(404, "organization_not_found"), None);
        assert!(matches!(a, Answer::Rejected(e) if e.error_type == "organization_not_found"));
    }

    #[test]
    fn throttling_and_server_errors_are_retried() {
        let a = classify(
            Endpoint::Consumer,
            429,
            &envelope(429, "too_many_requests"),
            Some(Duration::from_secs(2)),
        );
        assert!(
            matches!(&a, Answer::Retry { error, maybe_applied: false, wait: Some(w) }
                if error.error_type == "too_many_requests" && *w == Duration::from_secs(2)),
            "{a:?}"
        );
        let a = classify(Endpoint::Consumer, 502, b"<html>Bad gateway</html>", None);
        assert!(
            matches!(&a, Answer::Retry { error, maybe_applied: true, .. }
                if error.error_type == "http_502" && error.error_message == "<html>Bad gateway</html>"),
            "{a:?}"
        );
        assert!(matches!(
            classify(Endpoint::Consumer, 500, &envelope(500, "internal_server_error"), None),
            Answer::Retry { .. }
        ));
    }

    #[test]
    fn wrong_credentials_or_url_stop_the_run() {
        let a = classify(
            Endpoint::Consumer,
            401,
            &envelope(401, "unauthorized_credentials"),
            None,
        );
        assert!(matches!(&a, Answer::Fatal(m) if m.contains("credentials")), "{a:?}");
        let a = classify(Endpoint::Consumer, 404, &envelope(404, "route_not_found"), None);
        assert!(
            matches!(&a, Answer::Fatal(m) if m.contains("/v1/passwords/migrate")),
            "{a:?}"
        );
        let a = classify(Endpoint::Consumer, 404, b"Not Found", None);
        assert!(matches!(a, Answer::Fatal(_)));
    }

    #[test]
    fn the_secret_goes_in_basic_auth_and_paths_join_the_base() {
        let creds = ProjectCredentials {
            project_id: "p".into(),
            secret: "s".into(),
        };
        let c = MigrateClient::new("http://127.0.0.1:3000/", creds, Duration::from_secs(1)).unwrap();
        assert_eq!(c.url(Endpoint::Consumer), "http://127.0.0.1:3000/v1/passwords/migrate");
        assert_eq!(c.url(Endpoint::B2b), "http://127.0.0.1:3000/v1/b2b/passwords/migrate");
    }
}
