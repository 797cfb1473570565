//! SECURITY X3 (and X2): the RSA signing key rests sealed in the store on both backends; a key
//! an older version left in clear is sealed at the next start, once, even with several
//! processes starting together; a key that does not open stops start-up. (The data
//! directory's modes are checked against `latch serve` itself, in cli/tests/data_dir.rs.)

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latch::clock::SystemClock;
use latch::config::Settings;
use latch::policy::breach::NoBreachCheck;
use latch::sessions::keys::{private_key_der, sealer};
use latch::state::Ports;
use latch::store::{SigningKeyRecord, Store, StoredPrivateKey};
use latch::AppState;
use latch_tests::{email, scan, Backend, FailingMailer, TestApp, PROJECT_ID, SECRET, STRONG};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde_json::{json, Value};

/// Everything a store holds, as bytes: the SQLite files, or every item of the table.
async fn dump(backend: &Backend, dir: &std::path::Path) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            let mut bytes = vec![];
            for name in ["latch.sqlite3", "latch.sqlite3-wal"] {
                bytes.extend(std::fs::read(dir.join(name)).unwrap_or_default());
            }
            bytes
        }
        Backend::Dynamo { client, table, .. } => format!("{:?}", scan(client, table).await).into_bytes(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every form of the private key `der` (PKCS#8) that a store could hold in clear: PEM (its
/// marker and a body line, as a dump may escape its line ends), DER, base64 of the DER, and
/// the same for PKCS#1.
fn clear_forms(der: &[u8]) -> Vec<(String, Vec<u8>)> {
    let key = rsa::RsaPrivateKey::from_pkcs8_der(der).unwrap();
    let pkcs1 = key.to_pkcs1_der().unwrap();
    let pem8 = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let pem1 = key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
    let mut forms = vec![("PEM marker".to_string(), b"PRIVATE KEY".to_vec())];
    for (what, pem) in [("PKCS#8 PEM", &pem8), ("PKCS#1 PEM", &pem1)] {
        forms.push((
            format!("{what} body line"),
            pem.lines().nth(2).unwrap().as_bytes().to_vec(),
        ));
    }
    for (what, bytes) in [("PKCS#8 DER", der.to_vec()), ("PKCS#1 DER", pkcs1.as_bytes().to_vec())] {
        // A stretch from the middle of the key (its primes), not the common ASN.1 header.
        let middle = bytes[bytes.len() / 2..bytes.len() / 2 + 48].to_vec();
        forms.push((what.to_string(), middle));
        forms.push((
            format!("{what}, base64"),
            STANDARD.encode(&bytes).as_bytes()[400..464].to_vec(),
        ));
        forms.push((
            format!("{what}, base64url"),
            URL_SAFE_NO_PAD.encode(&bytes).as_bytes()[400..464].to_vec(),
        ));
    }
    forms
}

fn assert_no_clear_key(dump: &[u8], der: &[u8]) {
    for (what, needle) in clear_forms(der) {
        assert!(
            !contains(dump, &needle),
            "the store holds the signing key in clear ({what})"
        );
    }
}

fn payload_of(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn rs256(kid: &str) -> Header {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    h
}

/// SECURITY X3: after a flow, the store (SQLite files / every DynamoDB item) holds the signing
/// key in no clear form, and nothing in the key's record signs a JWT that Latch accepts.
#[tokio::test]
async fn x3_the_signing_key_rests_sealed_and_its_record_mints_no_jwt() {
    let app = TestApp::spawn().await;
    let created = app.create_user(&email("keys"), STRONG, Some(60)).await;
    let jwt = created["session_jwt"].as_str().unwrap();
    let kid = app.state.sessions.keys().current().kid.clone();
    let records = app.state.store.signing_keys().await.unwrap();
    assert_eq!(records.len(), 1);
    let StoredPrivateKey::Sealed(sealed) = &records[0].private_key else {
        panic!("the signing key is stored in clear");
    };
    let der = private_key_der(&records[0], &sealer(&app.state.settings.token_pepper)).unwrap();
    assert_no_clear_key(&app.store_dump().await, &der);

    let payload = payload_of(jwt);
    let authenticate = |token: String| {
        let app = &app;
        async move {
            app.post("/v1/sessions/authenticate", json!({"session_jwt": token}))
                .await
        }
    };
    // The control: the unsealed key signs a JWT Latch accepts, so the refusals below are the
    // key's, not the minting's.
    let real = EncodingKey::from_rsa_pem(app.signing_key_pem(&kid).await.as_bytes()).unwrap();
    authenticate(jsonwebtoken::encode(&rs256(&kid), &payload, &real).unwrap())
        .await
        .assert_ok();
    // What the record holds, taken as a key every way it could be: an HMAC secret (text and
    // bytes), and RSA DER (PKCS#8, PKCS#1) at every offset past the nonce.
    let raw = STANDARD.decode(sealed).unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    for secret in [sealed.as_bytes(), &raw] {
        let token = jsonwebtoken::encode(&hs, &payload, &EncodingKey::from_secret(secret)).unwrap();
        let a = authenticate(token).await;
        assert!(
            a.status == 404 || a.status == 400,
            "an HS256 JWT keyed with the sealed key: {}",
            a.body
        );
    }
    for offset in 0..raw.len().min(64) {
        let bytes = &raw[offset..];
        let parsed = rsa::RsaPrivateKey::from_pkcs8_der(bytes)
            .ok()
            .or_else(|| rsa::pkcs1::DecodeRsaPrivateKey::from_pkcs1_der(bytes).ok());
        if let Some(key) = parsed {
            let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
            let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
            let a = authenticate(jsonwebtoken::encode(&rs256(&kid), &payload, &key).unwrap()).await;
            assert_ne!(a.status, 200, "a key read from the store signs JWTs Latch accepts");
        }
    }
}

/// A state over `store` with this pepper, as a process or Lambda instance starts.
async fn start(store: Arc<dyn Store>, pepper: Vec<u8>) -> Result<AppState, String> {
    let src = |_: &str| None;
    let settings = Settings::from_source(&src, PROJECT_ID.into(), SECRET.into(), pepper).unwrap();
    let ports = Ports {
        store,
        breach: Arc::new(NoBreachCheck),
        mailer: Arc::new(FailingMailer),
        clock: Arc::new(SystemClock),
    };
    AppState::build(settings, ports).await.map_err(|e| e.to_string())
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "latch-keys-{tag}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap()
    ))
}

/// SECURITY X3: a key an older version left in clear (PKCS#8 PEM in the record) is sealed at
/// the next start. Four processes starting at once (each its own connection / client) all sign
/// with that same key, and the store ends with one record, sealed, holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x3_a_clear_key_left_by_an_older_version_is_sealed_at_start() {
    let backend = Backend::from_env().await;
    let dir = temp_dir("legacy");
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let der = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let legacy = SigningKeyRecord {
        kid: format!("jwk-test-legacy-{}", std::process::id()),
        private_key: StoredPrivateKey::ClearPem(key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()),
        created_at: chrono::Utc::now(),
    };
    backend.store(&dir).await.insert_signing_key(&legacy).await.unwrap();
    assert!(
        contains(&dump(&backend, &dir).await, b"PRIVATE KEY"),
        "the older version's record is in clear"
    );

    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let store = backend.store(&dir).await;
        set.spawn(async move {
            let state = start(store, vec![7; 32]).await.unwrap();
            let current = state.sessions.keys().current();
            (current.kid.clone(), current.jwk.n.clone())
        });
    }
    let public_n = URL_SAFE_NO_PAD.encode(rsa::traits::PublicKeyParts::n(&key).to_bytes_be());
    while let Some(started) = set.join_next().await {
        assert_eq!(started.unwrap(), (legacy.kid.clone(), public_n.clone()), "the same key");
    }
    let store = backend.store(&dir).await;
    let records = store.signing_keys().await.unwrap();
    assert_eq!(records.len(), 1, "one key");
    assert!(matches!(records[0].private_key, StoredPrivateKey::Sealed(_)), "sealed");
    assert_eq!(private_key_der(&records[0], &sealer(&[7; 32])).unwrap(), der);
    assert_no_clear_key(&dump(&backend, &dir).await, &der);
    let _ = std::fs::remove_dir_all(dir);
}

/// A sealed key that does not open under this start's pepper stops start-up with a clear
/// error; no new key is made in its place (every JWT signed so far would stop verifying) and
/// the stored key is left as it was.
#[tokio::test]
async fn x3_a_key_that_does_not_open_stops_start_up() {
    let backend = Backend::from_env().await;
    let dir = temp_dir("pepper");
    start(backend.store(&dir).await, vec![7; 32]).await.unwrap();
    let before = backend.store(&dir).await.signing_keys().await.unwrap();
    let err = match start(backend.store(&dir).await, vec![8; 32]).await {
        Ok(_) => panic!("started with a key it cannot open"),
        Err(e) => e,
    };
    assert!(err.contains(&before[0].kid) && err.contains("pepper"), "{err}");
    assert_eq!(backend.store(&dir).await.signing_keys().await.unwrap(), before);
    let _ = std::fs::remove_dir_all(dir);
}
