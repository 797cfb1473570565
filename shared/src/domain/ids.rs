//! Stytch-style identifiers: `<kind>-<test|live>-<uuid>`.

/// What an id names. The prefix is part of the wire format the SDKs' users see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    User,
    Email,
    Password,
    Session,
    Jwk,
    Organization,
    Member,
    MemberEmail,
    TotpRegistration,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::User => "user",
            IdKind::Email => "email",
            IdKind::Password => "password",
            IdKind::Session => "session",
            IdKind::Jwk => "jwk",
            IdKind::Organization => "organization",
            IdKind::Member => "member",
            IdKind::MemberEmail => "member-email",
            IdKind::TotpRegistration => "member-totp",
        }
    }
}

/// Which environment ids are minted for: `live` when the project id says so, as Stytch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdEnvironment {
    Test,
    Live,
}

impl IdEnvironment {
    pub fn for_project(project_id: &str) -> Self {
        if project_id.starts_with("project-live-") {
            Self::Live
        } else {
            Self::Test
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Live => "live",
        }
    }
}

pub fn new_id(kind: IdKind, env: IdEnvironment) -> String {
    format!("{}-{}-{}", kind.prefix(), env.as_str(), uuid::Uuid::new_v4())
}

/// Check that a path parameter looks like an id of `kind`, so garbage is `invalid_*_id` rather
/// than a store lookup.
pub fn looks_like(kind: IdKind, raw: &str) -> bool {
    let Some(rest) = raw.strip_prefix(kind.prefix()).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let uuid = rest.strip_prefix("test-").or_else(|| rest.strip_prefix("live-"));
    uuid.is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_are_recognised() {
        let id = new_id(IdKind::User, IdEnvironment::for_project("project-test-x"));
        assert!(id.starts_with("user-test-"));
        assert!(looks_like(IdKind::User, &id));
        assert!(!looks_like(IdKind::Session, &id));
        assert!(!looks_like(IdKind::User, "user-test-nope"));
        let email_id = new_id(IdKind::MemberEmail, IdEnvironment::Test);
        assert!(
            !looks_like(IdKind::Member, &email_id),
            "a member email id is not a member id"
        );
        assert!(new_id(IdKind::Jwk, IdEnvironment::for_project("project-live-1")).starts_with("jwk-live-"));
    }
}
