//! Routes are data: one table of (name, method, path, handler). `latch serve`, each Lambda
//! binary, the SAM template and the OpenAPI document are checked against it, so they cannot drift.

use axum::routing::{delete, get, post, MethodRouter};

use super::{passwords, sessions, users};
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

pub static ROUTES: &[Route] = &[
    Route {
        name: "passwords-create",
        method: Method::Post,
        path: "/v1/passwords",
        public: false,
        handler: || post(passwords::create),
    },
    Route {
        name: "passwords-authenticate",
        method: Method::Post,
        path: "/v1/passwords/authenticate",
        public: false,
        handler: || post(passwords::authenticate),
    },
    Route {
        name: "passwords-strength-check",
        method: Method::Post,
        path: "/v1/passwords/strength_check",
        public: false,
        handler: || post(passwords::strength_check),
    },
    Route {
        name: "sessions-authenticate",
        method: Method::Post,
        path: "/v1/sessions/authenticate",
        public: false,
        handler: || post(sessions::authenticate),
    },
    Route {
        name: "sessions-revoke",
        method: Method::Post,
        path: "/v1/sessions/revoke",
        public: false,
        handler: || post(sessions::revoke),
    },
    Route {
        name: "sessions-get",
        method: Method::Get,
        path: "/v1/sessions",
        public: false,
        handler: || get(sessions::list),
    },
    Route {
        name: "sessions-jwks",
        method: Method::Get,
        path: "/v1/sessions/jwks/{project_id}",
        public: true,
        handler: || get(sessions::jwks),
    },
    Route {
        name: "users-get",
        method: Method::Get,
        path: "/v1/users/{user_id}",
        public: false,
        handler: || get(users::get),
    },
    Route {
        name: "users-delete",
        method: Method::Delete,
        path: "/v1/users/{user_id}",
        public: false,
        handler: || delete(users::delete),
    },
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
            assert!(
                endpoints.insert((r.method, r.path)),
                "duplicate endpoint {r:?}"
            );
            assert!(
                r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.name
            );
        }
    }
}
