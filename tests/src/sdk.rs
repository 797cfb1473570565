//! A browser page calling `/sdk/v1` as Stytch's frontend SDK does (docs/frontend-sdk.md): its
//! `Origin` and `X-SDK-Parent-Host`, HTTP Basic `public_token:(session_token | public_token)`,
//! and the `{"data": …}` envelope.

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use crate::{documented, Answer, TestApp};

/// The origin the SDK test apps authorize (`LATCH_SDK_ORIGINS`).
pub const ORIGIN: &str = "http://localhost:8080";

/// An app whose frontend SDK door opens for [`ORIGIN`].
pub async fn sdk_app() -> TestApp {
    TestApp::spawn_with(&[("LATCH_SDK_ORIGINS", ORIGIN)]).await
}

/// An SDK answer: the answer and its headers.
pub struct SdkAnswer {
    pub answer: Answer,
    pub headers: HeaderMap,
}

impl SdkAnswer {
    /// The success's `data`, checked to carry `status_code` and `request_id` inside it.
    #[track_caller]
    pub fn data(&self) -> Value {
        assert_eq!(self.answer.status, 200, "body: {}", self.answer.body);
        assert!(
            self.answer.body.get("status_code").is_none(),
            "a success is wrapped in data: {}",
            self.answer.body
        );
        Answer {
            status: 200,
            body: self.answer.body["data"].clone(),
        }
        .assert_ok()
        .clone()
    }

    /// The success's `data` as an [`Answer`], for checks shared with the backend routes.
    #[track_caller]
    pub fn ok(&self) -> Answer {
        Answer {
            status: 200,
            body: self.data(),
        }
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, error_type: &str) {
        self.answer.assert_error(status, error_type);
    }

    /// The CORS answer a credentialed fetch from `origin` needs.
    #[track_caller]
    pub fn assert_cors_for(&self, origin: &str) {
        let h = |name: &str| self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(h("access-control-allow-origin"), origin, "{:?}", self.headers);
        assert_eq!(h("access-control-allow-credentials"), "true", "{:?}", self.headers);
        assert!(h("vary").to_ascii_lowercase().contains("origin"), "{:?}", self.headers);
    }
}

/// A page on `origin` with the SDK created with `public_token`, holding `session` if logged in.
pub struct Page<'a> {
    pub app: &'a TestApp,
    pub origin: Option<String>,
    pub public_token: String,
    pub session: Option<String>,
}

impl<'a> Page<'a> {
    /// A logged-out page on [`ORIGIN`] with the app's own public token.
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            origin: Some(ORIGIN.into()),
            public_token: app.state.settings.sdk.public_token.clone(),
            session: None,
        }
    }

    /// The request as the SDK's fetch makes it.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> SdkAnswer {
        let password = self.session.as_deref().unwrap_or(&self.public_token);
        let mut req = self
            .app
            .http
            .request(method.clone(), format!("{}{path}", self.app.base))
            .basic_auth(&self.public_token, Some(password))
            .header("content-type", "application/json")
            .header("x-sdk-client", "eyJzZGsiOnt9fQ==");
        if let Some(origin) = &self.origin {
            req = req.header("origin", origin).header("x-sdk-parent-host", origin);
        }
        if let Some(b) = body {
            req = req.body(serde_json::to_vec(b).unwrap());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body ({status}): {text:?}"));
        documented::check(method.as_str(), path, status, &body);
        SdkAnswer {
            answer: Answer { status, body },
            headers,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> SdkAnswer {
        self.send(Method::POST, path, Some(&body)).await
    }

    pub async fn get(&self, path: &str) -> SdkAnswer {
        self.send(Method::GET, path, None).await
    }

    /// Keep the session a successful authenticate answered with, as the SDK does (its cookie).
    pub fn keep_session(&mut self, data: &Value) {
        let token = data["session_token"].as_str().unwrap_or_default();
        self.session = (!token.is_empty()).then(|| token.to_string());
    }
}

/// A browser's CORS preflight from `origin` for `method path`.
pub async fn preflight(app: &TestApp, origin: &str, method: &str, path: &str) -> (u16, HeaderMap) {
    let resp = app
        .http
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-sdk-client,x-sdk-parent-host",
        )
        .send()
        .await
        .expect("preflight");
    (resp.status().as_u16(), resp.headers().clone())
}
