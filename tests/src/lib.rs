//! Helpers for the black-box suites: a Latch app on an ephemeral loopback port with its own
//! store, a manual clock and a local HaveIBeenPwned stub, plus a small JSON client.

pub mod aws_stub;
pub mod b2b;
pub mod consumer;
pub mod documented;
pub mod faults;
pub mod hibp_stub;
pub mod sdk;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use latch::clock::ManualClock;
use latch::config::Settings;
use latch::mail::outbox::Outbox;
use latch::mail::{MailError, Mailer, Message};
use latch::state::Ports;
use latch::store::sqlite::SqliteStore;
use latch::AppState;
use serde_json::Value;

pub use hibp_stub::{HibpMode, HibpStub};

pub const PROJECT_ID: &str = "project-test-00000000-0000-4000-8000-000000000000";
pub const SECRET: &str = "secret-test-black-box";

/// A password zxcvbn scores 4 and the stub does not list (until told to).
pub const STRONG: &str = "violet staple correct battery horse 42";

/// The password a test's attacker tries with a link that must be dead.
pub const ATTACKER: &str = "an attacker's passphrase: moss lantern 58";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub hibp: HibpStub,
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// Present for `spawn_faulty` apps.
    pub faults: Option<Arc<faults::FaultyStore>>,
    /// Present for `spawn_behind_aws_proxy` apps: the fault proxy between the store and the
    /// emulator.
    pub aws_proxy: Option<Arc<aws_stub::ScriptedAws>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// An HTTP answer: status and parsed JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// Checks the answer against the OpenAPI document (`documented::check`).
    fn assert_documented(&self, method: &str, path: &str) {
        documented::check(method, path, self.status, &self.body);
    }

    pub fn error_type(&self) -> &str {
        self.body["error_type"].as_str().unwrap_or("")
    }

    /// Assert a Stytch error envelope with this status and type.
    #[track_caller]
    pub fn assert_error(&self, status: u16, error_type: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.error_type(), error_type, "body: {}", self.body);
        assert_eq!(self.body["status_code"], status, "body: {}", self.body);
        self.assert_request_id();
        assert!(
            self.body["error_message"].as_str().is_some_and(|m| !m.is_empty()),
            "body: {}",
            self.body
        );
        assert!(
            self.body["error_url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://")),
            "body: {}",
            self.body
        );
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, 200, "body: {}", self.body);
        assert_eq!(self.body["status_code"], 200, "body: {}", self.body);
        self.assert_request_id();
        &self.body
    }

    /// The envelope's `request_id` is one of ours.
    #[track_caller]
    fn assert_request_id(&self) {
        assert!(
            self.body["request_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("request-id-")),
            "body: {}",
            self.body
        );
    }

    /// The answer to a sent request, its body parsed as JSON and checked against the OpenAPI
    /// document.
    async fn read(resp: reqwest::Response, method: &str, path: &str) -> Self {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body ({status}): {text:?}"));
        let answer = Answer { status, body };
        answer.assert_documented(method, path);
        answer
    }
}

