//! Helpers for the B2B suites (docs/b2b.md): organizations, members, org-scoped passwords, the
//! links of B2B emails (`multi_tenant_magic_links`, `multi_tenant_passwords`) and TOTP codes.

use serde_json::{json, Value};

use crate::{email, merged, Answer, TestApp, PROJECT_ID, SECRET};

impl TestApp {
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PUT, path, Some(&body), Some((PROJECT_ID, SECRET)))
            .await
    }

    /// The link of type `kind` (the `stytch_token_type` value) in the newest mail to `to` that
    /// has one: `(url, token)`.
    pub async fn b2b_link(&self, to: &str, kind: &str) -> (String, String) {
        let mails = self.raw_mail_to(to).await;
        mails
            .iter()
            .rev()
            .find_map(|m| link_in(m, kind))
            .unwrap_or_else(|| panic!("no {kind} link in the mail to {to}: {mails:?}"))
    }
}

/// Every link of a mail: lines that are a URL (text part) and `href`s (HTML part).
pub fn links(mail: &str) -> Vec<String> {
    let mut links: Vec<String> = mail
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
        .map(str::to_string)
        .collect();
    links.extend(
        mail.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|h| h.replace("&amp;", "&")),
    );
    links
}

/// The first link whose `stytch_token_type` is exactly `kind`, with its `token`.
pub fn link_in(mail: &str, kind: &str) -> Option<(String, String)> {
    links(mail).into_iter().find_map(|l| {
        let url = reqwest::Url::parse(&l).ok()?;
        let q = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        (q("stytch_token_type").as_deref() == Some(kind)).then_some(())?;
        Some((l.clone(), q("token")?))
    })
}

/// `POST /v1/b2b/organizations` with this slug (name `Org <slug>`) plus `extra`; the organization.
pub async fn create_org(app: &TestApp, slug: &str, extra: Value) -> Value {
    let body = json!({"organization_name": format!("Org {slug}"), "organization_slug": slug});
    let a = app.post("/v1/b2b/organizations", merged(body, extra)).await;
    a.assert_ok()["organization"].clone()
}

/// The organization's id.
pub fn id(org: &Value) -> String {
    org["organization_id"].as_str().expect("organization_id").to_string()
}

/// `POST /v1/b2b/organizations/{org}/members`; the member.
pub async fn create_member(app: &TestApp, org_id: &str, email: &str, extra: Value) -> Value {
    let body = merged(json!({"email_address": email}), extra);
    let a = app.post(&format!("/v1/b2b/organizations/{org_id}/members"), body).await;
    let b = a.assert_ok();
    assert_eq!(b["member_id"], b["member"]["member_id"]);
    b["member"].clone()
}

/// Set a member's password through the email reset (start, read the mail, complete); the
/// completion's body (a session, or an IST when MFA applies).
pub async fn set_password(app: &TestApp, org_id: &str, email: &str, password: &str) -> Value {
    reset_start(app, org_id, email).await.assert_ok();
    let (_, token) = app.b2b_link(email, "multi_tenant_passwords").await;
    email_reset(app, &token, password).await.assert_ok().clone()
}

/// `POST /v1/b2b/passwords/email/reset/start` for this member.
pub async fn reset_start(app: &TestApp, org_id: &str, address: &str) -> Answer {
    reset_start_with(app, org_id, address, json!({})).await
}

/// `POST /v1/b2b/passwords/email/reset/start` for this member, plus `extra`.
pub async fn reset_start_with(app: &TestApp, org_id: &str, address: &str, extra: Value) -> Answer {
    let body = json!({"organization_id": org_id, "email_address": address});
    app.post("/v1/b2b/passwords/email/reset/start", merged(body, extra))
        .await
}

/// Start a reset for this member (which must succeed); the two links of the mail it sent:
/// (reset token, magic-link token).
pub async fn reset_mail(app: &TestApp, org_id: &str, address: &str) -> (String, String) {
    reset_start(app, org_id, address).await.assert_ok();
    let mail = app.raw_mail_to(address).await.pop().unwrap();
    let (_, reset) = link_in(&mail, "multi_tenant_passwords").unwrap();
    let (_, login) = link_in(&mail, "multi_tenant_magic_links").unwrap();
    (reset, login)
}

/// `POST /v1/b2b/passwords/email/reset` with this token and password.
pub async fn email_reset(app: &TestApp, token: &str, password: &str) -> Answer {
    app.post(
        "/v1/b2b/passwords/email/reset",
        json!({"password_reset_token": token, "password": password}),
    )
    .await
}

/// `POST /v1/b2b/passwords/existing_password/reset`.
pub async fn existing_password_reset(app: &TestApp, org_id: &str, address: &str, existing: &str, new: &str) -> Answer {
    app.post(
        "/v1/b2b/passwords/existing_password/reset",
        json!({"organization_id": org_id, "email_address": address, "existing_password": existing, "new_password": new}),
    )
    .await
}

