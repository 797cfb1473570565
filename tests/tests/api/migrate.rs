//! Password migration (docs/migration.md; docs/security.md H3, H4, H6): hashes imported through
//! `/v1/passwords/migrate` and `/v1/b2b/passwords/migrate` log in with their old passwords and
//! are replaced by argon2id on the first successful login.

use latch_tests::b2b::{create_member, create_org, id, login as b2b_login};
use latch_tests::{email, Answer, TestApp, STRONG};
use serde_json::{json, Value};

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    password: String,
    wrong_passwords: Vec<String>,
    #[serde(default)]
    also_accepts: Vec<String>,
    migrate: Value,
}

/// The known-answer vectors made by the source ecosystems' tools (tests/data/migrate).
fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/migrate/vectors.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(file["vectors"].clone()).unwrap()
}

fn with(mut body: Value, extra: Value) -> Value {
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body
}

async fn migrate(app: &TestApp, email: &str, hash: Value) -> Answer {
    app.post("/v1/passwords/migrate", with(json!({"email": email}), hash))
        .await
}

async fn b2b_migrate(app: &TestApp, org: &str, email: &str, hash: Value) -> Answer {
    app.post(
        "/v1/b2b/passwords/migrate",
        with(json!({"organization_id": org, "email_address": email}), hash),
    )
    .await
}

/// The stored hash of the user (or the organization's member) with this email.
async fn stored_hash(app: &TestApp, org: Option<&str>, email: &str) -> String {
    let user = app
        .state
        .store
        .user_by_email(org, email)
        .await
        .unwrap()
        .expect("the account");
    user.password.expect("a password").hash
}

/// An argon2id PHC string with the configured parameters (the defaults: m=19456, t=2, p=1).
#[track_caller]
fn assert_current_argon2id(hash: &str) {
    assert!(hash.starts_with(CURRENT_ARGON2ID), "{hash}");
}

const CURRENT_ARGON2ID: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// MD5 of "password123" (a well-known value; `printf password123 | md5sum`).
const PASSWORD123_MD5: &str = "482c811da5d5b4bc6d497ffa98491e38";

#[tokio::test]
async fn every_vector_logs_in_with_its_old_password_and_is_upgraded_to_argon2id() {
    // H3, for every hash type and config form in the file.
    let app = TestApp::spawn().await;
    for v in vectors() {
        let e = email("kat");
        let created = migrate(&app, &e, v.migrate.clone()).await;
        let body = created.assert_ok();
        assert_eq!(body["user_created"], true, "{}: {body}", v.name);
        assert_eq!(body["user"]["emails"][0]["verified"], false, "{}", v.name);
        assert_eq!(body["user"]["user_id"], body["user_id"]);
        let imported = stored_hash(&app, None, &e).await;
        // An argon2id hash already at the configured parameters is kept as it is.
        let already_current = imported.starts_with(CURRENT_ARGON2ID);

        app.login(&e, &v.wrong_passwords[0], None)
            .await
            .assert_error(401, "unauthorized_credentials");
        assert_eq!(
            stored_hash(&app, None, &e).await,
            imported,
            "{}: a failed login changes nothing",
            v.name
        );

        app.login(&e, &v.password, None).await.assert_ok();
        let upgraded = stored_hash(&app, None, &e).await;
        assert_current_argon2id(&upgraded);
        assert_eq!(
            upgraded == imported,
            already_current,
            "{}: {imported} → {upgraded}",
            v.name
        );
        app.login(&e, &v.password, None).await.assert_ok();
        assert_eq!(stored_hash(&app, None, &e).await, upgraded, "{}: upgraded once", v.name);
        for wrong in &v.wrong_passwords {
            app.login(&e, wrong, None)
                .await
                .assert_error(401, "unauthorized_credentials");
        }
        // bcrypt ignored everything after byte 72; the argon2id hash that replaced it does not.
        for only_bcrypt in &v.also_accepts {
            app.login(&e, only_bcrypt, None)
                .await
                .assert_error(401, "unauthorized_credentials");
        }
    }
}

/// Standard base64 of `n` zero bytes, padded.
fn zero_key(n: usize) -> String {
    let pad = ["", "AA==", "AAA="][n % 3];
    "A".repeat(n / 3 * 4) + pad
}

