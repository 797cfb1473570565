//! Every answer the black-box suites receive is checked against the OpenAPI document: its status
//! must be documented for the route, an error's `error_type` must be one the route lists, and the
//! body must validate against the documented schema (formats included). So each flow the suites
//! drive (MFA, resets, sessions) keeps the document true, not only what a fuzzer can reach.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// The route a request reaches: same method, and a path matching the route's template segment by
/// segment (`{name}` matches any one non-empty segment).
pub fn route_for(method: &str, path: &str) -> Option<&'static latch::Route> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    latch::ROUTES.iter().find(|r| {
        let template: Vec<&str> = r.path.split('/').collect();
        r.method.as_str() == method
            && template.len() == segments.len()
            && template
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
    })
}

/// Panics, naming the mismatch, unless `body` answered with `status` is what the document says
/// `method path` answers. Requests that reach no route (404/405 fallbacks) are not checked.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let Some(route) = route_for(method, path) else {
        return;
    };
    if status >= 400 {
        let error_type = body["error_type"].as_str().unwrap_or_default();
        let listed = latch::api::openapi::documented_errors(route)
            .iter()
            .any(|e| e.as_str() == error_type && e.status().as_u16() == status);
        assert!(
            listed,
            "{method} {path} answered {status} {error_type}, which the OpenAPI document does not list for {}",
            route.name
        );
    }
    let validator = validator(route, status);
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} with a body the OpenAPI document does not describe ({}):\n{}\nbody: {body}",
        route.name,
        errors.join("\n")
    );
}

type Validators = Mutex<HashMap<(&'static str, u16), Arc<jsonschema::Validator>>>;

/// The response schema of one route and status, compiled once per test binary. The document is
/// the root, so its `#/components/schemas/...` references resolve.
fn validator(route: &'static latch::Route, status: u16) -> Arc<jsonschema::Validator> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    let mut cache = VALIDATORS.get_or_init(Default::default).lock().unwrap();
    cache
        .entry((route.name, status))
        .or_insert_with(|| {
            let doc = DOCUMENT
                .get_or_init(|| serde_json::from_str(&latch::api::openapi::document_json(latch::ROUTES)).unwrap());
            let method = route.method.as_str().to_lowercase();
            let response = &doc["paths"][route.path][&method]["responses"][status.to_string()];
            assert!(
                response.is_object(),
                "{} answered {status}, a status the OpenAPI document does not list for it",
                route.name
            );
            let pointer = format!(
                "#/paths/{}/{method}/responses/{status}/content/application~1json/schema",
                // JSON Pointer escapes, then the braces a URI fragment may not hold.
                route
                    .path
                    .replace('~', "~0")
                    .replace('/', "~1")
                    .replace('{', "%7B")
                    .replace('}', "%7D")
            );
            let mut root = doc.clone();
            root["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
            root["$ref"] = pointer.into();
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{}: the response schema does not compile: {e}", route.name));
            Arc::new(validator)
        })
        .clone()
}
