//! Session JWTs in the format both official SDKs verify locally (reference §8.2–8.3).

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keys::SigningKeys;

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
/// B2B only: `{organization_id, slug}` (reference §8.2).
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
) -> Result<String, jsonwebtoken::errors::Error> {
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
    jsonwebtoken::encode(&header, &claims, &key.encoding)
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
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(JwtError::Rejected);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.by_kid(kid))
        .ok_or(JwtError::Rejected)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_audience(&[project_id]);
    validation.set_issuer(&[issuer(project_id)]);
    validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
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
    Ok(VerifiedJwt {
        subject: claims.sub,
        session_id,
        expired: claims.exp <= now.timestamp(),
    })
}
