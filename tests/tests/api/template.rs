//! The SAM template (`infra/template.yaml`) agrees with the route table: one function per route
//! and no other, each on its route, with exactly the permissions and memory the route's `Needs`
//! ask for; the table is the one table definition; the settings parameters default to Latch's
//! own defaults and name variables Latch reads.

use std::collections::{BTreeMap, BTreeSet};

use latch::config::{vars, Settings};
use latch::handlers::routes::{Route, ROUTES};
use latch::store::dynamo::{items, table};
use serde_yaml_ng::Value;

fn template() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The logical id of a route's function: `passwords-create` → `PasswordsCreateFunction`.
fn logical_id(name: &str) -> String {
    let mut id: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().unwrap().to_ascii_uppercase().to_string() + chars.as_str()
        })
        .collect();
    id.push_str("Function");
    id
}

/// The target of `!Ref X` (or `{Ref: X}`).
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        Value::Mapping(map) if map.len() == 1 => map.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn functions(doc: &Value) -> BTreeMap<String, &Value> {
    doc["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| (id.as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn one_function_per_route_and_no_other() {
    let doc = template();
    let functions = functions(&doc);
    let expected: BTreeSet<String> = ROUTES.iter().map(|r| logical_id(r.name)).collect();
    assert_eq!(functions.keys().cloned().collect::<BTreeSet<_>>(), expected);
    for route in ROUTES {
        let f = functions[&logical_id(route.name)];
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{route:?}");
        assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], route.name, "{route:?}");
        let events = f["Properties"]["Events"].as_mapping().unwrap();
        assert_eq!(events.len(), 1, "{route:?}: one event");
        let event = events.values().next().unwrap();
        assert_eq!(event["Type"], "HttpApi", "{route:?}");
        assert_eq!(reference(&event["Properties"]["ApiId"]), Some("Api"), "{route:?}");
        assert_eq!(event["Properties"]["Method"], route.method.as_str(), "{route:?}");
        assert_eq!(event["Properties"]["Path"], route.path, "{route:?}");
    }
}

#[test]
fn functions_run_on_arm64_from_the_workspace_root_and_log_json() {
    let doc = template();
    let globals = &doc["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(globals["CodeUri"], "..", "infra/.. is the workspace root");
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
    // The API serves at the root of the host: no stage in the path (the SDKs drop prefixes).
    let api = &doc["Resources"]["Api"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    assert!(api["Properties"].get("StageName").is_none(), "the $default stage");
}

/// The statements' actions of a managed policy in the template.
fn policy_actions(doc: &Value, id: &str) -> Vec<String> {
    let policy = &doc["Resources"][id];
    assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy", "{id}");
    policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::Sequence(list) => list.iter().map(text).collect(),
            one => vec![text(one)],
        })
        .collect()
}

/// What a function is granted: managed policies by logical id, SAM policy templates by name.
fn grants(f: &Value) -> BTreeSet<String> {
    f["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| match reference(p) {
            Some(id) => id.to_string(),
            None => {
                // A SAM policy template, `{Name: {TableName: !Ref Table}}`.
                let (name, args) = p.as_mapping().and_then(|m| m.iter().next()).expect("a policy template");
                assert_eq!(reference(&args["TableName"]), Some("Table"));
                name.as_str().unwrap().to_string()
            }
        })
        .collect()
}

fn expected_grants(route: &Route) -> BTreeSet<String> {
    let mut grants = BTreeSet::from(["ReadSecretsPolicy".to_string()]);
    if route.needs.writes {
        grants.insert("DynamoDBCrudPolicy".into());
    } else {
        grants.extend(["DynamoDBReadPolicy".into(), "SigningKeysWritePolicy".into()]);
    }
    if route.needs.mail {
        grants.insert("SendMailPolicy".into());
    }
    grants
}

