//! The OpenAPI 3.1 document, built from the route table and the wire types (their `ToSchema`
//! derives), so it cannot drift from what the code accepts and answers. `latch serve` serves it at
//! `/openapi.json`; `docs/openapi.json` is a generated copy a test keeps current.
//!
//! Each route carries an [`Api`]: its input type, its output type and the error types it answers
//! with beyond [`COMMON_ERRORS`]. The black-box suite checks every error it provokes against that
//! list, and schema fuzzing checks every response against the document.

use std::collections::BTreeMap;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, RefOr, Required, ResponseBuilder,
    ResponsesBuilder,
};
use utoipa::ToSchema;

use super::error::ErrorType;
use super::route::{Access, Method, Route};

/// Named schemas collected while building the document (`components.schemas`).
pub type Schemas = Vec<(String, RefOr<Schema>)>;
/// Produces a type's schema, registering the named schemas it refers to.
pub type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// What a route takes and answers.
#[derive(Clone, Copy)]
pub struct Api {
    pub input: Input,
    /// The success body (without `status_code` and `request_id`, which every body carries).
    pub output: SchemaFn,
    /// The error types this route answers with, besides [`COMMON_ERRORS`]: its own, and the
    /// groups of [`errors`] for the rules it shares with other routes.
    pub errors: ErrorGroups,
}

/// The error-type groups a route answers with (see [`Api::errors`]).
pub type ErrorGroups = &'static [&'static [ErrorType]];

impl Api {
    /// A route that takes the JSON body `I` and answers `O`.
    pub const fn body<I: ToSchema, O: ToSchema>(errors: ErrorGroups) -> Api {
        Api {
            input: Input::Body(schema::<I>),
            output: schema::<O>,
            errors,
        }
    }

    /// A route that takes the query string `I` and answers `O`.
    pub const fn query<I: ToSchema, O: ToSchema>(errors: ErrorGroups) -> Api {
        Api {
            input: Input::Query(schema::<I>),
            output: schema::<O>,
            errors,
        }
    }

    /// A route that takes nothing but its path and answers `O`.
    pub const fn bodiless<O: ToSchema>(errors: ErrorGroups) -> Api {
        Api {
            input: Input::None,
            output: schema::<O>,
            errors,
        }
    }

    /// This route's answers and errors for the JSON body `I` (a frontend SDK door beside its
    /// backend twin).
    pub const fn taking<I: ToSchema>(self) -> Api {
        Api {
            input: Input::Body(schema::<I>),
            ..self
        }
    }

    /// This route's input and errors, answering `O`.
    pub const fn answering<O: ToSchema>(self) -> Api {
        Api {
            output: schema::<O>,
            ..self
        }
    }
}

#[derive(Clone, Copy)]
pub enum Input {
    None,
    /// A JSON request body.
    Body(SchemaFn),
    /// Query-string parameters: the properties of this object schema.
    Query(SchemaFn),
}

/// The schema of `T`, inline, with the named schemas it refers to registered.
pub fn schema<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    T::schema()
}

/// Error types any route may answer with: a body or query string that does not parse, a body
/// over the size limit, and a failing store. Routes that need project credentials add
/// `unauthorized_credentials`; the frontend SDK's routes add their origin and token refusals.
pub const COMMON_ERRORS: &[ErrorType] = &[
    ErrorType::BadRequest,
    ErrorType::RequestTooLarge,
    // `latch serve`'s connection limits (crate::server): a stalled body, an oversized head.
    ErrorType::RequestTimeout,
    ErrorType::RequestHeaderFieldsTooLarge,
    ErrorType::InternalServerError,
    ErrorType::ServiceUnavailable,
];

/// Every error type `route` is documented to answer with.
pub fn documented_errors(route: &Route) -> Vec<ErrorType> {
    let mut all: Vec<ErrorType> = COMMON_ERRORS.to_vec();
    match route.access {
        Access::Public => {}
        Access::Project => all.push(ErrorType::UnauthorizedCredentials),
        Access::Browser => all.extend([ErrorType::BadDomainForStytchSdk, ErrorType::PublicTokenNotFound]),
        Access::Beacon => all.push(ErrorType::BadDomainForStytchSdk),
    }
    for e in route.api.errors.iter().copied().flatten() {
        if !all.contains(e) {
            all.push(*e);
        }
    }
    all
}

/// Error types that come with a rule several routes share, listed once.
pub mod errors {
    use crate::api::error::ErrorType::{self, *};

