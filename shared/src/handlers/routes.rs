//! Routes are data: one table of (name, method, path, handler). `latch serve`, each Lambda
//! binary, the SAM template and the OpenAPI document are checked against it, so they cannot drift.

use axum::routing::{delete, get, post, put};

use super::b2b::{
    directory, magic_links as b2b_magic_links, migrate as b2b_migrate, organizations, passwords as b2b_passwords,
    recovery_codes, sessions as b2b_sessions, totp,
};
use super::{migrate, passwords, reset, sdk, sessions, users};
pub use crate::api::route::*;

/// Whether `constant` is `name` in upper snake case (`PASSWORDS_CREATE`, `passwords-create`).
const fn is_constant_of(constant: &str, name: &str) -> bool {
    let (c, n) = (constant.as_bytes(), name.as_bytes());
    if c.len() != n.len() {
        return false;
    }
    let mut i = 0;
    while i < c.len() {
        let expected = if n[i] == b'-' { b'_' } else { n[i].to_ascii_uppercase() };
        if c[i] != expected {
            return false;
        }
        i += 1;
    }
    true
}

/// One constant per route, named after it (checked at compile time), and ROUTES, all of them. A
/// Lambda binary names its own route's constant and so links only that route's handler: one that
/// looked its route up in ROUTES at run time kept all 36.
macro_rules! routes {
    ($($constant:ident = $route:expr;)*) => {
        $(
            pub const $constant: Route = $route;
            const _: () = assert!(is_constant_of(stringify!($constant), $constant.name), "a route constant is named after its route");
        )*
        /// Every route, for `latch serve`, the OpenAPI document and the checks of the SAM
        /// template and functions/src/bin.
        pub static ROUTES: &[Route] = &[$($constant),*];
    };
}

