//! Routes are data: one table of (name, method, path, handler). `latch serve`, each Lambda
//! binary, the SAM template and the OpenAPI document are checked against it, so they cannot drift.

use axum::routing::{delete, get, post, MethodRouter};

use super::{passwords, reset, sessions, users};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

pub struct Route {
    /// Kebab-case: the Lambda binary's name and the SAM function's purpose.
    pub name: &'static str,
    pub method: Method,
    /// axum / OpenAPI path syntax, e.g. `/v1/users/{user_id}`.
    pub path: &'static str,
    /// Served without project authentication.
    pub public: bool,
    pub handler: fn() -> MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.method.as_str(), self.path)
    }
}

const fn route(
    name: &'static str,
    method: Method,
    path: &'static str,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    Route {
        name,
        method,
        path,
        public: false,
        handler,
    }
}

const fn public(route: Route) -> Route {
    Route { public: true, ..route }
}

#[rustfmt::skip]
pub static ROUTES: &[Route] = &[
    route("passwords-create", Method::Post, "/v1/passwords", || post(passwords::create)),
    route("passwords-authenticate", Method::Post, "/v1/passwords/authenticate", || post(passwords::authenticate)),
    route("passwords-strength-check", Method::Post, "/v1/passwords/strength_check", || post(passwords::strength_check)),
    route("passwords-email-reset-start", Method::Post, "/v1/passwords/email/reset/start", || post(reset::start)),
    route("passwords-email-reset", Method::Post, "/v1/passwords/email/reset", || post(reset::email_reset)),
    route("passwords-existing-password-reset", Method::Post, "/v1/passwords/existing_password/reset", || post(reset::existing_password_reset)),
    route("passwords-session-reset", Method::Post, "/v1/passwords/session/reset", || post(reset::session_reset)),
    route("magic-links-authenticate", Method::Post, "/v1/magic_links/authenticate", || post(reset::magic_link_authenticate)),
    route("sessions-authenticate", Method::Post, "/v1/sessions/authenticate", || post(sessions::authenticate)),
    route("sessions-revoke", Method::Post, "/v1/sessions/revoke", || post(sessions::revoke)),
    route("sessions-get", Method::Get, "/v1/sessions", || get(sessions::list)),
    public(route("sessions-jwks", Method::Get, "/v1/sessions/jwks/{project_id}", || get(sessions::jwks))),
    route("users-get", Method::Get, "/v1/users/{user_id}", || get(users::get)),
    route("users-delete", Method::Delete, "/v1/users/{user_id}", || delete(users::delete)),
];

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
            assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", r.name);
        }
    }
}