/// Which faults an app's store can be made to meet.
enum Injected {
    Nothing,
    /// `faults::FaultyStore` around the store.
    Store,
    /// `aws_stub::ScriptedAws::proxy` between the DynamoDB store and the emulator.
    AwsProxy,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Start an app whose settings are the defaults plus `vars` (LATCH_* names).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        Self::spawn_custom(vars, None).await
    }

    /// Start an app with these settings and, if given, this mailer instead of the outbox.
    pub async fn spawn_custom(vars: &[(&str, &str)], mailer: Option<Arc<dyn Mailer>>) -> Self {
        Self::spawn_full(vars, mailer, Injected::Nothing).await
    }

    /// On DynamoDB, an app whose store reaches the emulator through a fault proxy
    /// (`app.aws_proxy`); `None` on SQLite, which has no requests to cut.
    pub async fn spawn_behind_aws_proxy() -> Option<Self> {
        Self::spawn_behind_aws_proxy_with(&[]).await
    }

    /// `spawn_behind_aws_proxy` with these settings.
    pub async fn spawn_behind_aws_proxy_with(vars: &[(&str, &str)]) -> Option<Self> {
        on_dynamo().then_some(())?;
        Some(Self::spawn_full(vars, None, Injected::AwsProxy).await)
    }

    /// An app whose store fails on demand (`app.faults`).
    pub async fn spawn_faulty() -> Self {
        Self::spawn_faulty_with(&[]).await
    }

    /// A faulty app with these settings.
    pub async fn spawn_faulty_with(vars: &[(&str, &str)]) -> Self {
        Self::spawn_full(vars, None, Injected::Store).await
    }

    async fn spawn_full(vars: &[(&str, &str)], mailer: Option<Arc<dyn Mailer>>, injected: Injected) -> Self {
        let hibp = HibpStub::start().await;
        let mut map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        map.entry("LATCH_HIBP_URL".into()).or_insert_with(|| hibp.url());
        if std::env::var("LATCH_TEST_BACKEND").as_deref() == Ok("dynamodb") {
            map.entry("LATCH_MAIL_FROM".into()).or_insert_with(|| SES_FROM.into());
        }
        let source = move |k: &str| map.get(k).cloned();
        let settings =
            Settings::from_source(&source, PROJECT_ID.into(), SECRET.into(), vec![7; 32]).expect("test settings");
        let data_dir = std::env::temp_dir().join(format!("latch-test-{}", uuid_like()));
        let backend = Backend::from_env().await;
        let mut store = backend.store_with(&data_dir, settings.sqlite_busy_timeout).await;
        let faults = matches!(injected, Injected::Store).then(|| Arc::new(faults::FaultyStore::new(store.clone())));
        if let Some(f) = &faults {
            store = f.clone();
        }
        let aws_proxy = match (&injected, &backend) {
            (
                Injected::AwsProxy,
                Backend::Dynamo {
                    table,
                    endpoint,
                    config,
                    ..
                },
            ) => {
                let proxy = Arc::new(aws_stub::ScriptedAws::proxy(endpoint).await);
                store = Arc::new(latch::store::dynamo::DynamoStore::new(
                    proxy.dynamodb_in_front_of(config),
                    table.clone(),
                ));
                Some(proxy)
            }
            (Injected::AwsProxy, Backend::Sqlite) => panic!("the AWS fault proxy needs DynamoDB"),
            _ => None,
        };
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let breach = latch::bootstrap::breach_check(&settings, clock.clone()).expect("breach client");
        let mailer: Arc<dyn Mailer> = match mailer {
            Some(m) => m,
            None => backend.mailer(&data_dir),
        };
        let ports = Ports {
            store,
            breach,
            mailer,
            clock: clock.clone(),
        };
        let state = AppState::build(settings, ports).await.expect("state");
        let mut app = Self::serve(state, clock, hibp, data_dir, backend).await;
        app.faults = faults;
        app.aws_proxy = aws_proxy;
        app
    }

    async fn serve(
        state: AppState,
        clock: Arc<ManualClock>,
        hibp: HibpStub,
        data_dir: PathBuf,
        backend: Backend,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = latch::router(state.clone());
        // The server `latch serve` runs, with its timeouts and limits from the settings.
        let limits = state.settings.serve;
        let server = tokio::spawn(async move {
            latch::server::serve(listener, router, limits, None, std::future::pending())
                .await
                .unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            clock,
            hibp,
            data_dir,
            backend,
            faults: None,
            aws_proxy: None,
            server,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        auth: Option<(&str, &str)>,
    ) -> Answer {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some((user, pass)) = auth {
            req = req.basic_auth(user, Some(pass));
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        Answer::read(resp, method.as_str(), path).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(&body), Some((PROJECT_ID, SECRET)))
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None, Some((PROJECT_ID, SECRET)))
            .await
    }

    /// `GET` without credentials (the public JWKS routes).
    pub async fn get_public(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None, Some((PROJECT_ID, SECRET)))
            .await
    }

    /// A raw body (not JSON-encoded by the client), for malformed-input tests.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Answer {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(PROJECT_ID, Some(SECRET))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        Answer::read(resp, "POST", path).await
    }

    /// Create a user with `STRONG`-like password; returns the create response body.
    pub async fn create_user(&self, email: &str, password: &str, session_minutes: Option<i64>) -> Value {
        self.post("/v1/passwords", credentials(email, password, session_minutes))
            .await
            .assert_ok()
            .clone()
    }

    pub async fn login(&self, email: &str, password: &str, session_minutes: Option<i64>) -> Answer {
        self.post(
            "/v1/passwords/authenticate",
            credentials(email, password, session_minutes),
        )
        .await
    }

    /// Every message sent to `to`, oldest first, unparsed: from the outbox files, or from the
    /// SES emulator's record of sent mail (which keeps the HTML part only).
    pub async fn raw_mail_to(&self, to: &str) -> Vec<String> {
        match &self.backend {
            Backend::Sqlite => {
                let dir = self.data_dir.join("outbox");
                let mut paths: Vec<_> = match std::fs::read_dir(&dir) {
                    Ok(rd) => rd
                        .map(|e| e.unwrap().path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .collect(),
                    Err(_) => vec![],
                };
                paths.sort();
                paths
                    .iter()
                    .map(|p| std::fs::read_to_string(p).unwrap())
                    .filter(|m| m.contains(&format!("To: {to}\r\n")))
                    .collect()
            }
            Backend::Dynamo { endpoint, .. } => ses_field_of_mail_to(&self.http, endpoint, to, "body").await,
        }
    }

    /// The subject of every message sent to `to`, oldest first: the outbox file's `Subject:`
    /// header, or the SES emulator's record of it.
    pub async fn mail_subjects_to(&self, to: &str) -> Vec<String> {
        match &self.backend {
            Backend::Sqlite => self
                .raw_mail_to(to)
                .await
                .iter()
                .map(|eml| {
                    let headers = eml.split("\r\n\r\n").next().unwrap_or_default();
                    headers
                        .split("\r\n")
                        .find_map(|h| h.strip_prefix("Subject: "))
                        .unwrap_or_else(|| panic!("no Subject header in {eml}"))
                        .to_string()
                })
                .collect(),
            Backend::Dynamo { endpoint, .. } => ses_field_of_mail_to(&self.http, endpoint, to, "subject").await,
        }
    }

    /// Every consumer reset email sent to `to`, oldest first, with its links' tokens.
    pub async fn mail_to(&self, to: &str) -> Vec<ResetEmail> {
        self.raw_mail_to(to).await.into_iter().map(ResetEmail::parse).collect()
    }

    /// The newest message to `to`, with its reset and login links' tokens.
    pub async fn last_reset_email(&self, to: &str) -> ResetEmail {
        self.mail_to(to)
            .await
            .pop()
            .unwrap_or_else(|| panic!("no mail to {to}"))
    }

    /// docs/security.md R7: both links of a consumer reset mail sent before a password change
    /// are refused (the magic link first: it changes nothing, so a failure of the reset link is
    /// not hidden by it).
    pub async fn assert_reset_mail_dead(&self, mail: &ResetEmail) {
        self.magic_link_authenticate(&mail.login_token, serde_json::json!({"session_duration_minutes": 60}))
            .await
            .assert_error(401, "unable_to_auth_magic_link");
        self.email_reset(&mail.reset_token, ATTACKER, serde_json::json!({}))
            .await
            .assert_error(401, "unable_to_auth_password_reset_token");
    }

    /// Everything the store holds, as bytes, for scans for secrets: the SQLite files, or every
    /// item of the DynamoDB table.
    pub async fn store_dump(&self) -> Vec<u8> {
        match &self.backend {
            Backend::Sqlite => {
                let mut bytes = std::fs::read(self.data_dir.join("latch.sqlite3")).unwrap();
                bytes.extend(std::fs::read(self.data_dir.join("latch.sqlite3-wal")).unwrap_or_default());
                bytes
            }
            Backend::Dynamo { client, table, .. } => format!("{:?}", scan(client, table).await).into_bytes(),
        }
    }

    /// Records that should not exist on their own: a session or token whose user is gone, a
    /// user without its email guard (or the reverse), a lookup item without its session, a token
    /// without its pointer, a member without its organization, pointer or entry by email (or the
    /// reverse), an organization without its slug guard (or the reverse). Empty when the store is
    /// consistent (docs/security.md F1).
    pub async fn orphans(&self) -> Vec<String> {
        match &self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.data_dir.join("latch.sqlite3")).unwrap();
                let mut found = vec![];
                for (what, sql) in [
                    (
                        "session without user",
                        "SELECT session_id FROM sessions WHERE user_id NOT IN (SELECT user_id FROM users)",
                    ),
                    (
                        "token without user",
                        "SELECT token_digest FROM tokens WHERE user_id NOT IN (SELECT user_id FROM users)",
                    ),
                    (
                        "member without organization",
                        "SELECT user_id FROM org_members WHERE organization_id NOT IN \
                         (SELECT organization_id FROM organizations)",
                    ),
                    (
                        "member row without member",
                        "SELECT user_id FROM org_members WHERE user_id NOT IN (SELECT user_id FROM users)",
                    ),
                    (
                        "member without its row",
                        "SELECT user_id FROM users WHERE json_extract(data, '$.member.organization_id') IS NOT NULL \
                         AND user_id NOT IN (SELECT user_id FROM org_members)",
                    ),
                ] {
                    let mut stmt = conn.prepare(sql).unwrap();
                    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
                    found.extend(rows.map(|r| format!("{what}: {}", r.unwrap())));
                }
                found
            }
            Backend::Dynamo { client, table, .. } => dynamo_orphans(&scan(client, table).await),
        }
    }

    /// How many emailed-token records the store holds.
    pub async fn token_count(&self) -> usize {
        match &self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.data_dir.join("latch.sqlite3")).unwrap();
                conn.query_row("SELECT COUNT(*) FROM tokens", [], |r| r.get::<_, i64>(0))
                    .unwrap() as usize
            }
            Backend::Dynamo { client, table, .. } => scan(client, table)
                .await
                .iter()
                .filter(|i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with("TOKEN#")))
                .count(),
        }
    }

    pub fn verifications(&self) -> u64 {
        self.state.hasher.verification_count()
    }

    /// The private signing key `kid` as PKCS#8 PEM, read from the store and unsealed with the
    /// app's pepper: what Latch signs with, for tests that must sign as Latch does.
    pub async fn signing_key_pem(&self, kid: &str) -> String {
        use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
        let records = self.state.store.signing_keys().await.unwrap();
        let record = records
            .iter()
            .find(|r| r.kid == kid)
            .unwrap_or_else(|| panic!("no signing key {kid}"));
        let sealer = latch::sessions::keys::sealer(&self.state.settings.token_pepper);
        let der = latch::sessions::keys::private_key_der(record, &sealer).unwrap();
        rsa::RsaPrivateKey::from_pkcs8_der(&der)
            .unwrap()
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .to_string()
    }
}

