//! Session JWTs in the format both official SDKs verify locally (docs/reference/stytch-api.md §8.2–8.3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use sha2::{Digest, Sha256};

use super::keys::SigningKeys;
use crate::bounded_map::BoundedMap;

/// JWTs live five minutes whatever the session's length; refresh through sessions/authenticate.
pub const JWT_LIFETIME_SECONDS: i64 = 300;

/// Claims Latch owns; custom claims may not set them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    SESSION_CLAIM,
    ORGANIZATION_CLAIM,
];
pub const SESSION_CLAIM: &str = "https://stytch.com/session";
/// B2B only: `{organization_id, slug}` (docs/reference/stytch-api.md §8.2).
pub const ORGANIZATION_CLAIM: &str = "https://stytch.com/organization";

pub fn issuer(project_id: &str) -> String {
    format!("stytch.com/{project_id}")
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Vec<String>,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(rename = "https://stytch.com/session")]
    session: Value,
    #[serde(
        rename = "https://stytch.com/organization",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    organization: Option<crate::store::OrgRef>,
    #[serde(flatten)]
    custom: Map<String, Value>,
}

/// Why a JWT could not be signed (never the caller's input: a key or serialisation fault).
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("the JWT could not be serialised: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the JWT could not be signed")]
    Sign(#[from] aws_lc_rs::error::Unspecified),
}

