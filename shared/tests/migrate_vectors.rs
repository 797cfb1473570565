//! Known-answer vectors for every imported hash kind, made by the source ecosystems' own tools
//! (passlib, bcrypt, argon2-cffi, hashlib: tests/data/migrate/make_vectors.py, which names the
//! versions in the file it writes). Each must import, verify its password (and, for bcrypt, the
//! passwords that differ only after byte 72), refuse the wrong ones, and round-trip through the
//! stored form.

use latch::hashing::imported::HashFields;
use latch::hashing::stored::StoredHash;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    password: String,
    wrong_passwords: Vec<String>,
    #[serde(default)]
    also_accepts: Vec<String>,
    migrate: serde_json::Value,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/migrate/vectors.json");
    let text = std::fs::read_to_string(path).expect("tests/data/migrate/vectors.json");
    serde_json::from_str::<File>(&text)
        .expect("vectors.json parses")
        .vectors
}

#[test]
fn every_vector_imports_and_verifies_only_its_password() {
    let vectors = vectors();
    let kinds: std::collections::BTreeSet<String> = vectors
        .iter()
        .map(|v| v.migrate["hash_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.iter().map(String::as_str).collect::<Vec<_>>(),
        [
            "argon_2i",
            "argon_2id",
            "bcrypt",
            "md_5",
            "pbkdf_2",
            "phpass",
            "scrypt",
            "sha_1",
            "sha_512"
        ],
        "every hash type has vectors"
    );
    for v in &vectors {
        let fields: HashFields =
            serde_json::from_value(v.migrate.clone()).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let stored = fields.parse().unwrap_or_else(|e| panic!("{}: refused: {e}", v.name));
        let encoded = stored.encode();
        assert_eq!(
            StoredHash::parse(&encoded).as_ref(),
            Some(&stored),
            "{}: {encoded}",
            v.name
        );
        assert!(stored.verify(v.password.as_bytes()), "{}: the password", v.name);
        for ok in &v.also_accepts {
            assert!(stored.verify(ok.as_bytes()), "{}: also accepts {ok:?}", v.name);
        }
        assert!(!v.wrong_passwords.is_empty(), "{}", v.name);
        for wrong in &v.wrong_passwords {
            assert!(!stored.verify(wrong.as_bytes()), "{}: accepted {wrong:?}", v.name);
        }
    }
}

#[test]
fn a_corrupted_vector_never_verifies() {
    // H6: change one character near the end of each stored form (inside the hash itself, in a
    // character every alphabet has); it must parse to nothing or verify nothing.
    for v in vectors() {
        let fields: HashFields = serde_json::from_value(v.migrate.clone()).unwrap();
        let encoded = fields.parse().unwrap().encode();
        let at = encoded.len() - 3;
        let swapped = match encoded.as_bytes()[at] {
            b'a' => "b",
            b'1' => "2",
            c if c.is_ascii_digit() => "1",
            _ => "a",
        };
        let corrupt = format!("{}{swapped}{}", &encoded[..at], &encoded[at + 1..]);
        assert_ne!(corrupt, encoded);
        if let Some(h) = StoredHash::parse(&corrupt) {
            assert!(!h.verify(v.password.as_bytes()), "{}: {corrupt}", v.name);
        }
    }
}
