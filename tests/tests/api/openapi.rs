//! The OpenAPI document: generated from the route table and wire types, committed under docs/,
//! served by `latch serve`, and in exact agreement with the routes.

use std::collections::BTreeSet;

use latch::api::openapi::{document_json, documented_errors, path_parameters};
use latch::api::route::Access;
use serde_json::Value;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

fn document() -> Value {
    serde_json::from_str(&document_json(latch::ROUTES)).unwrap()
}

/// docs/openapi.json is what the code generates now. `LATCH_UPDATE_OPENAPI=1` rewrites it.
#[test]
fn committed_copy_is_current() {
    let generated = document_json(latch::ROUTES);
    let path = committed_path();
    if std::env::var("LATCH_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: regenerate it with \
         `LATCH_UPDATE_OPENAPI=1 cargo test -p latch-tests --test api openapi` (or `latch openapi > docs/openapi.json`)"
    );
}

#[test]
fn paths_and_methods_agree_exactly_with_the_route_table() {
    let doc = document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((
                method.to_uppercase(),
                path.clone(),
                op["operationId"].as_str().unwrap().to_string(),
            ));
        }
    }
    let routes: BTreeSet<_> = latch::ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_string(), r.path.to_string(), r.name.to_string()))
        .collect();
    assert_eq!(documented, routes);
}

#[test]
fn each_operation_documents_auth_parameters_and_every_error_status() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["projectBasicAuth"]["scheme"],
        "basic"
    );
    for route in latch::ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        let name = route.name;
        // Basic auth on every route but the public JWKS and the SDK's telemetry: the project's
        // on /v1, the public token's on /sdk/v1.
        let scheme = op["security"][0].as_object().and_then(|s| s.keys().next().cloned());
        let expected = match route.access {
            Access::Project => Some("projectBasicAuth"),
            Access::Browser => Some("publicTokenBasicAuth"),
            Access::Public | Access::Beacon => None,
        };
        assert_eq!(scheme.as_deref(), expected, "{name}");
        // Path parameters, as the path names them.
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(params, path_parameters(route.path), "{name}");
        // A success body, and per error status an envelope naming exactly the route's error types.
        assert!(
            op["responses"]["200"]["content"]["application/json"]["schema"].is_object(),
            "{name}"
        );
        for error in documented_errors(route) {
            let status = error.status().as_u16().to_string();
            let schema = &op["responses"][&status]["content"]["application/json"]["schema"];
            let types: Vec<&str> = schema["properties"]["error_type"]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: no {status} response"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert!(types.contains(&error.as_str()), "{name} {status} lacks {error}");
            let required: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(
                required,
                ["status_code", "request_id", "error_type", "error_message", "error_url"],
                "{name}"
            );
        }
        // POST and PUT take a JSON body, but for some the frontend SDK sends none that Latch
        // reads: its logouts (no body at all), its telemetry (dropped unread) and the rotation
        // of recovery codes (only captcha fields, which Latch turns off).
        let has_body = op.get("requestBody").is_some();
        let bodiless = matches!(
            name,
            "sdk-sessions-revoke" | "sdk-b2b-sessions-revoke" | "sdk-events" | "sdk-b2b-recovery-codes-rotate"
        );
        assert_eq!(
            has_body,
            matches!(route.method.as_str(), "POST" | "PUT") && !bodiless,
            "{name}"
        );
    }
}

#[test]
fn request_bounds_come_from_the_domain_rules() {
    let doc = document();
    let body = &doc["paths"]["/v1/passwords"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], serde_json::json!(["email", "password"]));
    assert_eq!(body["properties"]["email"]["format"], "email");
    assert_eq!(body["properties"]["email"]["maxLength"], 254);
    assert_eq!(
        body["properties"]["password"]["maxLength"],
        latch::domain::password::MAX_PASSWORD_CHARS
    );
    let minutes = &body["properties"]["session_duration_minutes"];
    assert_eq!(minutes["minimum"], latch::domain::SessionDuration::MIN);
    assert_eq!(minutes["maximum"], latch::domain::SessionDuration::MAX);
}

#[tokio::test]
async fn serve_answers_with_the_document_without_credentials() {
    let app = latch_tests::TestApp::spawn().await;
    let resp = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served: Value = resp.json().await.unwrap();
    assert_eq!(served, document());
}

/// A request field whose parser has its own error type makes that error part of the endpoint's
/// documented answers (fuzzing sends every documented field, so a gap here fails there later).
#[test]
fn fields_with_their_own_parser_document_its_error() {
    let rules: &[(&str, &str)] = &[
        ("email", "invalid_email"),
        ("email_address", "invalid_email"),
        ("password", "password_too_long"),
        ("new_password", "password_too_long"),
        ("session_duration_minutes", "invalid_session_duration_minutes"),
        ("session_custom_claims", "custom_claims_too_large"),
        ("session_jwt", "unable_to_parse_session_jwt"),
        ("locale", "invalid_locale"),
        ("code_challenge", "invalid_pkce_code_challenge"),
        ("code_verifier", "pkce_mismatch"),
    ];
    let doc = document();
    let mut missing = vec![];
    for route in latch::ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        let body = &op["requestBody"]["content"]["application/json"]["schema"]["properties"];
        let mut fields: Vec<String> = body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(params) = op["parameters"].as_array() {
            fields.extend(params.iter().map(|p| p["name"].as_str().unwrap().to_string()));
        }
        let errors: Vec<&str> = documented_errors(route).iter().map(|e| e.as_str()).collect();
        for (field, error) in rules {
            if fields.iter().any(|f| f == field) && !errors.contains(error) {
                missing.push(format!("{}: {field} → {error}", route.name));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented errors:\n{}", missing.join("\n"));
}

/// The harness's check (applied to every answer the suites get) accepts a documented answer and
/// refuses a wrong body, an unlisted error type and an undocumented status.
#[test]
fn the_harness_check_refuses_what_the_document_does_not_describe() {
    use latch_tests::documented::check;
    let refused = |method: &'static str, path: &'static str, status: u16, body: Value| {
        std::panic::catch_unwind(move || check(method, path, status, &body)).is_err()
    };
    let envelope = |status: u16, error_type: &str| {
        serde_json::json!({
            "status_code": status, "request_id": "request-id-test-1", "error_type": error_type,
            "error_message": "m", "error_url": "https://stytch.com/docs"
        })
    };
    // Documented: passes.
    check("GET", "/v1/users/user-test-1", 404, &envelope(404, "user_not_found"));
    let jwks = serde_json::json!({"status_code": 200, "request_id": "r", "keys": []});
    check("GET", "/v1/sessions/jwks/project-test-1", 200, &jwks);
    // An error type the route does not list, a body missing a field, a wrong type, an
    // undocumented status.
    assert!(refused(
        "GET",
        "/v1/users/user-test-1",
        400,
        envelope(400, "weak_password")
    ));
    assert!(refused(
        "GET",
        "/v1/users/user-test-1",
        404,
        serde_json::json!({"status_code": 404})
    ));
    assert!(refused(
        "GET",
        "/v1/sessions/jwks/p",
        200,
        serde_json::json!({"status_code": 200, "request_id": "r", "keys": "none"})
    ));
    assert!(refused("GET", "/v1/sessions/jwks/p", 418, envelope(418, "bad_request")));
}