/// A unique email for one test.
/// `field` (`body`, `subject`) of every message the SES emulator sent to `to`, oldest first.
async fn ses_field_of_mail_to(http: &reqwest::Client, endpoint: &str, to: &str, field: &str) -> Vec<String> {
    moto_data(http, endpoint).await["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == to))
        })
        .map(|m| m[field].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The claims of a session JWT verified with this JWK: RS256, Latch's issuer and the project as
/// audience, the registered claims present. Panics if it does not verify.
pub fn verify_jwt(jwt: &str, jwk: &Value) -> Value {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let decoding = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[PROJECT_ID]);
    validation.set_issuer(&[format!("stytch.com/{PROJECT_ID}")]);
    validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(jwt, &decoding, &validation)
        .expect("verifies with the published key")
        .claims
}

/// The body of a password create or login.
fn credentials(email: &str, password: &str, session_minutes: Option<i64>) -> Value {
    let mut body = serde_json::json!({"email": email, "password": password});
    if let Some(m) = session_minutes {
        body["session_duration_minutes"] = m.into();
    }
    body
}

/// `body` with the fields of `extra` (an object) added or replaced.
pub fn merged(mut body: Value, extra: Value) -> Value {
    if let Value::Object(m) = extra {
        body.as_object_mut().expect("an object body").extend(m);
    }
    body
}

