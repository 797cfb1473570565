//! Single-use tokens: emailed links (reset, magic link) and B2B intermediate sessions. A token is
//! random; only its keyed digest is stored (docs/security.md R1), and it is found again by that
//! digest.

use crate::domain::pkce::CodeChallenge;
use crate::error::{Error, ErrorType};
use crate::sessions::tokens::random_token;
use crate::state::AppState;
use crate::store::{Attributes, FactorRecord, TokenKind, TokenRecord, UserRecord};

/// Tokens carry 256 random bits (docs/security.md R1 asks for at least 128).
pub const TOKEN_BYTES: usize = 32;

/// No token Latch issues is longer: anything longer is refused without a lookup.
const MAX_TOKEN_LEN: usize = 512;

/// What a new token is for.
pub struct NewToken<'a> {
    pub kind: TokenKind,
    /// The user or member it acts for.
    pub account: &'a UserRecord,
    pub organization_id: Option<&'a str>,
    pub lifetime: chrono::Duration,
    pub code_challenge: Option<&'a CodeChallenge>,
    /// The start request's IP and user agent, for a completing call that must match them.
    pub attributes: Attributes,
    /// The factors an intermediate session holds so far.
    pub factors: Vec<FactorRecord>,
}

impl<'a> NewToken<'a> {
    /// A token of `kind` for `account`, living `lifetime`, with nothing else attached.
    pub fn new(kind: TokenKind, account: &'a UserRecord, lifetime: chrono::Duration) -> Self {
        Self {
            kind,
            account,
            organization_id: None,
            lifetime,
            code_challenge: None,
            attributes: Attributes::default(),
            factors: vec![],
        }
    }
}

/// A new token and its record, not yet stored: an emailed one is stored only once its mail is
/// out, so a failed send leaves nothing usable (docs/security.md F2).
pub fn issue(st: &AppState, new: NewToken<'_>) -> (String, TokenRecord) {
    let now = st.clock.now();
    let token = random_token(TOKEN_BYTES);
    let record = TokenRecord {
        token_digest: st.sessions.digester().digest(&token),
        kind: new.kind,
        user_id: new.account.user_id.clone(),
        email_id: new.account.email_id.clone(),
        created_at: now,
        expires_at: now + new.lifetime,
        code_challenge: new.code_challenge.map(|c| c.as_str().to_string()),
        attributes: new.attributes,
        used: false,
        organization_id: new.organization_id.map(str::to_string),
        factors: new.factors,
        // Whether a password change ends the token is the kind's to say
        // (`TokenKind::dies_with_password`); the epoch is recorded for every kind.
        credential_epoch: new.account.credential_epoch,
    };
    (token, record)
}

/// The live, unused token of `kind` that `raw` is, if there is one.
pub async fn find_live(st: &AppState, raw: &str, kind: TokenKind) -> Result<Option<TokenRecord>, Error> {
    if raw.is_empty() || raw.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    let now = st.clock.now();
    Ok(st
        .store
        .token_by_digest(&st.sessions.digester().digest(raw))
        .await?
        .filter(|t| t.kind == kind && t.is_live(now)))
}

/// The answer to a token that is unknown, expired, used or of another kind.
pub fn unusable(kind: TokenKind) -> Error {
    match kind {
        TokenKind::ResetPassword | TokenKind::MultiTenantPassword => Error::new(
            ErrorType::UnableToAuthPasswordResetToken,
            "The password reset token is unknown, expired or already used.",
        ),
        TokenKind::MagicLink | TokenKind::MultiTenantMagicLink => Error::new(
            ErrorType::UnableToAuthMagicLink,
            "The magic link is unknown, expired or already used.",
        ),
        TokenKind::IntermediateSession => Error::new(
            ErrorType::IntermediateSessionNotFound,
            "The intermediate session token is unknown, expired, used, or not this member's.",
        ),
    }
}