/// `POST /v1/b2b/passwords/session/reset` with this session token.
pub async fn session_reset(app: &TestApp, org_id: &str, session_token: &Value, password: &str) -> Answer {
    app.post(
        "/v1/b2b/passwords/session/reset",
        json!({"organization_id": org_id, "session_token": session_token, "password": password}),
    )
    .await
}

/// `POST /v1/b2b/magic_links/email/login_or_signup` for this address.
pub async fn login_or_signup(app: &TestApp, org_id: &str, address: &str) -> Answer {
    login_or_signup_with(app, org_id, address, json!({})).await
}

/// `POST /v1/b2b/magic_links/email/login_or_signup` for this address, plus `extra`.
pub async fn login_or_signup_with(app: &TestApp, org_id: &str, address: &str, extra: Value) -> Answer {
    let body = json!({"organization_id": org_id, "email_address": address});
    app.post("/v1/b2b/magic_links/email/login_or_signup", merged(body, extra))
        .await
}

/// `POST /v1/b2b/magic_links/authenticate` with this token.
pub async fn magic_link_authenticate(app: &TestApp, token: &str) -> Answer {
    app.post("/v1/b2b/magic_links/authenticate", json!({"magic_links_token": token}))
        .await
}

/// An organization (`create_org` with this slug, no extra settings) and a member at a fresh
/// address tagged `tag` with this password: (organization id, address, member id, the reset's
/// body, whose session is the member's first).
pub async fn org_with_member(app: &TestApp, slug: &str, tag: &str, password: &str) -> (String, String, String, Value) {
    let org_id = id(&create_org(app, slug, json!({})).await);
    let e = email(tag);
    let s0 = member_with_password(app, &org_id, &e, password, json!({})).await;
    let member_id = s0["member_id"].as_str().unwrap().to_string();
    (org_id, e, member_id, s0)
}

/// A member with this password in this organization; the reset's body.
pub async fn member_with_password(app: &TestApp, org_id: &str, email: &str, password: &str, extra: Value) -> Value {
    create_member(app, org_id, email, extra).await;
    set_password(app, org_id, email, password).await
}

/// `POST /v1/b2b/passwords/authenticate`.
pub async fn login(app: &TestApp, org_id: &str, email: &str, password: &str) -> Answer {
    app.post(
        "/v1/b2b/passwords/authenticate",
        json!({"organization_id": org_id, "email_address": email, "password": password}),
    )
    .await
}

/// `POST /v1/b2b/sessions/authenticate` with a session token.
pub async fn authenticate_session(app: &TestApp, token: &Value) -> Answer {
    app.post("/v1/b2b/sessions/authenticate", json!({"session_token": token}))
        .await
}

/// The session token is refused as revoked, expired or never issued.
pub async fn assert_session_gone(app: &TestApp, token: &Value) {
    authenticate_session(app, token)
        .await
        .assert_error(404, "session_not_found");
}

/// The `type`s of a member session's authentication factors, sorted.
pub fn factor_types(member_session: &Value) -> Vec<String> {
    let mut types: Vec<String> = member_session["authentication_factors"]
        .as_array()
        .unwrap_or_else(|| panic!("no factors in {member_session}"))
        .iter()
        .map(|f| f["type"].as_str().unwrap_or_default().to_string())
        .collect();
    types.sort();
    types
}

/// The decoded payload of a JWT (no verification).
pub fn jwt_payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `expires_at - started_at` of a member session.
pub fn session_length(member_session: &Value) -> chrono::Duration {
    let t = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(member_session[k].as_str().unwrap_or_else(|| panic!("{k}"))).unwrap()
    };
    t("expires_at") - t("started_at")
}

/// A fully authenticated primary-factor answer (docs/b2b.md, the MFA rule 1 and 3).
#[track_caller]
pub fn assert_member_session(b: &Value, member_id: &str, org_id: &str) {
    assert_eq!(b["member_authenticated"], true, "{b}");
    assert_eq!(b["member_id"], member_id, "{b}");
    assert!(nonempty(&b["session_token"]), "{b}");
    assert!(nonempty(&b["session_jwt"]), "{b}");
    assert_eq!(b["intermediate_session_token"], "", "{b}");
    assert!(b["mfa_required"].is_null(), "{b}");
    let ms = &b["member_session"];
    assert_eq!(ms["member_id"], member_id, "{b}");
    assert_eq!(ms["organization_id"], org_id, "{b}");
    assert!(nonempty(&ms["member_session_id"]), "{b}");
    assert_eq!(ms["roles"], json!(["stytch_member"]), "{b}");
}

/// An answer that asks for MFA (docs/b2b.md, the MFA rule 2): no session, an IST, and the
/// member's options.
#[track_caller]
pub fn assert_mfa_step(b: &Value, member_id: &str, totp_registration_id: &str) {
    assert_eq!(b["member_authenticated"], false, "{b}");
    assert_eq!(b["member_id"], member_id, "{b}");
    assert!(b["member_session"].is_null(), "{b}");
    assert_eq!(b["session_token"], "", "{b}");
    assert_eq!(b["session_jwt"], "", "{b}");
    assert!(nonempty(&b["intermediate_session_token"]), "{b}");
    assert!(b["intermediate_session_token_expires_at"].is_string(), "{b}");
    let options = &b["mfa_required"]["member_options"];
    assert_eq!(options["mfa_phone_number"], "", "{b}");
    assert_eq!(options["totp_registration_id"], totp_registration_id, "{b}");
    assert!(b["mfa_required"]["secondary_auth_initiated"].is_null(), "{b}");
}