pub fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid_like())
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{}-{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

/// A reset email read back from the outbox.
#[derive(Debug, Clone)]
pub struct ResetEmail {
    pub eml: String,
    pub reset_url: String,
    pub login_url: String,
    pub reset_token: String,
    pub login_token: String,
}

impl ResetEmail {
    /// From an `.eml` (links alone on their lines in the text part) or an HTML body (links in
    /// `href`s: the SES emulator records only the HTML part).
    pub fn parse(eml: String) -> Self {
        let mut links: Vec<String> = eml
            .lines()
            .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            .map(str::to_string)
            .collect();
        links.extend(
            eml.split("href=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .map(|h| h.replace("&amp;", "&")),
        );
        let find = |kind: &str| {
            links
                .iter()
                .find(|l| l.contains(&format!("stytch_token_type={kind}&")))
                .unwrap_or_else(|| panic!("no {kind} link in {eml}"))
                .clone()
        };
        let (reset_url, login_url) = (find("reset_password"), find("magic_links"));
        let token = |url: &str| {
            reqwest::Url::parse(url)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        Self {
            reset_token: token(&reset_url),
            login_token: token(&login_url),
            eml,
            reset_url,
            login_url,
        }
    }
}

/// A mailer that always fails, for docs/security.md F2.
pub struct FailingMailer;

#[async_trait::async_trait]
impl Mailer for FailingMailer {
    async fn send(&self, _: &Message) -> Result<String, MailError> {
        Err(MailError::unavailable("the mail service is down (test)"))
    }
}

/// Which store and mailer the suite runs against: `LATCH_TEST_BACKEND=dynamodb` selects
/// DynamoDB and SES where `AWS_ENDPOINT_URL` points (the test command starts moto there), a
/// fresh table per app; anything else, SQLite and the outbox in a temporary directory.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // one per test app; boxing would only add noise
pub enum Backend {
    Sqlite,
    Dynamo {
        client: aws_sdk_dynamodb::Client,
        table: String,
        endpoint: String,
        config: aws_config::SdkConfig,
    },
}

/// The sender the SES emulator knows (the test command verifies it).
pub const SES_FROM: &str = "auth@latch.test";

impl Backend {
    pub async fn from_env() -> Self {
        if std::env::var("LATCH_TEST_BACKEND").as_deref() != Ok("dynamodb") {
            return Backend::Sqlite;
        }
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .expect("LATCH_TEST_BACKEND=dynamodb needs AWS_ENDPOINT_URL (the emulator)");
        let config = latch::bootstrap::aws_config().await.expect("the AWS settings");
        let client = aws_sdk_dynamodb::Client::new(&config);
        let table = format!("latch-test-{}", uuid_like());
        latch::store::dynamo::table::create(&client, &table)
            .await
            .expect("create table");
        Backend::Dynamo {
            client,
            table,
            endpoint,
            config,
        }
    }

    pub async fn store(&self, data_dir: &std::path::Path) -> Arc<dyn latch::store::Store> {
        self.store_with(data_dir, std::time::Duration::from_secs(5)).await
    }

    /// The store, SQLite's writes waiting at most `busy_timeout` for the write lock.
    pub async fn store_with(
        &self,
        data_dir: &std::path::Path,
        busy_timeout: std::time::Duration,
    ) -> Arc<dyn latch::store::Store> {
        match self {
            Backend::Sqlite => Arc::new(SqliteStore::open_dir_with(data_dir, busy_timeout).expect("store")),
            Backend::Dynamo { client, table, .. } => {
                Arc::new(latch::store::dynamo::DynamoStore::new(client.clone(), table.clone()))
            }
        }
    }

    pub fn mailer(&self, data_dir: &std::path::Path) -> Arc<dyn Mailer> {
        match self {
            Backend::Sqlite => Arc::new(Outbox::new(data_dir.join("outbox"))),
            Backend::Dynamo { config, .. } => {
                Arc::new(latch::mail::ses::Ses::new(aws_sdk_sesv2::Client::new(config), None))
            }
        }
    }

    pub fn is_dynamo(&self) -> bool {
        matches!(self, Backend::Dynamo { .. })
    }
}

/// Every item of a table (all pages).
pub async fn scan(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return items,
        }
    }
}

/// A fresh store of the selected backend, for the conformance suite.
pub async fn fresh_store() -> (Arc<dyn latch::store::Store>, Backend) {
    let (store, _, backend) = fresh_store_twice().await;
    (store, backend)
}

/// Two handles on one fresh store, as two processes have: what one learnt (DynamoDB's addresses,
/// `Store::session_context`) the other does not know.
pub async fn fresh_store_twice() -> (Arc<dyn latch::store::Store>, Arc<dyn latch::store::Store>, Backend) {
    let backend = Backend::from_env().await;
    let dir = std::env::temp_dir().join(format!("latch-conformance-{}", uuid_like()));
    (backend.store(&dir).await, backend.store(&dir).await, backend)
}

/// The mail the emulator's SES recorded (scripts/moto_serial.py serves this part of moto's state
/// dump alone, so a read does not grow with the table). Should a read catch moto mid-change and
/// not parse, a retry gets a consistent copy.
async fn moto_data(http: &reqwest::Client, endpoint: &str) -> Value {
    let mut last = String::new();
    for _ in 0..10 {
        let resp = http
            .get(format!("{endpoint}/moto-api/latch/ses.json"))
            .send()
            .await
            .unwrap();
        let text = resp.text().await.unwrap();
        match serde_json::from_str(&text) {
            Ok(v) => return v,
            Err(_) => last = text,
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the emulator's SES messages never parsed: {}",
        &last[..last.len().min(300)]
    );
}

fn attr<'a>(item: &'a std::collections::HashMap<String, AttributeValue>, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v,
        _ => "",
    }
}