#[rustfmt::skip]
routes! {
    PASSWORDS_CREATE = route("passwords-create", Method::Post, "/v1/passwords", HASHES, passwords::CREATE_API, || post(passwords::create));
    PASSWORDS_AUTHENTICATE = route("passwords-authenticate", Method::Post, "/v1/passwords/authenticate", HASHES, passwords::AUTHENTICATE_API, || post(passwords::authenticate));
    PASSWORDS_STRENGTH_CHECK = route("passwords-strength-check", Method::Post, "/v1/passwords/strength_check", SCORES, passwords::STRENGTH_CHECK_API, || post(passwords::strength_check));
    PASSWORDS_MIGRATE = route("passwords-migrate", Method::Post, "/v1/passwords/migrate", WRITES, migrate::MIGRATE_API, || post(migrate::migrate));
    PASSWORDS_EMAIL_RESET_START = route("passwords-email-reset-start", Method::Post, "/v1/passwords/email/reset/start", MAILS, reset::START_API, || post(reset::start));
    PASSWORDS_EMAIL_RESET = route("passwords-email-reset", Method::Post, "/v1/passwords/email/reset", HASHES, reset::EMAIL_RESET_API, || post(reset::email_reset));
    PASSWORDS_EXISTING_PASSWORD_RESET = route("passwords-existing-password-reset", Method::Post, "/v1/passwords/existing_password/reset", HASHES, reset::EXISTING_PASSWORD_RESET_API, || post(reset::existing_password_reset));
    PASSWORDS_SESSION_RESET = route("passwords-session-reset", Method::Post, "/v1/passwords/session/reset", HASHES, reset::SESSION_RESET_API, || post(reset::session_reset));
    MAGIC_LINKS_AUTHENTICATE = route("magic-links-authenticate", Method::Post, "/v1/magic_links/authenticate", WRITES, reset::MAGIC_LINK_API, || post(reset::magic_link_authenticate));
    SESSIONS_AUTHENTICATE = route("sessions-authenticate", Method::Post, "/v1/sessions/authenticate", WRITES, sessions::AUTHENTICATE_API, || post(sessions::authenticate));
    SESSIONS_REVOKE = route("sessions-revoke", Method::Post, "/v1/sessions/revoke", WRITES, sessions::REVOKE_API, || post(sessions::revoke));
    SESSIONS_GET = route("sessions-get", Method::Get, "/v1/sessions", READS, sessions::LIST_API, || get(sessions::list));
    SESSIONS_JWKS = public(route("sessions-jwks", Method::Get, "/v1/sessions/jwks/{project_id}", READS, sessions::JWKS_API, || get(sessions::jwks)));
    USERS_GET = route("users-get", Method::Get, "/v1/users/{user_id}", READS, users::GET_API, || get(users::get));
    USERS_DELETE = route("users-delete", Method::Delete, "/v1/users/{user_id}", WRITES, users::DELETE_API, || delete(users::delete));
    B2B_ORGANIZATIONS_CREATE = route("b2b-organizations-create", Method::Post, "/v1/b2b/organizations", WRITES, organizations::CREATE_API, || post(organizations::create));
    B2B_ORGANIZATIONS_GET = route("b2b-organizations-get", Method::Get, "/v1/b2b/organizations/{organization_id}", READS, organizations::GET_API, || get(organizations::get));
    B2B_ORGANIZATIONS_UPDATE = route("b2b-organizations-update", Method::Put, "/v1/b2b/organizations/{organization_id}", WRITES, organizations::UPDATE_API, || put(organizations::update));
    B2B_ORGANIZATIONS_DELETE = route("b2b-organizations-delete", Method::Delete, "/v1/b2b/organizations/{organization_id}", WRITES, organizations::DELETE_API, || delete(organizations::delete));
    B2B_MEMBERS_CREATE = route("b2b-members-create", Method::Post, "/v1/b2b/organizations/{organization_id}/members", WRITES, organizations::CREATE_MEMBER_API, || post(organizations::create_member));
    B2B_MEMBERS_GET = route("b2b-members-get", Method::Get, "/v1/b2b/organizations/{organization_id}/member", READS, organizations::GET_MEMBER_API, || get(organizations::get_member));
    B2B_RECOVERY_CODES_RECOVER = route("b2b-recovery-codes-recover", Method::Post, "/v1/b2b/recovery_codes/recover", WRITES, recovery_codes::RECOVER_API, || post(recovery_codes::recover));
    B2B_RECOVERY_CODES_GET = route("b2b-recovery-codes-get", Method::Get, "/v1/b2b/recovery_codes/{organization_id}/{member_id}", READS, recovery_codes::GET_API, || get(recovery_codes::get));
    B2B_RECOVERY_CODES_ROTATE = route("b2b-recovery-codes-rotate", Method::Post, "/v1/b2b/recovery_codes/rotate", WRITES, recovery_codes::ROTATE_API, || post(recovery_codes::rotate));
    B2B_MAGIC_LINKS_EMAIL_LOGIN_OR_SIGNUP = route("b2b-magic-links-email-login-or-signup", Method::Post, "/v1/b2b/magic_links/email/login_or_signup", MAILS, b2b_magic_links::LOGIN_OR_SIGNUP_API, || post(b2b_magic_links::login_or_signup));
    B2B_MAGIC_LINKS_AUTHENTICATE = route("b2b-magic-links-authenticate", Method::Post, "/v1/b2b/magic_links/authenticate", WRITES, b2b_magic_links::AUTHENTICATE_API, || post(b2b_magic_links::authenticate));
    B2B_PASSWORDS_AUTHENTICATE = route("b2b-passwords-authenticate", Method::Post, "/v1/b2b/passwords/authenticate", HASHES, b2b_passwords::AUTHENTICATE_API, || post(b2b_passwords::authenticate));
    B2B_PASSWORDS_STRENGTH_CHECK = route("b2b-passwords-strength-check", Method::Post, "/v1/b2b/passwords/strength_check", SCORES, b2b_passwords::STRENGTH_CHECK_API, || post(b2b_passwords::strength_check));
    B2B_PASSWORDS_MIGRATE = route("b2b-passwords-migrate", Method::Post, "/v1/b2b/passwords/migrate", WRITES, b2b_migrate::MIGRATE_API, || post(b2b_migrate::migrate));
    B2B_PASSWORDS_EMAIL_RESET_START = route("b2b-passwords-email-reset-start", Method::Post, "/v1/b2b/passwords/email/reset/start", MAILS, b2b_passwords::RESET_START_API, || post(b2b_passwords::reset_start));
    B2B_PASSWORDS_EMAIL_RESET = route("b2b-passwords-email-reset", Method::Post, "/v1/b2b/passwords/email/reset", HASHES, b2b_passwords::EMAIL_RESET_API, || post(b2b_passwords::email_reset));
    B2B_PASSWORDS_SESSION_RESET = route("b2b-passwords-session-reset", Method::Post, "/v1/b2b/passwords/session/reset", HASHES, b2b_passwords::SESSION_RESET_API, || post(b2b_passwords::session_reset));
    B2B_PASSWORDS_EXISTING_PASSWORD_RESET = route("b2b-passwords-existing-password-reset", Method::Post, "/v1/b2b/passwords/existing_password/reset", HASHES, b2b_passwords::EXISTING_PASSWORD_RESET_API, || post(b2b_passwords::existing_password_reset));
    B2B_SESSIONS_AUTHENTICATE = route("b2b-sessions-authenticate", Method::Post, "/v1/b2b/sessions/authenticate", WRITES, b2b_sessions::AUTHENTICATE_API, || post(b2b_sessions::authenticate));
    B2B_SESSIONS_REVOKE = route("b2b-sessions-revoke", Method::Post, "/v1/b2b/sessions/revoke", WRITES, b2b_sessions::REVOKE_API, || post(b2b_sessions::revoke));
    B2B_SESSIONS_GET = route("b2b-sessions-get", Method::Get, "/v1/b2b/sessions", READS, b2b_sessions::LIST_API, || get(b2b_sessions::list));
    B2B_SESSIONS_JWKS = public(route("b2b-sessions-jwks", Method::Get, "/v1/b2b/sessions/jwks/{project_id}", READS, sessions::JWKS_API, || get(sessions::jwks)));
    B2B_SESSIONS_EXCHANGE = route("b2b-sessions-exchange", Method::Post, "/v1/b2b/sessions/exchange", WRITES, b2b_sessions::EXCHANGE_API, || post(b2b_sessions::exchange));
    B2B_TOTP_CREATE = route("b2b-totp-create", Method::Post, "/v1/b2b/totp", WRITES, totp::CREATE_API, || post(totp::create));
    B2B_TOTP_AUTHENTICATE = route("b2b-totp-authenticate", Method::Post, "/v1/b2b/totp/authenticate", WRITES, totp::AUTHENTICATE_API, || post(totp::authenticate));
    SDK_BOOTSTRAP = browser(route("sdk-bootstrap", Method::Get, "/sdk/v1/projects/bootstrap/{public_token}", READS, sdk::BOOTSTRAP_API, || get(sdk::bootstrap)));
    SDK_EVENTS = beacon(route("sdk-events", Method::Post, "/sdk/v1/events", READS, sdk::EVENTS_API, || post(sdk::events)));
    SDK_PASSWORDS_CREATE = browser(route("sdk-passwords-create", Method::Post, "/sdk/v1/passwords", HASHES, passwords::SDK_CREATE_API, || post(passwords::sdk_create)));
    SDK_PASSWORDS_AUTHENTICATE = browser(route("sdk-passwords-authenticate", Method::Post, "/sdk/v1/passwords/authenticate", HASHES, passwords::SDK_AUTHENTICATE_API, || post(passwords::sdk_authenticate)));
    SDK_PASSWORDS_STRENGTH_CHECK = browser(route("sdk-passwords-strength-check", Method::Post, "/sdk/v1/passwords/strength_check", SCORES, passwords::SDK_STRENGTH_CHECK_API, || post(passwords::sdk_strength_check)));
    SDK_PASSWORDS_EMAIL_RESET_START = browser(route("sdk-passwords-email-reset-start", Method::Post, "/sdk/v1/passwords/email/reset/start", MAILS, reset::SDK_START_API, || post(reset::sdk_start)));
    SDK_PASSWORDS_EMAIL_RESET = browser(route("sdk-passwords-email-reset", Method::Post, "/sdk/v1/passwords/email/reset", HASHES, reset::SDK_EMAIL_RESET_API, || post(reset::sdk_email_reset)));
    SDK_PASSWORDS_EXISTING_PASSWORD_RESET = browser(route("sdk-passwords-existing-password-reset", Method::Post, "/sdk/v1/passwords/existing_password/reset", HASHES, reset::SDK_EXISTING_PASSWORD_RESET_API, || post(reset::sdk_existing_password_reset)));
    SDK_PASSWORDS_SESSION_RESET = browser(route("sdk-passwords-session-reset", Method::Post, "/sdk/v1/passwords/session/reset", HASHES, reset::SDK_SESSION_RESET_API, || post(reset::sdk_session_reset)));
    SDK_MAGIC_LINKS_AUTHENTICATE = browser(route("sdk-magic-links-authenticate", Method::Post, "/sdk/v1/magic_links/authenticate", WRITES, reset::SDK_MAGIC_LINK_API, || post(reset::sdk_magic_link_authenticate)));
    SDK_SESSIONS_AUTHENTICATE = browser(route("sdk-sessions-authenticate", Method::Post, "/sdk/v1/sessions/authenticate", WRITES, sessions::SDK_AUTHENTICATE_API, || post(sessions::sdk_authenticate)));
    SDK_SESSIONS_REVOKE = browser(route("sdk-sessions-revoke", Method::Post, "/sdk/v1/sessions/revoke", WRITES, sessions::SDK_REVOKE_API, || post(sessions::sdk_revoke)));
    SDK_USERS_ME = browser(route("sdk-users-me", Method::Get, "/sdk/v1/users/me", READS, users::SDK_ME_API, || get(users::sdk_me)));
    SDK_USERS_SEARCH = browser(route("sdk-users-search", Method::Post, "/sdk/v1/users/search", READS, users::SDK_SEARCH_API, || post(users::sdk_search)));
    SDK_B2B_MAGIC_LINKS_EMAIL_LOGIN_OR_SIGNUP = browser(route("sdk-b2b-magic-links-email-login-or-signup", Method::Post, "/sdk/v1/b2b/magic_links/email/login_or_signup", MAILS, b2b_magic_links::SDK_LOGIN_OR_SIGNUP_API, || post(b2b_magic_links::sdk_login_or_signup)));
    SDK_B2B_MAGIC_LINKS_AUTHENTICATE = browser(route("sdk-b2b-magic-links-authenticate", Method::Post, "/sdk/v1/b2b/magic_links/authenticate", WRITES, b2b_magic_links::SDK_AUTHENTICATE_API, || post(b2b_magic_links::sdk_authenticate)));
    SDK_B2B_RECOVERY_CODES_RECOVER = browser(route("sdk-b2b-recovery-codes-recover", Method::Post, "/sdk/v1/b2b/recovery_codes/recover", WRITES, recovery_codes::SDK_RECOVER_API, || post(recovery_codes::sdk_recover)));
    SDK_B2B_RECOVERY_CODES_GET = browser(route("sdk-b2b-recovery-codes-get", Method::Get, "/sdk/v1/b2b/recovery_codes", READS, recovery_codes::SDK_GET_API, || get(recovery_codes::sdk_get)));
    SDK_B2B_RECOVERY_CODES_ROTATE = browser(route("sdk-b2b-recovery-codes-rotate", Method::Post, "/sdk/v1/b2b/recovery_codes/rotate", WRITES, recovery_codes::SDK_ROTATE_API, || post(recovery_codes::sdk_rotate)));
    SDK_B2B_SESSIONS_EXCHANGE = browser(route("sdk-b2b-sessions-exchange", Method::Post, "/sdk/v1/b2b/sessions/exchange", WRITES, b2b_sessions::SDK_EXCHANGE_API, || post(b2b_sessions::sdk_exchange)));
    SDK_B2B_PASSWORDS_AUTHENTICATE = browser(route("sdk-b2b-passwords-authenticate", Method::Post, "/sdk/v1/b2b/passwords/authenticate", HASHES, b2b_passwords::SDK_AUTHENTICATE_API, || post(b2b_passwords::sdk_authenticate)));
    SDK_B2B_PASSWORDS_STRENGTH_CHECK = browser(route("sdk-b2b-passwords-strength-check", Method::Post, "/sdk/v1/b2b/passwords/strength_check", SCORES, b2b_passwords::SDK_STRENGTH_CHECK_API, || post(b2b_passwords::sdk_strength_check)));
    SDK_B2B_PASSWORDS_EMAIL_RESET_START = browser(route("sdk-b2b-passwords-email-reset-start", Method::Post, "/sdk/v1/b2b/passwords/email/reset/start", MAILS, b2b_passwords::SDK_RESET_START_API, || post(b2b_passwords::sdk_reset_start)));
    SDK_B2B_PASSWORDS_EMAIL_RESET = browser(route("sdk-b2b-passwords-email-reset", Method::Post, "/sdk/v1/b2b/passwords/email/reset", HASHES, b2b_passwords::SDK_EMAIL_RESET_API, || post(b2b_passwords::sdk_email_reset)));
    SDK_B2B_PASSWORDS_EXISTING_PASSWORD_RESET = browser(route("sdk-b2b-passwords-existing-password-reset", Method::Post, "/sdk/v1/b2b/passwords/existing_password/reset", HASHES, b2b_passwords::SDK_EXISTING_PASSWORD_RESET_API, || post(b2b_passwords::sdk_existing_password_reset)));
    SDK_B2B_PASSWORDS_SESSION_RESET = browser(route("sdk-b2b-passwords-session-reset", Method::Post, "/sdk/v1/b2b/passwords/session/reset", HASHES, b2b_passwords::SDK_SESSION_RESET_API, || post(b2b_passwords::sdk_session_reset)));
    SDK_B2B_SESSIONS_AUTHENTICATE = browser(route("sdk-b2b-sessions-authenticate", Method::Post, "/sdk/v1/b2b/sessions/authenticate", WRITES, b2b_sessions::SDK_AUTHENTICATE_API, || post(b2b_sessions::sdk_authenticate)));
    SDK_B2B_SESSIONS_REVOKE = browser(route("sdk-b2b-sessions-revoke", Method::Post, "/sdk/v1/b2b/sessions/revoke", WRITES, b2b_sessions::SDK_REVOKE_API, || post(b2b_sessions::sdk_revoke)));
    SDK_B2B_ORGANIZATIONS_SEARCH = browser(route("sdk-b2b-organizations-search", Method::Post, "/sdk/v1/b2b/organizations/search", READS, directory::ORGANIZATION_SEARCH_API, || post(directory::organization_search)));
    SDK_B2B_ORGANIZATIONS_ME = browser(route("sdk-b2b-organizations-me", Method::Get, "/sdk/v1/b2b/organizations/me", READS, directory::ORGANIZATION_ME_API, || get(directory::organization_me)));
    SDK_B2B_MEMBERS_SEARCH = browser(route("sdk-b2b-members-search", Method::Post, "/sdk/v1/b2b/organizations/members/search", READS, directory::MEMBER_SEARCH_API, || post(directory::member_search)));
    SDK_B2B_MEMBERS_ME = browser(route("sdk-b2b-members-me", Method::Get, "/sdk/v1/b2b/organizations/members/me", READS, directory::MEMBER_ME_API, || get(directory::member_me)));
    SDK_B2B_TOTP_CREATE = browser(route("sdk-b2b-totp-create", Method::Post, "/sdk/v1/b2b/totp", WRITES, totp::SDK_CREATE_API, || post(totp::sdk_create)));
    SDK_B2B_TOTP_AUTHENTICATE = browser(route("sdk-b2b-totp-authenticate", Method::Post, "/sdk/v1/b2b/totp/authenticate", WRITES, totp::SDK_AUTHENTICATE_API, || post(totp::sdk_authenticate)));
}

pub fn by_name(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_method_paths_are_unique_and_kebab_case() {
        let mut names = std::collections::HashSet::new();
        let mut endpoints = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert!(endpoints.insert((r.method, r.path)), "duplicate endpoint {r:?}");
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.name
            );
        }
    }
}