#[tokio::test]
async fn costs_beyond_the_bounds_are_refused_at_import_without_hashing() {
    // H4: each refused with its algorithm's error type, before any hashing work and with
    // nothing stored.
    let app = TestApp::spawn().await;
    let b64 = |n: usize| "A".repeat(n.div_ceil(3) * 4);
    let key = |n: usize| zero_key(n);
    let cases = [
        (
            json!({"hash_type": "bcrypt", "hash": "$2b$31$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj."}),
            "invalid_bcrypt_cost",
        ),
        (
            json!({"hash_type": "scrypt", "hash": b64(32), "scrypt_config":
                {"salt": "c2FsdHNhbHQ=", "n_parameter": 1 << 20, "r_parameter": 8, "p_parameter": 1, "key_length": 33}}),
            "invalid_scrypt_n_parameter",
        ),
        (
            json!({"hash_type": "scrypt", "hash": format!("$scrypt$ln=17,r=16,p=1$c2FsdHNhbHQ${}", "A".repeat(43))}),
            "invalid_scrypt_parameters",
        ),
        (
            json!({"hash_type": "pbkdf_2", "hash": "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=", "pbkdf_2_config":
                {"salt": "c2FsdA==", "iteration_amount": 100_000_000, "key_length": 32, "algorithm": "sha256"}}),
            "invalid_pbkdf_2_iteration_amount",
        ),
        (
            json!({"hash_type": "argon_2id", "hash": "ab".repeat(32), "argon_2_config":
                {"salt": "saltsalt", "iteration_amount": 3, "memory": 4_194_304, "threads": 1, "key_length": 32}}),
            "invalid_argon_2_memory",
        ),
        (
            json!({"hash_type": "argon_2id", "hash": "ab".repeat(32), "argon_2_config":
                {"salt": "saltsalt", "iteration_amount": 1000, "memory": 8192, "threads": 1, "key_length": 32}}),
            "invalid_argon_2_iteration_amount",
        ),
        (
            json!({"hash_type": "phpass", "hash": "$P$UIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}),
            "invalid_phpass_hash_format",
        ),
        // H4's budget (≈ bcrypt 13), one step past each kind's maximum (docs/migration.md), and
        // the costs that took seconds per wrong login before it.
        (
            json!({"hash_type": "bcrypt", "hash": "$2b$14$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj."}),
            "invalid_bcrypt_cost",
        ),
        (
            json!({"hash_type": "phpass", "hash": "$P$IIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}),
            "invalid_phpass_hash_format",
        ),
        (
            json!({"hash_type": "scrypt", "hash": key(32), "scrypt_config":
                {"salt": "c2FsdHNhbHQ=", "n_parameter": 4, "r_parameter": 8, "p_parameter": 65_536, "key_length": 32}}),
            "invalid_scrypt_parameters",
        ),
        (
            json!({"hash_type": "scrypt", "hash": key(32), "scrypt_config":
                {"salt": "c2FsdHNhbHQ=", "n_parameter": 1 << 17, "r_parameter": 8, "p_parameter": 2, "key_length": 32}}),
            "invalid_scrypt_parameters",
        ),
        (
            json!({"hash_type": "scrypt", "hash": key(32), "scrypt_config":
                {"salt": "c2FsdHNhbHQ=", "n_parameter": 1 << 14, "r_parameter": 8, "p_parameter": 14, "key_length": 32}}),
            "invalid_scrypt_parameters",
        ),
        (
            json!({"hash_type": "pbkdf_2", "hash": key(64), "pbkdf_2_config":
                {"salt": "c2FsdA==", "iteration_amount": 1_500_000, "key_length": 64, "algorithm": "sha512"}}),
            "invalid_pbkdf_2_iteration_amount",
        ),
        (
            json!({"hash_type": "pbkdf_2", "hash": key(32), "pbkdf_2_config":
                {"salt": "c2FsdA==", "iteration_amount": 4_484_043, "key_length": 32, "algorithm": "sha256"}}),
            "invalid_pbkdf_2_iteration_amount",
        ),
        (
            json!({"hash_type": "argon_2id", "hash": "ab".repeat(32), "argon_2_config":
                {"salt": "saltsalt", "iteration_amount": 8, "memory": 131_072, "threads": 1, "key_length": 32}}),
            "invalid_argon_2_iteration_amount",
        ),
    ];
    let work_before = app.verifications();
    for (hash, error_type) in cases {
        let e = email("bounds");
        migrate(&app, &e, hash.clone()).await.assert_error(400, error_type);
        assert!(
            app.state.store.user_by_email(None, &e).await.unwrap().is_none(),
            "{hash}: nothing stored"
        );
    }
    assert_eq!(app.verifications(), work_before, "import verifies nothing");
}

#[tokio::test]
async fn h4_real_exports_at_their_costliest_settings_import() {
    // H4: the budget still takes what real systems write (imported only: no login, no hashing).
    let app = TestApp::spawn().await;
    let scrypt = |n: u64| {
        json!({"hash_type": "scrypt", "hash": zero_key(64), "scrypt_config":
            {"salt": "c2FsdHNhbHRzYWx0c2FsdA==", "n_parameter": n, "r_parameter": 8, "p_parameter": 1, "key_length": 64}})
    };
    let cases = [
        (
            "bcrypt 13",
            json!({"hash_type": "bcrypt", "hash": "$2b$13$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImHEj."}),
        ),
        (
            "Django pbkdf2_sha256, 870 000 iterations",
            json!({"hash_type": "pbkdf_2", "hash": zero_key(32), "pbkdf_2_config":
                {"salt": "cDlhWFFtMlZmSzRy", "iteration_amount": 870_000, "key_length": 32, "algorithm": "sha256"}}),
        ),
        (
            "WordPress phpass $P$B",
            json!({"hash_type": "phpass", "hash": "$P$BIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}),
        ),
        (
            "phpBB3 phpass $H$9",
            json!({"hash_type": "phpass", "hash": "$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}),
        ),
        (
            "passlib's default phpass, 2^19",
            json!({"hash_type": "phpass", "hash": "$P$HLatchPL1eGaQ9vaazIU8n4g.FkPGN."}),
        ),
        ("Firebase-style scrypt N=2^14", scrypt(1 << 14)),
        ("Firebase-style scrypt N=2^15", scrypt(1 << 15)),
    ];
    let work_before = app.verifications();
    for (name, hash) in cases {
        let answer = migrate(&app, &email("real"), hash).await;
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
    }
    assert_eq!(app.verifications(), work_before, "import verifies nothing");
}

#[tokio::test]
async fn malformed_hashes_and_configs_get_their_specific_400() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"hash_type": "md4", "hash": "00"}), "invalid_hash_type"),
        (
            json!({"hash_type": "bcrypt", "hash": "$2b$10$short"}),
            "invalid_bcrypt_hash",
        ),
        (json!({"hash_type": "md_5", "hash": "xyz"}), "invalid_md_5_hash"),
        (json!({"hash_type": "sha_1", "hash": "00"}), "invalid_sha_1_hash"),
        (json!({"hash_type": "sha_512", "hash": "00"}), "invalid_hash"),
        (
            json!({"hash_type": "md_5", "hash": "0".repeat(32), "md_5_config": {"prepend_salt": "x".repeat(300)}}),
            "invalid_prepend_salt",
        ),
        (
            json!({"hash_type": "md_5", "hash": "0".repeat(32), "sha_1_config": {"prepend_salt": "x"}}),
            "bad_request",
        ),
        (
            json!({"hash_type": "argon_2id", "hash": "ab".repeat(32)}),
            "invalid_hash",
        ),
        (
            json!({"hash_type": "argon_2id", "hash": "ab".repeat(16), "argon_2_config":
                {"salt": "saltsalt", "iteration_amount": 2, "memory": 8192, "threads": 1, "key_length": 32}}),
            "argon_2_key_length_mismatch",
        ),
        (json!({"hash_type": "scrypt", "hash": "%%%"}), "invalid_hash"),
        (
            json!({"hash_type": "scrypt", "hash": "%%%", "scrypt_config":
                {"salt": "c2FsdHNhbHQ=", "n_parameter": 16384, "r_parameter": 8, "p_parameter": 1, "key_length": 32}}),
            "invalid_base64_scrypt_hash",
        ),
        (json!({"hash_type": "pbkdf_2", "hash": "AAAA"}), "invalid_hash"),
        (
            json!({"hash_type": "pbkdf_2", "hash": "A".repeat(44), "pbkdf_2_config":
                {"salt": "c2FsdA==", "iteration_amount": 1000, "key_length": 32, "algorithm": "sha1"}}),
            "invalid_pbkdf_2_algorithm",
        ),
        (
            json!({"hash_type": "phpass", "hash": "$1$abc"}),
            "invalid_phpass_hash_prefix",
        ),
        (
            json!({"hash_type": "phpass", "hash": "$P$short"}),
            "invalid_phpass_hash_format",
        ),
        (json!({"hash_type": "bcrypt"}), "bad_request"),
    ];
    for (hash, error_type) in cases {
        migrate(&app, &email("bad"), hash).await.assert_error(400, error_type);
    }
    migrate(
        &app,
        "not-an-email",
        json!({"hash_type": "md_5", "hash": "0".repeat(32)}),
    )
    .await
    .assert_error(400, "invalid_email");
    // Consumer users have no phone numbers, external ids or roles: refused, not dropped.
    for extra in [
        json!({"phone_number": "+14155550100"}),
        json!({"external_id": "legacy-42"}),
        json!({"roles": ["admin"]}),
    ] {
        let body = with(json!({"hash_type": "md_5", "hash": "0".repeat(32)}), extra);
        migrate(&app, &email("unsupported"), body)
            .await
            .assert_error(400, "bad_request");
    }
}

#[tokio::test]
async fn migrate_never_replaces_a_password_but_a_retried_row_succeeds() {
    let app = TestApp::spawn().await;
    let hash = PASSWORD123_MD5;
    let body = json!({"hash_type": "md_5", "hash": hash, "set_email_verified": true,
        "name": {"first_name": "Ada"}, "trusted_metadata": {"plan": "gold"}});

    let e = email("retry");
    let first = migrate(&app, &e, body.clone()).await.assert_ok().clone();
    assert_eq!(first["user_created"], true);
    assert_eq!(first["user"]["emails"][0]["verified"], true);
    assert_eq!(first["user"]["name"]["first_name"], "Ada");
    assert_eq!(first["user"]["trusted_metadata"]["plan"], "gold");
    // The same row again (an interrupted import resumed): the same user, nothing created.
    let again = migrate(&app, &e, body.clone()).await.assert_ok().clone();
    assert_eq!(again["user_created"], false);
    assert_eq!(again["user_id"], first["user_id"]);
    // A different hash for the same email is refused, and the first one still logs in.
    let other = json!({"hash_type": "sha_1", "hash": "0".repeat(40)});
    migrate(&app, &e, other)
        .await
        .assert_error(400, "password_already_exists");
    app.login(&e, "password123", None).await.assert_ok();
    // Once upgraded, the old hash is no longer the account's: it is refused too.
    migrate(&app, &e, body.clone())
        .await
        .assert_error(400, "password_already_exists");

    // A user made with a password of their own keeps it.
    let taken = email("taken");
    app.create_user(&taken, STRONG, None).await;
    migrate(&app, &taken, body)
        .await
        .assert_error(400, "password_already_exists");
    app.login(&taken, STRONG, None).await.assert_ok();
    app.login(&taken, "password123", None)
        .await
        .assert_error(401, "unauthorized_credentials");
}

#[tokio::test]
async fn a_corrupt_stored_hash_never_authenticates() {
    // H6: whatever is stored, if it is not a hash Latch can verify, no password matches it.
    let app = TestApp::spawn().await;
    let e = email("corrupt");
    migrate(&app, &e, json!({"hash_type": "md_5", "hash": PASSWORD123_MD5}))
        .await
        .assert_ok();
    let good = stored_hash(&app, None, &e).await;
    let user_id = app.state.store.user_by_email(None, &e).await.unwrap().unwrap().user_id;
    for corrupt in [
        String::new(),
        "garbage".into(),
        good[..good.len() - 2].to_string(),
        good.replace("$salted-md5$", "$salted-md4$"),
        good.replace("$salted-md5$", "$salted-sha1$"),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$".into(),
        "$2b$10$LARv29z73UdSmvnkzfRyauB/w8w6I8Zu1HSxJe8HVz/Pas1ImH".into(),
    ] {
        let set = corrupt.clone();
        let change = std::sync::Arc::new(move |u: &mut latch::store::UserRecord| {
            u.password.as_mut().unwrap().hash = set.clone();
        });
        app.state.store.update_user(&user_id, change).await.unwrap();
        app.login(&e, "password123", None)
            .await
            .assert_error(401, "unauthorized_credentials");
        assert_eq!(
            stored_hash(&app, None, &e).await,
            corrupt,
            "a refused login writes nothing"
        );
    }
}

#[tokio::test]
async fn b2b_migrate_creates_or_completes_members_and_upgrades_on_login() {
    let app = TestApp::spawn().await;
    let org = id(&create_org(&app, "migrate-org", json!({})).await);
    let vector = vectors()
        .into_iter()
        .find(|v| v.migrate["hash_type"] == "phpass")
        .unwrap();

    // A new member, addressed by the organization's slug: active, email verified.
    let e = email("member");
    let body = b2b_migrate(
        &app,
        "migrate-org",
        &e,
        with(vector.migrate.clone(), json!({"name": "Grace"})),
    )
    .await
    .assert_ok()
    .clone();
    assert_eq!(body["member_created"], true);
    assert_eq!(body["member"]["status"], "active");
    assert_eq!(body["member"]["email_address_verified"], true);
    assert_eq!(body["member"]["name"], "Grace");
    assert_eq!(body["organization"]["organization_id"], org);
    b2b_login(&app, &org, &e, &vector.wrong_passwords[0])
        .await
        .assert_error(401, "unauthorized_credentials");
    b2b_login(&app, &org, &e, &vector.password).await.assert_ok();
    assert_current_argon2id(&stored_hash(&app, Some(&org), &e).await);
    b2b_login(&app, &org, &e, &vector.password).await.assert_ok();

    // An existing member without a password gets it; the same hash again is fine; another is not.
    let joined = email("joined");
    let member = create_member(&app, &org, &joined, json!({})).await;
    let hash = json!({"hash_type": "md_5", "hash": PASSWORD123_MD5});
    let body = b2b_migrate(&app, &org, &joined, hash.clone()).await.assert_ok().clone();
    assert_eq!(body["member_created"], false);
    assert_eq!(body["member_id"], member["member_id"]);
    assert_eq!(body["member"]["email_address_verified"], true);
    b2b_migrate(&app, &org, &joined, hash).await.assert_ok();
    b2b_migrate(
        &app,
        &org,
        &joined,
        json!({"hash_type": "sha_1", "hash": "0".repeat(40)}),
    )
    .await
    .assert_error(400, "password_already_exists");
    b2b_login(&app, &org, &joined, "password123").await.assert_ok();

    b2b_migrate(&app, "no-such-org", &email("x"), vector.migrate.clone())
        .await
        .assert_error(404, "organization_not_found");
    b2b_migrate(
        &app,
        &org,
        &email("x"),
        with(vector.migrate.clone(), json!({"mfa_phone_number": "555"})),
    )
    .await
    .assert_error(400, "invalid_phone_number");
}

#[tokio::test]
async fn with_cross_org_passwords_one_imported_hash_serves_every_membership() {
    let app = TestApp::spawn_with(&[("LATCH_B2B_CROSS_ORG_PASSWORDS", "true")]).await;
    let a = id(&create_org(&app, "mig-cross-a", json!({})).await);
    let b = id(&create_org(&app, "mig-cross-b", json!({})).await);
    let e = email("cross");
    create_member(&app, &b, &e, json!({})).await;
    let hash = json!({"hash_type": "md_5", "hash": PASSWORD123_MD5});

    // Imported in A: the email's password in B as well.
    b2b_migrate(&app, &a, &e, hash.clone()).await.assert_ok();
    assert_eq!(
        stored_hash(&app, Some(&a), &e).await,
        stored_hash(&app, Some(&b), &e).await
    );
    // Migrating the same hash into B too (as Stytch asks) succeeds; a different one does not.
    let in_b = b2b_migrate(&app, &b, &e, hash).await.assert_ok().clone();
    assert_eq!(in_b["member_created"], false);
    b2b_migrate(&app, &b, &e, json!({"hash_type": "sha_1", "hash": "0".repeat(40)}))
        .await
        .assert_error(400, "password_already_exists");
    let c = id(&create_org(&app, "mig-cross-c", json!({})).await);
    b2b_migrate(&app, &c, &e, json!({"hash_type": "sha_1", "hash": "0".repeat(40)}))
        .await
        .assert_error(400, "password_already_exists");

    // The first login (in B) upgrades the hash of every membership sharing it.
    b2b_login(&app, &b, &e, "password123").await.assert_ok();
    let upgraded = stored_hash(&app, Some(&b), &e).await;
    assert_current_argon2id(&upgraded);
    assert_eq!(stored_hash(&app, Some(&a), &e).await, upgraded);
    b2b_login(&app, &a, &e, "password123").await.assert_ok();
}
