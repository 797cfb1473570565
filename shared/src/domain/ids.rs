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

    pub fn as_str(self) -> &'static str {
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
    // Only the hyphenated form ids are minted in: `parse_str` also reads the simple, braced and
    // URN forms, which would reach the store and come back `*_not_found`.
    uuid.is_some_and(|u| u.len() == 36 && uuid::Uuid::parse_str(u).is_ok())
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

    #[test]
    fn only_the_hyphenated_uuid_form_is_an_id() {
        let u = uuid::Uuid::new_v4();
        assert!(looks_like(IdKind::User, &format!("user-test-{}", u.hyphenated())));
        for other in [u.simple().to_string(), u.braced().to_string(), u.urn().to_string()] {
            assert!(!looks_like(IdKind::User, &format!("user-test-{other}")), "{other}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    const KINDS: [IdKind; 9] = [
        IdKind::User,
        IdKind::Email,
        IdKind::Password,
        IdKind::Session,
        IdKind::Jwk,
        IdKind::Organization,
        IdKind::Member,
        IdKind::MemberEmail,
        IdKind::TotpRegistration,
    ];

    fn kind() -> impl Strategy<Value = IdKind> {
        prop::sample::select(KINDS.to_vec())
    }

    /// 8-4-4-4-12 hex digits: the only form of UUID Latch mints (an independent oracle).
    fn is_hyphenated_uuid(s: &str) -> bool {
        let groups: Vec<&str> = s.split('-').collect();
        groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// Tails after `<kind>-<env>-`: UUIDs in every notation the `uuid` crate reads, and garbage.
    fn tail() -> impl Strategy<Value = String> {
        let uuid = any::<u128>().prop_map(uuid::Uuid::from_u128);
        prop_oneof![
            uuid.clone().prop_map(|u| u.hyphenated().to_string()),
            uuid.clone().prop_map(|u| u.hyphenated().to_string().to_uppercase()),
            uuid.clone().prop_map(|u| u.simple().to_string()),
            uuid.clone().prop_map(|u| u.braced().to_string()),
            uuid.prop_map(|u| u.urn().to_string()),
            "[0-9a-fA-F-]{30,40}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn a_minted_id_is_its_own_kind_only(k in kind(), live in any::<bool>()) {
            let env = if live { IdEnvironment::Live } else { IdEnvironment::Test };
            let id = new_id(k, env);
            for other in KINDS {
                prop_assert_eq!(looks_like(other, &id), other == k, "{} as {:?}", id, other);
            }
        }

        #[test]
        fn an_id_is_prefix_environment_and_hyphenated_uuid(
            k in kind(),
            prefix in prop_oneof![kind().prop_map(|k| k.prefix().to_string()), "[a-z-]{0,14}"],
            env in prop_oneof![Just("test".to_string()), Just("live".to_string()), "[a-z]{0,5}"],
            tail in tail(),
        ) {
            let raw = format!("{prefix}-{env}-{tail}");
            let expected = prefix == k.prefix() && (env == "test" || env == "live") && is_hyphenated_uuid(&tail);
            prop_assert_eq!(looks_like(k, &raw), expected, "{:?} as {:?}", raw, k);
        }

        #[test]
        fn any_string_is_checked_without_panicking(k in kind(), raw in any::<String>()) {
            if looks_like(k, &raw) {
                let rest = raw.strip_prefix(k.prefix()).unwrap();
                prop_assert!(rest.starts_with("-test-") || rest.starts_with("-live-"));
                prop_assert!(is_hyphenated_uuid(&rest[6..]));
            }
        }

        #[test]
        fn live_ids_only_for_live_projects(project_id in prop_oneof![any::<String>(), "project-(live|test)-[a-z0-9-]{0,20}"]) {
            let env = IdEnvironment::for_project(&project_id);
            prop_assert_eq!(env == IdEnvironment::Live, project_id.starts_with("project-live-"));
        }
    }
}
