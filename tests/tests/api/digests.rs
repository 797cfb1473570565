//! docs/security.md R1: emailed and session tokens rest only as keyed digests. The store holds the
//! digest Latch computes under its pepper, and neither the token, nor its plain (unkeyed)
//! SHA-256 in any usual spelling, nor the digest under another key: the pepper is what makes it.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use latch::sessions::tokens::TokenDigester;
use latch_tests::{email, TestApp, STRONG};
use sha2::{Digest, Sha256};

fn holds(dump: &[u8], needle: &str) -> bool {
    dump.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Every way a plain SHA-256 of `token` could be written down.
fn unkeyed_spellings(token: &str) -> Vec<String> {
    let plain = Sha256::digest(token.as_bytes());
    let mut out = vec![hex::encode(plain)];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(plain));
    }
    out
}

#[tokio::test]
async fn r1_tokens_rest_as_keyed_digests_only() {
    let app = TestApp::spawn().await;
    let e = email("keyed");
    let created = app.create_user(&e, STRONG, Some(60)).await;
    let login = app.login(&e, STRONG, Some(60)).await.body;
    let mail = app.start_reset(&e).await;
    let dump = app.store_dump().await;

    let digester = app.state.sessions.digester();
    // The same digester under another key: what a store would hold if the pepper did not count.
    let other_key = TokenDigester::new(vec![8; 32]);
    let tokens = [
        ("session token (signup)", created["session_token"].as_str().unwrap()),
        ("session token (login)", login["session_token"].as_str().unwrap()),
        ("reset token", mail.reset_token.as_str()),
        ("magic link token", mail.login_token.as_str()),
    ];
    for (what, token) in tokens {
        assert!(token.len() >= 22, "{what}: under 128 bits");
        assert!(!holds(&dump, token), "{what} rests in clear");
        for spelling in unkeyed_spellings(token) {
            assert!(
                !holds(&dump, &spelling),
                "{what} rests as its unkeyed SHA-256 {spelling}"
            );
        }
        let keyed = digester.digest(token);
        assert!(
            holds(&dump, &keyed),
            "{what}: its keyed digest is not what the store holds"
        );
        assert_ne!(keyed, other_key.digest(token));
        assert!(
            !holds(&dump, &other_key.digest(token)),
            "{what}: the digest ignores the key"
        );
        assert!(
            !unkeyed_spellings(token).contains(&keyed),
            "{what}: the digest is unkeyed"
        );
    }
}
