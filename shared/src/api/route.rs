//! What a route is: its name, method, path, what its function needs from AWS and what it takes
//! and answers. The table of every route is data in `crate::handlers::routes`; this layer knows
//! the shape of a route, not the routes, so the OpenAPI document is built from whatever table it
//! is given.

use axum::routing::MethodRouter;

use super::openapi::Api;
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

/// What a route's Lambda function needs from AWS, so the SAM template can grant exactly that
/// (a test checks the template against it). Every function may also read the table and write
/// the signing keys' partition: the first process to start creates the project's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Writes the table (otherwise reads only).
    pub writes: bool,
    /// Sends mail through SES.
    pub mail: bool,
    /// Hashes or scores passwords (argon2id, zxcvbn): given more memory, which on Lambda is also
    /// more CPU.
    pub heavy: bool,
}

/// Reads only.
pub const READS: Needs = Needs {
    writes: false,
    mail: false,
    heavy: false,
};
/// Writes, without hashing.
pub const WRITES: Needs = Needs { writes: true, ..READS };
/// Writes and hashes.
pub const HASHES: Needs = Needs { heavy: true, ..WRITES };
/// Writes and sends mail.
pub const MAILS: Needs = Needs { mail: true, ..WRITES };
/// Scores passwords without touching the table.
pub const SCORES: Needs = Needs { heavy: true, ..READS };

/// Who may call a route, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A backend, with the project's id and secret (HTTP Basic): every `/v1` route but the JWKS.
    Project,
    /// Anyone: the JWKS.
    Public,
    /// A browser page on an authorized origin, with the public token (and the session token, if
    /// it has one) as HTTP Basic; answered in the frontend SDK's `{"data": …}` envelope, with CORS
    /// (crate::api::sdk). Every `/sdk/v1` route but the telemetry.
    Browser,
    /// A browser page on an authorized origin, without credentials: the SDK's telemetry
    /// (`/sdk/v1/events`), which it sends with none.
    Beacon,
}

pub struct Route {
    /// Kebab-case: the Lambda binary's name and the SAM function's purpose.
    pub name: &'static str,
    pub method: Method,
    /// axum / OpenAPI path syntax, e.g. `/v1/users/{user_id}`.
    pub path: &'static str,
    pub access: Access,
    pub needs: Needs,
    /// What it takes and answers, for the OpenAPI document.
    pub api: Api,
    pub handler: fn() -> MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.method.as_str(), self.path)
    }
}

pub const fn route(
    name: &'static str,
    method: Method,
    path: &'static str,
    needs: Needs,
    api: Api,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    Route {
        name,
        method,
        path,
        access: Access::Project,
        needs,
        api,
        handler,
    }
}

pub const fn public(route: Route) -> Route {
    Route {
        access: Access::Public,
        ..route
    }
}

pub const fn browser(route: Route) -> Route {
    Route {
        access: Access::Browser,
        ..route
    }
}

pub const fn beacon(route: Route) -> Route {
    Route {
        access: Access::Beacon,
        ..route
    }
}