#[test]
fn each_function_gets_exactly_what_its_route_needs() {
    let doc = template();
    let functions = functions(&doc);
    for route in ROUTES {
        let f = functions[&logical_id(route.name)];
        assert_eq!(grants(f), expected_grants(route), "{route:?}");
        let memory = reference(&f["Properties"]["MemorySize"]);
        let heavy = route.needs.heavy.then_some("HeavyFunctionMemory");
        assert_eq!(
            memory, heavy,
            "{route:?}: more memory exactly where it hashes or scores"
        );
    }
    assert_eq!(
        policy_actions(&doc, "ReadSecretsPolicy"),
        ["secretsmanager:GetSecretValue"]
    );
    assert_eq!(policy_actions(&doc, "SendMailPolicy"), ["ses:SendEmail"]);
    assert_eq!(policy_actions(&doc, "SigningKeysWritePolicy"), ["dynamodb:PutItem"]);
    // …and only in the partition the signing keys live in.
    let keys = &doc["Resources"]["SigningKeysWritePolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    let leading = &keys["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"];
    assert_eq!(
        leading.as_sequence().unwrap().iter().map(text).collect::<Vec<_>>(),
        [items::KEYS_PK]
    );
}

#[test]
fn the_table_is_the_one_table_definition() {
    let doc = template();
    let t = &doc["Resources"]["Table"]["Properties"];
    let schema: Vec<(String, String)> = t["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (text(&k["AttributeName"]), text(&k["KeyType"])))
        .collect();
    let expected: Vec<(String, String)> = table::key_schema()
        .into_iter()
        .map(|(name, kind)| (name.to_string(), kind.as_str().to_string()))
        .collect();
    assert_eq!(schema, expected);
    for attr in t["AttributeDefinitions"].as_sequence().unwrap() {
        assert_eq!(attr["AttributeType"], "S");
    }
    assert_eq!(t["AttributeDefinitions"].as_sequence().unwrap().len(), expected.len());
    assert_eq!(t["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(t["TimeToLiveSpecification"]["AttributeName"], items::EXPIRES_AT);
    assert_eq!(t["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        t["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

/// The functions' environment with every `!Ref` to a parameter replaced by its default (and
/// `fill` for parameters without one), other references by a placeholder.
fn environment_with_defaults(doc: &Value, fill: &str) -> BTreeMap<String, String> {
    let params = doc["Parameters"].as_mapping().unwrap();
    doc["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let value = match reference(v) {
                Some(name) => match params.get(name) {
                    Some(p) => p.get("Default").map(text).unwrap_or_else(|| fill.to_string()),
                    None => format!("resource:{name}"),
                },
                None => text(v),
            };
            (k.as_str().unwrap().to_string(), value)
        })
        .collect()
}

#[test]
fn settings_parameters_default_to_latchs_defaults_and_name_real_variables() {
    let doc = template();
    let env = environment_with_defaults(&doc, "Latch <auth@example.com>");
    for var in env.keys() {
        assert!(vars::ALL.contains(&var.as_str()), "{var} is not a variable Latch reads");
    }
    for (var, value) in [(vars::STORE, "dynamodb"), (vars::MAILER, "ses")] {
        assert_eq!(env.get(var).map(String::as_str), Some(value), "{var}");
    }
    for var in [vars::TABLE, vars::PROJECT_SECRET_ARN, vars::TOKEN_PEPPER_ARN] {
        assert!(env[var].starts_with("resource:"), "{var} names a resource of the stack");
    }
    for var in [vars::SECRET, vars::TOKEN_PEPPER, vars::PROJECT_ID] {
        assert!(
            !env.contains_key(var),
            "{var} must come from Secrets Manager, not the template"
        );
    }
    let from_template = |var: &str| env.get(var).filter(|v| !v.is_empty()).cloned();
    let latch_defaults = |_: &str| None;
    let settings = |src: &dyn latch::config::Source| {
        Settings::from_source(src, "project-test-x".into(), "secret".into(), vec![7; 32]).unwrap()
    };
    let (t, d) = (settings(&from_template), settings(&latch_defaults));
    assert_eq!(t.strength, d.strength);
    // The LUDS bounds too, which apply only under that policy.
    let luds = |base: &dyn Fn(&str) -> Option<String>, var: &str| match var {
        vars::STRENGTH_POLICY => Some("luds".to_string()),
        _ => base(var),
    };
    let (tl, dl) = (
        settings(&|v: &str| luds(&from_template, v)),
        settings(&|v: &str| luds(&latch_defaults, v)),
    );
    assert_eq!(tl.strength, dl.strength);
    assert_eq!(format!("{:?}", t.breach), format!("{:?}", d.breach));
    assert_eq!(format!("{:?}", t.lockout), format!("{:?}", d.lockout));
    assert_eq!(t.email.reset_password_redirect_url, d.email.reset_password_redirect_url);
    assert_eq!(t.email.login_redirect_url, d.email.login_redirect_url);
    assert_eq!(t.email.allowed_redirect_urls, d.email.allowed_redirect_urls);
    assert_eq!(t.email.reset_start_limit_per_hour, d.email.reset_start_limit_per_hour);
    assert_eq!(t.email.signup_redirect_url, d.email.signup_redirect_url);
    assert_eq!(t.cross_org_passwords, d.cross_org_passwords);
    let argon2 = |h: &latch::config::HashSettings| (h.memory_kib, h.iterations, h.parallelism);
    assert_eq!(argon2(&t.hashing), argon2(&d.hashing));
    // The policy, lockout, breach and redirect settings are all parameters.
    for var in [
        vars::STRENGTH_POLICY,
        vars::LUDS_MIN_LENGTH,
        vars::LUDS_MIN_COMPLEXITY,
        vars::BREACH_ON_CREATE,
        vars::BREACH_ON_AUTH,
        vars::HIBP_URL,
        vars::HIBP_TIMEOUT_MS,
        vars::HIBP_FAIL_CLOSED,
        vars::HIBP_CACHE_SECONDS,
        vars::LOCK_THRESHOLD,
        vars::LOCK_TTL_SECONDS,
        vars::RESET_PASSWORD_REDIRECT_URL,
        vars::LOGIN_REDIRECT_URL,
        vars::SIGNUP_REDIRECT_URL,
        vars::REDIRECT_URLS,
        vars::CROSS_ORG_PASSWORDS,
        vars::RESET_START_LIMIT,
        vars::ARGON2_MEMORY_KIB,
        vars::ARGON2_ITERATIONS,
        vars::ARGON2_PARALLELISM,
    ] {
        assert!(env.contains_key(var), "{var} is not a template parameter");
    }
}

#[test]
fn readme_lists_every_setting() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let table = readme.split("## Configuration").nth(1).unwrap();
    for var in vars::ALL {
        assert!(
            table.contains(&format!("`{var}`")),
            "{var} is missing from the README's table"
        );
    }
}