    /// `session_token` / `session_jwt` naming an existing session to extend.
    pub const ATTACHED_SESSION: &[ErrorType] = &[SessionNotFound, UnableToParseSessionJwt, TooManySessionArguments];
    /// `sessions/revoke` (consumer and B2B): exactly one way to name the session, and the one named.
    pub const SESSION_REVOKE: &[ErrorType] = &[
        NoSessionRevokeArguments,
        TooManySessionRevokeArguments,
        SessionNotFound,
        UnableToParseSessionJwt,
    ];
    /// `session_duration_minutes` and `session_custom_claims`.
    pub const SESSION_OPTIONS: &[ErrorType] = &[InvalidSessionDurationMinutes, CustomClaimsTooLarge];
    /// A password being set: length, strength, breach.
    pub const NEW_PASSWORD: &[ErrorType] = &[PasswordTooLong, WeakPassword, BreachedPassword];
    /// Redeeming an emailed token started with a PKCE `code_challenge`.
    pub const PKCE_VERIFIER: &[ErrorType] = &[PkceExpectedCodeVerifier, PkceDidNotExpectCodeVerifier, PkceMismatch];
    /// The reset and login redirect URLs of a reset email.
    pub const RESET_REDIRECTS: &[ErrorType] = &[
        NoPasswordResetRedirectUrl,
        InvalidPasswordResetRedirectUrl,
        NoLoginRedirectUrl,
        InvalidLoginRedirectUrl,
    ];
    /// Sending an emailed link: its lifetime, locale, PKCE challenge, rate limit and delivery.
    pub const EMAILED_LINK: &[ErrorType] = &[
        InvalidExpiration,
        InvalidLocale,
        InvalidPkceCodeChallenge,
        TooManyRequests,
        EmailSendFailed,
    ];
    /// A migrated hash and its config object (`crate::hashing::imported`), and the rule that
    /// migrate never replaces a password.
    pub const IMPORTED_HASH: &[ErrorType] = &[
        InvalidHashType,
        InvalidHash,
        InvalidBcryptHash,
        InvalidBcryptCost,
        InvalidMd5Hash,
        InvalidSha1Hash,
        InvalidPrependSalt,
        InvalidAppendSalt,
        InvalidArgon2Salt,
        InvalidArgon2IterationAmount,
        InvalidArgon2Memory,
        InvalidArgon2Threads,
        InvalidArgon2KeyLength,
        Argon2KeyLengthMismatch,
        InvalidBase64ScryptHash,
        InvalidBase64ScryptSalt,
        InvalidScryptNParameter,
        InvalidScryptParameters,
        InvalidScryptSaltLength,
        ScryptKeyLengthMismatch,
        InvalidPbkdf2Hash,
        InvalidPbkdf2Salt,
        InvalidPbkdf2IterationAmount,
        InvalidPbkdf2Algorithm,
        Pbkdf2KeyLengthMismatch,
        InvalidPhpassHashFormat,
        InvalidPhpassHashPrefix,
        PasswordAlreadyExists,
    ];
}

const BASIC_AUTH: &str = "projectBasicAuth";
const PUBLIC_TOKEN_AUTH: &str = "publicTokenBasicAuth";

/// The whole document for the route table `routes`.
pub fn document(routes: &[Route]) -> OpenApi {
    let mut schemas = Schemas::new();
    let mut paths = Paths::new();
    for route in routes {
        paths.add_path_operation(
            route.path,
            vec![http_method(route.method)],
            operation(route, &mut schemas),
        );
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            BASIC_AUTH,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The project id as the user name and the project secret as the password.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            PUBLIC_TOKEN_AUTH,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The frontend SDK's: the public token as the user name, and as the password the session \
                     token the page holds, or the public token again without one. Only from an origin on \
                     LATCH_SDK_ORIGINS.",
                    ))
                    .build(),
            ),
        );
    for (name, schema) in unique(schemas) {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Latch")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Self-hosted password authentication speaking Stytch's Passwords API (consumer and B2B). \
                     Every success body carries `status_code` and `request_id`; every error is Stytch's envelope.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build()
}

/// The document as the JSON `latch serve` answers and `docs/openapi.json` holds.
pub fn document_json(routes: &[Route]) -> String {
    let mut json = document(routes)
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// Named schemas once each. Two different types with one name would make every reference to it
/// ambiguous: that is a bug in the wire types, caught by the document's tests.
fn unique(schemas: Schemas) -> BTreeMap<String, RefOr<Schema>> {
    let mut out = BTreeMap::new();
    for (name, schema) in schemas {
        if let Some(existing) = out.get(&name) {
            assert!(
                *existing == schema,
                "two different wire types are both named {name} in the OpenAPI document"
            );
        } else {
            out.insert(name, schema);
        }
    }
    out
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
        Method::Delete => HttpMethod::Delete,
    }
}