/// The structural check of docs/dynamodb.md's layout over a full scan.
pub fn dynamo_orphans(items: &[std::collections::HashMap<String, AttributeValue>]) -> Vec<String> {
    use std::collections::HashMap;
    let by_key: HashMap<(String, String), &HashMap<String, AttributeValue>> = items
        .iter()
        .map(|i| ((attr(i, "pk").to_string(), attr(i, "sk").to_string()), i))
        .collect();
    let get = |pk: String, sk: &str| by_key.get(&(pk, sk.to_string())).copied();
    let has = |pk: String, sk: &str| get(pk, sk).is_some();
    let mut found = vec![];
    for i in items {
        let (pk, sk) = (attr(i, "pk"), attr(i, "sk"));
        let user_of = |i| format!("USER#{}", attr(i, "user_id"));
        // A user's record lives in its email's partition; `USER#<id>` `PROFILE` points to it.
        let record_of = |user_id: &str| {
            get(format!("USER#{user_id}"), "PROFILE")
                .and_then(|p| get(format!("EMAIL#{}", attr(p, "email_key")), "USER"))
        };
        let data_of = |user_id: &str| -> serde_json::Value {
            record_of(user_id)
                .map(|m| serde_json::from_str(attr(m, "data")).unwrap_or_default())
                .unwrap_or_default()
        };
        let problem = match (pk.split_once('#').map(|(k, _)| k).unwrap_or(pk), sk) {
            ("EMAIL", "USER") => {
                let data: serde_json::Value = serde_json::from_str(attr(i, "data")).unwrap_or_default();
                let email = data["email"].as_str().unwrap_or_default();
                let user_id = attr(i, "user_id");
                let pointer = get(format!("USER#{user_id}"), "PROFILE");
                // A member's record is keyed within its organization (`records::email_key`).
                let key = match data["member"]["organization_id"].as_str() {
                    None => email.to_string(),
                    Some(org) => format!("{org} {email}"),
                };
                if pk != format!("EMAIL#{key}") {
                    Some("user record under another address")
                } else if pointer.map(|p| attr(p, "email_key")) != Some(key.as_str()) {
                    Some("user record without its pointer")
                } else {
                    match data["member"]["organization_id"].as_str() {
                        None => None,
                        Some(org) => {
                            if !has(format!("ORG#{org}"), &format!("MEMBER#{user_id}")) {
                                Some("member without its pointer")
                            } else if !has(format!("MEMBERS#{email}"), &format!("MEMBER#{user_id}")) {
                                Some("member without its entry by email")
                            } else if !has(format!("ORG#{org}"), "PROFILE") {
                                Some("member without organization")
                            } else {
                                None
                            }
                        }
                    }
                }
            }
            ("USER", "PROFILE") => {
                let record = get(format!("EMAIL#{}", attr(i, "email_key")), "USER");
                (record.map(|r| attr(r, "user_id")) != Some(&pk["USER#".len()..])).then_some("pointer without user")
            }
            ("SESSION", "SESSION") => {
                let id = &pk["SESSION#".len()..];
                if !has(user_of(i), "PROFILE") {
                    Some("session without user")
                } else if !has(format!("STOKEN#{}", attr(i, "token_digest")), "STOKEN")
                    || !has(user_of(i), &format!("SESSION#{id}"))
                {
                    Some("session without its lookups")
                } else {
                    None
                }
            }
            ("STOKEN", _) => (!has(format!("SESSION#{}", attr(i, "session_id")), "SESSION"))
                .then_some("token lookup without session"),
            ("USER", s) if s.starts_with("SESSION#") => {
                (!has(s.to_string(), "SESSION")).then_some("session pointer without session")
            }
            ("TOKEN", _) => {
                let pointer = format!("TOKEN#{}", &pk["TOKEN#".len()..]);
                (!has(user_of(i), "PROFILE") || !has(user_of(i), &pointer)).then_some("token without user or pointer")
            }
            ("USER", s) if s.starts_with("TOKEN#") => {
                (!has(s.to_string(), "TOKEN")).then_some("token pointer without token")
            }
            ("ORG", "PROFILE") => {
                let guard = get(format!("SLUG#{}", attr(i, "slug")), "SLUG");
                (guard.map(|g| attr(g, "organization_id")) != Some(&pk["ORG#".len()..]))
                    .then_some("organization without its slug guard")
            }
            ("SLUG", _) => {
                let org = get(format!("ORG#{}", attr(i, "organization_id")), "PROFILE");
                (org.map(|o| attr(o, "slug")) != Some(&pk["SLUG#".len()..]))
                    .then_some("slug guard without organization")
            }
            ("MEMBERS", s) if s.starts_with("MEMBER#") => {
                let data = data_of(&s["MEMBER#".len()..]);
                let (org, email) = (data["member"]["organization_id"].as_str(), data["email"].as_str());
                (org != Some(attr(i, "organization_id")) || email != Some(&pk["MEMBERS#".len()..]))
                    .then_some("entry by email without member")
            }
            ("ORG", s) if s.starts_with("MEMBER#") => {
                let data = data_of(&s["MEMBER#".len()..]);
                (data["member"]["organization_id"].as_str() != Some(&pk["ORG#".len()..]))
                    .then_some("member pointer without member")
            }
            _ => None,
        };
        if let Some(what) = problem {
            found.push(format!("{what}: {pk} {sk}"));
        }
    }
    found
}

/// Whether the suite runs on DynamoDB + SES.
pub fn on_dynamo() -> bool {
    std::env::var("LATCH_TEST_BACKEND").as_deref() == Ok("dynamodb")
}

/// Log lines written while the guard lives, by any thread: the process-wide subscriber, installed
/// once, writes into one buffer, and the guard holds every other capture off, so a test binary
/// that uses it runs its captures one at a time. A binary that calls this must not install its
/// own subscriber.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    pub async fn start() -> (Self, tokio::sync::MutexGuard<'static, ()>) {
        static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        static CAPTURE: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        let serial = ONE_AT_A_TIME.lock().await;
        let capture = CAPTURE
            .get_or_init(|| {
                let capture = Self::default();
                let writer = capture.clone();
                tracing_subscriber::fmt()
                    .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
                    .with_ansi(false)
                    .with_writer(move || writer.clone())
                    .init();
                capture
            })
            .clone();
        capture.0.lock().unwrap().clear();
        (capture, serial)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// How many lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.text().lines().filter(|l| l.contains(needle)).count()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