/// A non-empty JSON string.
pub fn nonempty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

/// `POST /v1/b2b/totp/authenticate` with `extra` (an IST or a session, options).
pub async fn totp_authenticate(app: &TestApp, org_id: &str, member_id: &str, code: &str, extra: Value) -> Answer {
    let body = json!({"organization_id": org_id, "member_id": member_id, "code": code});
    app.post("/v1/b2b/totp/authenticate", merged(body, extra)).await
}

/// A verified TOTP registration and the session its first code opened.
pub struct Totp {
    pub member_id: String,
    pub secret: String,
    pub registration_id: String,
    pub recovery_codes: Vec<String>,
    pub session: Value,
}

/// Enroll a member whose password login asks for MFA: log in, create a registration with the
/// IST, authenticate its current code with the IST. The step of that code is then used.
pub async fn enroll_totp(app: &TestApp, org_id: &str, email: &str, password: &str) -> Totp {
    let first = login(app, org_id, email, password).await;
    let first = first.assert_ok();
    let member_id = first["member_id"].as_str().unwrap().to_string();
    assert_mfa_step(first, &member_id, "");
    let ist = first["intermediate_session_token"].clone();
    let created = app
        .post(
            "/v1/b2b/totp",
            json!({"organization_id": org_id, "member_id": member_id, "intermediate_session_token": ist}),
        )
        .await;
    let created = created.assert_ok();
    let secret = created["secret"].as_str().unwrap().to_string();
    let registration_id = created["totp_registration_id"].as_str().unwrap().to_string();
    let recovery_codes = created["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let done = totp_authenticate(
        app,
        org_id,
        &member_id,
        &totp_now(app, &secret),
        json!({"intermediate_session_token": ist}),
    )
    .await;
    let session = done.assert_ok().clone();
    Totp {
        member_id,
        secret,
        registration_id,
        recovery_codes,
        session,
    }
}

/// RFC 4648 base32 (upper or lower case, padding and spaces ignored).
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("not base32: {s}")) as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha1::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// RFC 6238 code (HMAC-SHA-1, 30-second steps) with `digits` digits, for a raw key.
pub fn totp_raw(key: &[u8], unix_time: i64, digits: u32) -> String {
    let step = (unix_time.div_euclid(30)) as u64;
    let mac = hmac_sha1(key, &step.to_be_bytes());
    let offset = (mac[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    format!("{:0width$}", bin % 10u32.pow(digits), width = digits as usize)
}

/// The 6-digit code of a base32 secret at this time.
pub fn totp_code(secret_base32: &str, unix_time: i64) -> String {
    totp_raw(&base32_decode(secret_base32), unix_time, 6)
}

/// The code at the app's clock.
pub fn totp_now(app: &TestApp, secret_base32: &str) -> String {
    use latch::clock::Clock;
    totp_code(secret_base32, app.clock.now().timestamp())
}

/// A 6-digit code valid at none of the steps the server accepts now (±1).
pub fn wrong_totp(app: &TestApp, secret_base32: &str) -> String {
    use latch::clock::Clock;
    let now = app.clock.now().timestamp();
    let valid: Vec<String> = [-30, 0, 30].iter().map(|d| totp_code(secret_base32, now + d)).collect();
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| !valid.contains(c))
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        let key = b"12345678901234567890";
        assert_eq!(totp_raw(key, 59, 8), "94287082");
        assert_eq!(totp_raw(key, 1111111109, 8), "07081804");
        assert_eq!(totp_raw(key, 1234567890, 8), "89005924");
        assert_eq!(totp_raw(key, 20000000000, 8), "65353130");
        assert_eq!(totp_raw(key, 59, 6), "287082");
    }

    #[test]
    fn base32_round_trip() {
        // "12345678901234567890" in base32.
        assert_eq!(
            base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            b"12345678901234567890".to_vec()
        );
        assert_eq!(base32_decode("mzxw6ytb"), b"fooba".to_vec());
        assert_eq!(base32_decode("MZXW6YTBOI======"), b"foobar".to_vec());
    }

    #[test]
    fn links_by_exact_type() {
        let mail = "To: a@b.c\r\n\r\nhttp://x/authenticate?stytch_token_type=multi_tenant_passwords&token=AAA\r\n\
                    <a href=\"http://x/authenticate?stytch_token_type=multi_tenant_magic_links&amp;token=BBB\">";
        assert_eq!(link_in(mail, "multi_tenant_passwords").unwrap().1, "AAA");
        assert_eq!(link_in(mail, "multi_tenant_magic_links").unwrap().1, "BBB");
        assert!(link_in(mail, "magic_links").is_none());
    }
}
