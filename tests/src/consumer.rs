//! Helpers for the consumer suites: the password-reset and session endpoints the suites call
//! again and again, each a thin wrapper over one request (the answer is the caller's to check).

use serde_json::{json, Value};

use crate::{merged, Answer, ResetEmail, TestApp};

impl TestApp {
    /// `POST /v1/passwords/email/reset/start` for `e`, plus `extra`.
    pub async fn reset_start(&self, e: &str, extra: Value) -> Answer {
        self.post("/v1/passwords/email/reset/start", merged(json!({"email": e}), extra))
            .await
    }

    /// Start a reset for `e` (which must succeed); the mail it sent.
    pub async fn start_reset(&self, e: &str) -> ResetEmail {
        self.reset_start(e, json!({})).await.assert_ok();
        self.last_reset_email(e).await
    }

    /// `POST /v1/passwords/email/reset` with this token and password, plus `extra`.
    pub async fn email_reset(&self, token: &str, password: &str, extra: Value) -> Answer {
        self.post(
            "/v1/passwords/email/reset",
            merged(json!({"token": token, "password": password}), extra),
        )
        .await
    }

    /// `POST /v1/passwords/existing_password/reset`.
    pub async fn existing_password_reset(&self, e: &str, existing: &str, new: &str) -> Answer {
        self.post(
            "/v1/passwords/existing_password/reset",
            json!({"email": e, "existing_password": existing, "new_password": new}),
        )
        .await
    }

    /// `POST /v1/passwords/session/reset` with `session`'s token and this password.
    pub async fn session_reset(&self, session: &Value, password: &str) -> Answer {
        self.post(
            "/v1/passwords/session/reset",
            json!({"password": password, "session_token": session["session_token"]}),
        )
        .await
    }

    /// `POST /v1/magic_links/authenticate` with this token, plus `extra`.
    pub async fn magic_link_authenticate(&self, token: &str, extra: Value) -> Answer {
        self.post("/v1/magic_links/authenticate", merged(json!({"token": token}), extra))
            .await
    }

    /// `POST /v1/sessions/authenticate` with `session`'s token (a body that has a
    /// `session_token`: a create, login or reset answer).
    pub async fn authenticate_session(&self, session: &Value) -> Answer {
        self.post(
            "/v1/sessions/authenticate",
            json!({"session_token": session["session_token"]}),
        )
        .await
    }

    /// `session`'s token is refused as revoked (or never issued).
    pub async fn assert_session_gone(&self, session: &Value) {
        self.authenticate_session(session)
            .await
            .assert_error(404, "session_not_found");
    }

    /// `session`'s token still authenticates.
    pub async fn assert_session_alive(&self, session: &Value) {
        self.authenticate_session(session).await.assert_ok();
    }
}