fn operation(route: &Route, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let tag = match (route.access, route.path.contains("/b2b/")) {
        (Access::Browser | Access::Beacon, true) => "sdk-b2b",
        (Access::Browser | Access::Beacon, false) => "sdk",
        (_, true) => "b2b",
        (_, false) => "consumer",
    };
    let mut op = OperationBuilder::new().operation_id(Some(route.name)).tag(tag);
    for name in path_parameters(route.path) {
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)))),
        );
    }
    match route.api.input {
        Input::None => {}
        Input::Body(body) => {
            let body = body(schemas);
            // An empty body reads as `{}` (`api::json::parse_json`), so a body is required only
            // where the type has required fields.
            let required = match &body {
                RefOr::T(Schema::Object(object)) if object.required.is_empty() => Required::False,
                _ => Required::True,
            };
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(body)))
                    .required(Some(required))
                    .build(),
            ));
        }
        Input::Query(query) => {
            let RefOr::T(Schema::Object(object)) = query(schemas) else {
                panic!("{}: query parameters must be an inline object schema", route.name)
            };
            for (name, schema) in object.properties {
                let required = object.required.contains(&name);
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Query)
                        .required(if required { Required::True } else { Required::False })
                        .schema(Some(schema)),
                );
            }
        }
    }
    match route.access {
        Access::Public | Access::Beacon => {}
        Access::Project => op = op.security(SecurityRequirement::new(BASIC_AUTH, Vec::<String>::new())),
        Access::Browser => op = op.security(SecurityRequirement::new(PUBLIC_TOKEN_AUTH, Vec::<String>::new())),
    }
    let body = success((route.api.output)(schemas));
    let body = match route.access {
        Access::Browser | Access::Beacon => ObjectBuilder::new().property("data", body).required("data").into(),
        Access::Public | Access::Project => body,
    };
    let mut responses = ResponsesBuilder::new().response(
        "200",
        ResponseBuilder::new()
            .description("Success.")
            .content("application/json", Content::new(Some(body))),
    );
    let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for e in documented_errors(route) {
        let names = by_status.entry(e.status().as_u16()).or_default();
        if !names.contains(&e.as_str()) {
            names.push(e.as_str());
        }
    }
    for (status, names) in by_status {
        responses = responses.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(format!("Error ({}).", names.join(", ")))
                .content("application/json", Content::new(Some(error_envelope(status, &names)))),
        );
    }
    op.responses(responses.build()).build()
}

/// `{name}` segments of an axum/OpenAPI path.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// `status_code` and `request_id`, then the route's own fields.
fn success(body: RefOr<Schema>) -> RefOr<Schema> {
    let envelope = ObjectBuilder::new()
        .property(
            "status_code",
            ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([200])),
        )
        .required("status_code")
        .property("request_id", ObjectBuilder::new().schema_type(Type::String))
        .required("request_id");
    RefOr::T(AllOfBuilder::new().item(envelope).item(body).build().into())
}

/// Stytch's error envelope for one status, naming the error types it may carry.
fn error_envelope(status: u16, error_types: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            "status_code",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([status])),
        )
        .required("status_code")
        .property("request_id", ObjectBuilder::new().schema_type(Type::String))
        .required("request_id")
        .property(
            "error_type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(error_types.iter().copied())),
        )
        .required("error_type")
        .property("error_message", ObjectBuilder::new().schema_type(Type::String))
        .required("error_message")
        .property("error_url", ObjectBuilder::new().schema_type(Type::String))
        .required("error_url")
        .into()
}

/// Schemas of request fields whose bounds are domain rules, taken from the domain types so the
/// document states the limits the parsers enforce.
pub mod fields {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
    use utoipa::openapi::Object;

    use crate::domain::{email, password, SessionDuration};

    pub fn email() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(email::MAX_TOTAL))
            .build()
    }

    pub fn password() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(password::MAX_PASSWORD_CHARS))
            .build()
    }

    pub fn session_duration_minutes() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(SessionDuration::MIN))
            .maximum(Some(SessionDuration::MAX))
            .build()
    }

    // The `Option` fields of request bodies: JSON `null` reads as absent, so the document admits it.

    pub fn optional_email() -> Object {
        or_null(email(), Type::String)
    }

    pub fn optional_session_duration_minutes() -> Object {
        or_null(session_duration_minutes(), Type::Integer)
    }

    fn or_null(mut schema: Object, ty: Type) -> Object {
        schema.schema_type = SchemaType::from_iter([ty, Type::Null]);
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_the_braced_segments() {
        assert_eq!(
            path_parameters("/v1/b2b/organizations/{organization_id}/member"),
            vec!["organization_id"]
        );
        assert!(path_parameters("/v1/passwords").is_empty());
    }

    #[test]
    fn the_document_names_each_wire_type_once_and_serialises() {
        // `unique` panics on two different types under one name.
        let json: serde_json::Value = serde_json::from_str(&document_json(crate::ROUTES)).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
    }
}
