//! The axum application: every route (`latch serve`) or one route (a Lambda function), with the
//! same layers, so both hosts run exactly the same code.

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;

use crate::api::auth::require_project;
use crate::api::json::MAX_BODY_BYTES;
use crate::api::openapi;
use crate::api::request_id;
use crate::api::route::Access;
use crate::api::sdk;
use crate::error::{Error, ErrorType};
use crate::handlers::routes::{Route, ROUTES};
use crate::state::AppState;

/// Every route in one router, and the OpenAPI document at `/openapi.json` (public, like the
/// JWKS: it describes the API and holds no project data).
pub fn router(state: AppState) -> Router {
    let document = openapi::document_json(crate::ROUTES);
    build(state, ROUTES.iter()).route(
        OPENAPI_PATH,
        axum::routing::get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
    )
}

/// Where `latch serve` answers with the OpenAPI document.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Only the named route, as a Lambda function mounts it.
pub fn router_for(state: AppState, route: &'static Route) -> Router {
    build(state, std::iter::once(route))
}

fn build<'a>(state: AppState, routes: impl Iterator<Item = &'a Route>) -> Router {
    let mut router = Router::new();
    let cors = sdk::cors(&state.settings.sdk);
    for route in routes {
        let handler = (route.handler)();
        let handler = match route.access {
            Access::Public => handler,
            Access::Project => handler.route_layer(from_fn_with_state(state.clone(), require_project)),
            // CORS outside the check, so that a preflight (which carries no credentials) is
            // answered and every answer, refusals included, carries the CORS headers.
            // The `OPTIONS` method is added after the checks, so a preflight passes none of them,
            // and only so that the route takes it: the CORS layer answers it itself.
            Access::Browser => handler
                .route_layer(from_fn_with_state(state.clone(), sdk::require_public_token))
                .options(sdk::preflight)
                .layer(cors.clone()),
            Access::Beacon => handler
                .route_layer(from_fn_with_state(state.clone(), sdk::require_origin))
                .options(sdk::preflight)
                .layer(cors.clone()),
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(request_id::assign))
        .with_state(state)
}

async fn not_found() -> Error {
    Error::new(ErrorType::RouteNotFound, "No endpoint has this path.")
}

async fn method_not_allowed() -> Error {
    Error::new(
        ErrorType::MethodNotAllowed,
        "This endpoint does not accept this HTTP method.",
    )
}