/// Sign a JWT for a session. `session_claim` is the object under `https://stytch.com/session`;
/// a member session also names its organization.
pub fn mint(
    keys: &SigningKeys,
    project_id: &str,
    subject: &str,
    session_claim: Value,
    organization: Option<&crate::store::OrgRef>,
    custom_claims: &Map<String, Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, MintError> {
    let key = keys.current();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some("JWT".into());
    let iat = now.timestamp();
    let claims = Claims {
        iss: issuer(project_id),
        sub: subject.to_string(),
        aud: vec![project_id.to_string()],
        iat,
        nbf: iat,
        exp: iat + JWT_LIFETIME_SECONDS,
        session: session_claim,
        organization: organization.cloned(),
        custom: custom_claims
            .iter()
            .filter(|(k, _)| !RESERVED_CLAIMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    // JWS compact serialisation, signed with the key parsed once (jsonwebtoken's encode would
    // parse it again for every signature).
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
    );
    let mut signature = vec![0; key.signer.public_modulus_len()];
    key.signer.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// What a verified JWT says.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    pub subject: String,
    pub session_id: String,
    pub expired: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the session JWT is malformed")]
    Malformed,
    #[error("the session JWT was not signed by this project")]
    Rejected,
}

/// Check signature (RS256 only, by `kid`), issuer, audience and the required claims. An expired
/// `exp` is reported, not refused: Stytch accepts an expired JWT whose session is still active,
/// which is how clients refresh; the caller checks the session itself.
pub fn verify(
    keys: &SigningKeys,
    project_id: &str,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<VerifiedJwt, JwtError> {
    check(keys, project_id, token, now).map(|c| c.at(now))
}

/// What [`verify`] found in a JWT it accepted, enough to answer for the same JWT again.
struct Checked {
    kid: String,
    subject: String,
    session_id: String,
    exp: i64,
}

impl Checked {
    fn at(&self, now: chrono::DateTime<chrono::Utc>) -> VerifiedJwt {
        VerifiedJwt {
            subject: self.subject.clone(),
            session_id: self.session_id.clone(),
            expired: self.exp <= now.timestamp(),
        }
    }
}

/// How many accepted JWTs a process remembers (`BoundedMap`: when full the whole set is dropped);
/// an entry is a digest, a kid and two ids, about 200 bytes.
const VERIFIED_CAPACITY: usize = 16_384;

/// The JWTs this process has accepted, by the SHA-256 of the whole JWT, so that the same JWT
/// presented again (an app sends its session JWT on every request until it is refreshed) is not
/// RS256-verified and parsed again (docs/reference/performance-facts.md, "The session hot path"). What made it
/// acceptable cannot change but for its key: an entry counts only while its `kid` is still one of
/// the project's keys. Whether it has expired is decided again at every call; the session it names
/// is read and checked by the caller every time, as for a JWT verified anew.
pub struct VerifiedJwts(BoundedMap<[u8; 32], Checked>);

impl Default for VerifiedJwts {
    fn default() -> Self {
        Self(BoundedMap::new(VERIFIED_CAPACITY))
    }
}

impl VerifiedJwts {
    /// [`verify`], answered from memory for a JWT accepted before with a key still in `keys`.
    pub fn verify(
        &self,
        keys: &SigningKeys,
        project_id: &str,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<VerifiedJwt, JwtError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(known) = self
            .0
            .read(&digest, |c| keys.by_kid(&c.kid).is_some().then(|| c.at(now)))
        {
            return Ok(known);
        }
        let checked = check(keys, project_id, token, now)?;
        let verified = checked.at(now);
        self.0.insert(digest, checked);
        Ok(verified)
    }
}

fn check(
    keys: &SigningKeys,
    project_id: &str,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Checked, JwtError> {
    // The verdict is the whole answer: why jsonwebtoken refused a token is the token's own detail,
    // chosen by whoever sent it, and is neither answered nor logged.
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(JwtError::Rejected);
    }
    let kid = header.kid.ok_or(JwtError::Rejected)?;
    let key = keys.by_kid(&kid).ok_or(JwtError::Rejected)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_audience(&[project_id]);
    validation.set_issuer(&[issuer(project_id)]);
    validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
    // As above: the verdict, not jsonwebtoken's reason.
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).map_err(|_| JwtError::Rejected)?;
    let claims = data.claims;
    let session_id = claims
        .session
        .get("id")
        .and_then(Value::as_str)
        .ok_or(JwtError::Rejected)?
        .to_string();
    if claims.nbf > now.timestamp() + 60 {
        return Err(JwtError::Rejected);
    }
    Ok(Checked {
        kid,
        subject: claims.sub,
        session_id,
        exp: claims.exp,
    })
}

#[cfg(test)]
mod proptests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chrono::{DateTime, TimeZone, Utc};
    use hmac::{Hmac, Mac};
    use proptest::prelude::*;
    use serde_json::json;
    use sha2::Sha256;

    use super::*;
    use crate::error::ErrorType;
    use crate::sessions::{Scope, SessionRef};
    use crate::store::OrgRef;
    use crate::test_support::{json_value, runtime, state, PROJECT_ID};

    fn keys() -> &'static SigningKeys {
        state().sessions.keys()
    }

    fn kid() -> String {
        keys().current().kid.clone()
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_750_000_000, 0).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What `verify` must answer for a token it refuses: `Malformed` exactly when the header
    /// does not decode.
    fn expected_refusal(token: &str) -> JwtError {
        if jsonwebtoken::decode_header(token).is_ok() {
            JwtError::Rejected
        } else {
            JwtError::Malformed
        }
    }

    fn header() -> impl Strategy<Value = Value> {
        let alg = prop::sample::select(vec![
            "RS256", "HS256", "none", "ES256", "RS512", "PS256", "EdDSA", "rs256", "",
        ]);
        let kid = prop_oneof![
            Just(Some(Value::String(kid()))),
            Just(None),
            json_value().prop_map(Some)
        ];
        (prop_oneof![alg.prop_map(Value::from), json_value()], kid, any::<bool>()).prop_map(|(alg, kid, typ)| {
            let mut h = json!({ "alg": alg });
            if let Some(kid) = kid {
                h["kid"] = kid;
            }
            if typ {
                h["typ"] = json!("JWT");
            }
            h
        })
    }

    /// Claims close to the real ones, or anything.
    fn claims() -> impl Strategy<Value = Value> {
        let good = (
            prop_oneof![Just(json!(issuer(PROJECT_ID))), json_value()],
            prop_oneof![Just(json!([PROJECT_ID])), json_value()],
            any::<i64>(),
            prop_oneof![Just(json!({ "id": "session-test-x" })), json_value()],
        )
            .prop_map(|(iss, aud, t, session)| {
                json!({ "iss": iss, "sub": "user-test-x", "aud": aud, "iat": t, "nbf": t, "exp": t,
                        SESSION_CLAIM: session })
            });
        prop_oneof![good, json_value()]
    }

    fn forged() -> impl Strategy<Value = String> {
        (header(), claims(), prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(h, c, sig)| {
            format!(
                "{}.{}.{}",
                b64(h.to_string().as_bytes()),
                b64(c.to_string().as_bytes()),
                b64(&sig)
            )
        })
    }

    fn any_token() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_.=+/-]{0,300}",
            (
                prop::collection::vec(any::<u8>(), 0..80),
                prop::collection::vec(any::<u8>(), 0..80),
                prop::collection::vec(any::<u8>(), 0..80),
            )
                .prop_map(|(a, b, c)| format!("{}.{}.{}", b64(&a), b64(&b), b64(&c))),
            forged(),
        ]
    }

    fn mint_now(subject: &str, session_id: &str, org: Option<&OrgRef>, custom: &Map<String, Value>) -> String {
        mint(
            keys(),
            PROJECT_ID,
            subject,
            json!({ "id": session_id }),
            org,
            custom,
            now(),
        )
        .expect("mint")
    }

    /// A JWT accepted once is answered from memory as `verify` answers it: its expiry judged at
    /// each call, refused once its key is no longer the project's, and a changed JWT is a new one.
    #[test]
    fn a_remembered_jwt_is_judged_as_verify_judges_it() {
        let remembered = VerifiedJwts::default();
        let token = mint_now("user-test-x", "session-test-x", None, &Map::new());
        for at in [now(), now(), now() + chrono::Duration::seconds(JWT_LIFETIME_SECONDS)] {
            assert_eq!(
                remembered.verify(keys(), PROJECT_ID, &token, at),
                verify(keys(), PROJECT_ID, &token, at)
            );
        }
        assert_eq!(remembered.0.len(), 1, "the same JWT is one entry");
        let rotated = SigningKeys::generated();
        assert_eq!(
            remembered.verify(&rotated, PROJECT_ID, &token, now()),
            Err(JwtError::Rejected),
            "a JWT whose key is gone is refused, remembered or not"
        );
        let mut tampered = token.clone();
        tampered.pop();
        assert_eq!(
            remembered.verify(keys(), PROJECT_ID, &tampered, now()),
            Err(JwtError::Rejected)
        );
        assert_eq!(remembered.0.len(), 1, "nothing refused is remembered");
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn any_token_is_refused_with_the_right_error(token in any_token()) {
            let err = verify(keys(), PROJECT_ID, &token, now()).unwrap_err();
            prop_assert_eq!(&err, &expected_refusal(&token));
            if token.matches('.').count() < 2 {
                prop_assert_eq!(err, JwtError::Malformed);
            }
        }

        #[test]
        fn hs256_signed_with_the_public_key_is_rejected(claims in claims(), public in any::<bool>()) {
            // The classic algorithm confusion: HMAC keyed with what the JWKS publishes.
            let key = if public { keys().current().jwk.n.clone() } else { serde_json::to_string(&keys().current().jwk).unwrap() };
            let input = format!(
                "{}.{}",
                b64(json!({ "alg": "HS256", "typ": "JWT", "kid": kid() }).to_string().as_bytes()),
                b64(claims.to_string().as_bytes())
            );
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            let token = format!("{input}.{}", b64(&mac.finalize().into_bytes()));
            prop_assert_eq!(verify(keys(), PROJECT_ID, &token, now()), Err(JwtError::Rejected));
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        #[test]
        fn a_minted_jwt_verifies_and_reports_its_age(
            subject in any::<String>(),
            session_id in any::<String>(),
            org in prop::option::of((any::<String>(), any::<String>())),
            custom in prop::collection::btree_map(
                prop_oneof![any::<String>(), prop::sample::select(RESERVED_CLAIMS.to_vec()).prop_map(String::from)],
                json_value(),
                0..5,
            ),
            offset in prop_oneof![-1000i64..1000, -62i64..=-58, 298i64..=302],
        ) {
            let org = org.map(|(organization_id, slug)| OrgRef { organization_id, slug });
            let custom: Map<String, Value> = custom.into_iter().collect();
            let token = mint_now(&subject, &session_id, org.as_ref(), &custom);
            let at = now() + chrono::Duration::seconds(offset);
            let got = verify(keys(), PROJECT_ID, &token, at);
            if offset < -60 {
                // Issued more than a minute in the verifier's future.
                prop_assert_eq!(got, Err(JwtError::Rejected));
            } else {
                prop_assert_eq!(got, Ok(VerifiedJwt { subject, session_id, expired: offset >= JWT_LIFETIME_SECONDS }));
            }
            prop_assert_eq!(verify(keys(), "project-test-other", &token, now()), Err(JwtError::Rejected));
        }

        #[test]
        fn changing_any_one_character_breaks_a_jwt(
            at in any::<prop::sample::Index>(),
            c in prop::sample::select("ABCXYZabcxyz0189-_.=+/ é".chars().collect::<Vec<_>>()),
        ) {
            let token = mint_now("user-test-x", "session-test-x", None, &Map::new());
            let i = at.index(token.len());
            prop_assume!(token.as_bytes()[i] != c as u8 || !c.is_ascii());
            let mut tampered = token.clone();
            tampered.replace_range(i..=i, &c.to_string());
            let err = verify(keys(), PROJECT_ID, &tampered, now()).unwrap_err();
            prop_assert_eq!(err, expected_refusal(&tampered));
            // Truncating is no better.
            let err = verify(keys(), PROJECT_ID, &token[..i], now()).unwrap_err();
            prop_assert_eq!(err, expected_refusal(&token[..i]));
        }

        #[test]
        fn a_session_named_by_any_jwt_is_unparseable_or_not_found(
            token in prop_oneof![any_token(), Just(String::new()).prop_map(|_| mint_now("user-test-x", "session-test-x", None, &Map::new()))],
            scope in prop::sample::select(vec![Scope::Consumer, Scope::AnyOrganization, Scope::Organization("organization-test-x")]),
        ) {
            let err = runtime()
                .block_on(state().sessions.find(SessionRef::Jwt(&token), scope, Utc::now()))
                .unwrap_err();
            let want = match verify(keys(), PROJECT_ID, &token, Utc::now()) {
                Err(JwtError::Malformed) => ErrorType::UnableToParseSessionJwt,
                _ => ErrorType::SessionNotFound,
            };
            prop_assert_eq!(err.error_type, want, "{}", err);
        }
    }
}
