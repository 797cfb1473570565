//! The SAM template (`infra/template.yaml`) agrees with the route table: one function per route
//! and no other, each on its route, with exactly the permissions and memory the route's `Needs`
//! ask for; the table is the one table definition; the settings parameters default to Latch's
//! own defaults and name variables Latch reads.

use std::collections::{BTreeMap, BTreeSet};

use latch::api::route::Access;
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
        // A browser's route also takes its CORS preflight: the HTTP API has no CORS settings,
        // so the function answers it from LATCH_SDK_ORIGINS.
        let mut expected = vec![("Api", route.method.as_str())];
        if matches!(route.access, Access::Browser | Access::Beacon) {
            expected.push(("Preflight", "OPTIONS"));
        }
        assert_eq!(events.len(), expected.len(), "{route:?}: its events");
        for (name, method) in expected {
            let event = &events[name];
            assert_eq!(event["Type"], "HttpApi", "{route:?}");
            assert_eq!(reference(&event["Properties"]["ApiId"]), Some("Api"), "{route:?}");
            assert_eq!(event["Properties"]["Method"], method, "{route:?}");
            assert_eq!(event["Properties"]["Path"], route.path, "{route:?}");
        }
    }
    let api = &doc["Resources"]["Api"]["Properties"];
    assert!(
        api.get("CorsConfiguration").is_none(),
        "CORS is Latch's, not the HTTP API's"
    );
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

#[test]
fn every_function_outlives_one_aws_call_with_all_its_retries() {
    // aws_calls.rs bounds one call by the function's timeout; both must be the template's.
    use latch::aws_calls::{AwsCallPolicy, FUNCTION_TIMEOUT_SECONDS};
    let doc = template();
    for (id, f) in functions(&doc) {
        let timeout = effective(&doc, f, "Timeout").and_then(Value::as_u64);
        assert_eq!(timeout, Some(FUNCTION_TIMEOUT_SECONDS), "{id}");
    }
    assert!(AwsCallPolicy::DEPLOYED.operation_timeout < std::time::Duration::from_secs(FUNCTION_TIMEOUT_SECONDS));
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
    assert_eq!(t.sdk.public_token, d.sdk.public_token);
    assert_eq!(t.sdk.origins, d.sdk.origins);
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
        vars::PUBLIC_TOKEN,
        vars::SDK_ORIGINS,
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

/// A property of a function as deployed: its own, else the `Globals` one. SAM merges maps key by
/// key and appends a function's lists to the global ones; this resolves the one level the
/// template uses (`DeploymentPreference`'s `Type` and `Alarms`).
fn effective<'a>(doc: &'a Value, f: &'a Value, key: &str) -> Option<&'a Value> {
    f["Properties"].get(key).or_else(|| doc["Globals"]["Function"].get(key))
}

fn effective_deployment_preference(doc: &Value, f: &Value) -> (Option<String>, Vec<String>, bool) {
    let global = doc["Globals"]["Function"].get("DeploymentPreference");
    let own = f["Properties"].get("DeploymentPreference");
    let field = |key: &str| own.and_then(|p| p.get(key)).or_else(|| global.and_then(|p| p.get(key)));
    let kind = field("Type").and_then(reference).map(str::to_string);
    let alarms = [global, own]
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p.get("Alarms")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default()
        })
        .map(|a| reference(&a).expect("an alarm by !Ref").to_string())
        .collect();
    let enabled = field("Enabled").map(|e| e != &Value::Bool(false)).unwrap_or(true);
    (kind, alarms, enabled)
}

/// An alarm resource's `(Namespace, MetricName, dimensions as name → value)`; a dimension value is
/// `ref:X` for `!Ref X` and `sub:...` for `!Sub "..."`.
fn alarm(doc: &Value, id: &str) -> (String, String, BTreeMap<String, String>) {
    let a = &doc["Resources"][id];
    assert_eq!(a["Type"], "AWS::CloudWatch::Alarm", "{id}");
    let p = &a["Properties"];
    // Any datapoint above zero in a minute: one crash (or one 5xx) during a deployment is enough.
    assert_eq!(p["Statistic"], "Sum", "{id}");
    assert_eq!(p["Period"], 60, "{id}");
    assert_eq!(p["EvaluationPeriods"], 1, "{id}");
    assert_eq!(p["Threshold"], 0, "{id}");
    assert_eq!(p["ComparisonOperator"], "GreaterThanThreshold", "{id}");
    assert_eq!(p["TreatMissingData"], "notBreaching", "{id}: no traffic is no failure");
    let dims = p["Dimensions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| {
            let value = match &d["Value"] {
                Value::Tagged(t) if t.tag == "Sub" => format!("sub:{}", t.value.as_str().unwrap()),
                v => format!("ref:{}", reference(v).expect("a dimension by !Ref or !Sub")),
            };
            (text(&d["Name"]), value)
        })
        .collect();
    (text(&p["Namespace"]), text(&p["MetricName"]), dims)
}

/// Issue 24: every function is published behind the `live` alias and shifted to by CodeDeploy
/// (canary by default, the stage's `DeploymentType`), rolled back by the API's 5xx alarm and by
/// an Errors alarm on that function's alias.
#[test]
fn every_function_deploys_gradually_behind_its_alias_and_rolls_back_on_alarms() {
    let doc = template();
    let kind = &doc["Parameters"]["DeploymentType"];
    assert_eq!(kind["Default"], "Canary10Percent5Minutes");
    let allowed: Vec<String> = kind["AllowedValues"].as_sequence().unwrap().iter().map(text).collect();
    assert!(allowed.iter().any(|k| k == "AllAtOnce"), "staging deploys all at once");

    let (ns, metric, dims) = alarm(&doc, "ApiServerErrorsAlarm");
    assert_eq!((ns.as_str(), metric.as_str()), ("AWS/ApiGateway", "5xx"));
    assert_eq!(dims, BTreeMap::from([("ApiId".into(), "ref:Api".into())]));

    let mut alarms_seen = BTreeSet::new();
    for (id, f) in functions(&doc) {
        let alias = effective(&doc, f, "AutoPublishAlias").map(text);
        assert_eq!(alias.as_deref(), Some("live"), "{id}: published behind the live alias");
        let (kind, alarms, enabled) = effective_deployment_preference(&doc, f);
        assert!(enabled, "{id}: deployment preference disabled");
        assert_eq!(
            kind.as_deref(),
            Some("DeploymentType"),
            "{id}: the stage's deployment type"
        );
        let base = id.strip_suffix("Function").unwrap();
        let own = format!("{base}ErrorsAlarm");
        assert_eq!(
            alarms.iter().cloned().collect::<BTreeSet<_>>(),
            BTreeSet::from(["ApiServerErrorsAlarm".to_string(), own.clone()]),
            "{id}: rolled back by the API's 5xx and its own errors"
        );
        let (ns, metric, dims) = alarm(&doc, &own);
        assert_eq!((ns.as_str(), metric.as_str()), ("AWS/Lambda", "Errors"), "{own}");
        assert_eq!(
            dims,
            BTreeMap::from([
                ("FunctionName".into(), format!("ref:{id}")),
                ("Resource".into(), format!("sub:${{{id}}}:live")),
            ]),
            "{own}: the errors of this function's live alias"
        );
        assert!(alarms_seen.insert(own), "{id}: one alarm per function");
    }
    // No alarm that nothing watches.
    let all_alarms: BTreeSet<String> = doc["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, _)| text(id))
        .collect();
    alarms_seen.insert("ApiServerErrorsAlarm".into());
    assert_eq!(all_alarms, alarms_seen);
}

/// Issue 24: the users (the table) and the credentials and token pepper (the secrets) survive a
/// stack update that replaces them, a rollback and a deletion.
#[test]
fn the_table_and_the_secrets_are_retained_across_deploys_and_rollbacks() {
    let doc = template();
    let kept: Vec<(String, &Value)> = doc["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| {
            matches!(
                r["Type"].as_str(),
                Some("AWS::DynamoDB::Table" | "AWS::SecretsManager::Secret")
            )
        })
        .map(|(id, r)| (text(id), r))
        .collect();
    let ids: BTreeSet<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["ProjectSecret", "Table", "TokenPepper"]));
    for (id, r) in kept {
        assert_eq!(r["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(r["UpdateReplacePolicy"], "Retain", "{id}");
    }
}

/// The `[env.deploy.parameters]` table of samconfig.toml, as `key → raw value` (TOML's basic
/// strings only, which is all the file uses).
fn samconfig_deploy(env: &str) -> BTreeMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samconfig.toml");
    let config = std::fs::read_to_string(path).unwrap();
    let header = format!("[{env}.deploy.parameters]");
    let section = config.split(&header).nth(1).unwrap_or_else(|| panic!("no {header}"));
    section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Issue 24: the pipeline's two stages deploy their own stacks, staging all at once and prod by
/// the template's canary, and the file names no account or profile.
#[test]
fn samconfig_has_a_staging_and_a_prod_stage() {
    let (staging, prod) = (samconfig_deploy("staging"), samconfig_deploy("prod"));
    assert_eq!(staging["stack_name"], "\"latch-staging\"");
    assert_eq!(prod["stack_name"], "\"latch-prod\"");
    assert!(staging["parameter_overrides"].contains("DeploymentType=AllAtOnce"));
    assert!(prod["parameter_overrides"].contains("DeploymentType=Canary10Percent5Minutes"));
    for (env, params) in [("staging", &staging), ("prod", &prod)] {
        let overrides = &params["parameter_overrides"];
        for name in ["SesFrom", "SesIdentity", "ResetPasswordRedirectUrl", "RedirectUrls"] {
            assert!(overrides.contains(&format!("{name}=")), "{env}: {name}");
        }
    }
    let config =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samconfig.toml")).unwrap();
    for line in config.lines().filter(|l| !l.trim_start().starts_with('#')) {
        assert!(!line.contains("profile"), "no profile in samconfig.toml: {line}");
        let digits_run = line.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 12);
        assert!(!digits_run, "no account id in samconfig.toml: {line}");
    }
}

fn repo_yaml(path: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `!Sub` string of a value (`!Sub "…"`), if it is one.
fn sub(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(t) if t.tag == "Sub" => t.value.as_str(),
        _ => None,
    }
}

/// Issue 24: the role GitHub Actions assumes can be assumed only by OIDC tokens for Latch's
/// STS audience whose subject is a job in this stage's environment of this repository (a job
/// without an environment, on any branch, gets nothing); it may only pass the CloudFormation
/// role, to CloudFormation; the artifacts bucket is private, encrypted, versioned and TLS-only.
#[test]
fn the_pipeline_bootstrap_trusts_only_the_stages_environment() {
    let doc = repo_yaml("infra/pipeline-bootstrap.yaml");
    let r = &doc["Resources"];
    let trust = r["PipelineExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Action"], "sts:AssumeRoleWithWebIdentity");
    let equals = trust[0]["Condition"]["StringEquals"].as_mapping().unwrap();
    assert_eq!(
        trust[0]["Condition"].as_mapping().unwrap().len(),
        1,
        "no StringLike wildcard"
    );
    assert_eq!(
        equals.get("token.actions.githubusercontent.com:aud").unwrap(),
        "sts.amazonaws.com"
    );
    assert_eq!(
        sub(equals.get("token.actions.githubusercontent.com:sub").unwrap()),
        Some("repo:${GitHubOrg}/${GitHubRepo}:environment:${GitHubEnvironment}")
    );
    let statements = r["PipelineExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    for s in statements {
        let actions: Vec<String> = match &s["Action"] {
            Value::Sequence(list) => list.iter().map(text).collect(),
            one => vec![text(one)],
        };
        assert!(
            actions.iter().all(|a| !a.contains('*')),
            "{actions:?}: the pipeline role's actions are listed"
        );
        if actions.iter().any(|a| a == "iam:PassRole") {
            let passes = match &s["Resource"] {
                Value::Tagged(t) if t.tag == "GetAtt" => t.value.as_str(),
                _ => None,
            };
            assert_eq!(passes, Some("CloudFormationExecutionRole.Arn"), "only the deploy role");
            assert_eq!(
                s["Condition"]["StringEquals"]["iam:PassedToService"],
                "cloudformation.amazonaws.com"
            );
        }
        if actions
            .iter()
            .any(|a| a.starts_with("cloudformation:") && a != "cloudformation:CreateChangeSet")
        {
            assert_eq!(
                sub(&s["Resource"]),
                Some("arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${StackName}/*"),
                "only this stage's stack"
            );
        }
    }
    let bucket = &r["ArtifactsBucket"]["Properties"];
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    assert!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"]
            .is_string()
    );
    for key in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(bucket["PublicAccessBlockConfiguration"][key], true, "{key}");
    }
    let tls = &r["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
}

/// Issue 24: the workflow runs on pushes to main, tests and builds before staging, deploys prod
/// only after staging and in the `prod` environment (its required reviewers), gets AWS
/// credentials only by OIDC in those two jobs, and smoke-tests staging. SECURITY X2: no secret
/// (no AWS key, no project secret) is kept in the repository's settings.
#[test]
fn the_workflow_deploys_staging_then_prod_by_oidc() {
    let wf = repo_yaml(".github/workflows/pipeline.yaml");
    assert_eq!(wf["on"]["push"]["branches"][0], "main");
    assert_eq!(wf["permissions"]["contents"], "read");
    assert!(
        wf["permissions"].get("id-token").is_none(),
        "id-token only where a job deploys"
    );
    let jobs = &wf["jobs"];
    let needs = |job: &str| -> BTreeSet<String> {
        jobs[job]["needs"]
            .as_sequence()
            .map(|n| n.iter().map(text).collect())
            .unwrap_or_default()
    };
    assert!(jobs["test"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|s| s["run"] == "scripts/test.sh"));
    assert_eq!(needs("deploy-staging"), BTreeSet::from(["test".into(), "build".into()]));
    assert_eq!(needs("deploy-prod"), BTreeSet::from(["deploy-staging".into()]));
    for (job, environment, role) in [
        ("deploy-staging", "staging", "STAGING_PIPELINE_EXECUTION_ROLE"),
        ("deploy-prod", "prod", "PROD_PIPELINE_EXECUTION_ROLE"),
    ] {
        let j = &jobs[job];
        assert_eq!(j["environment"], environment, "{job}");
        assert_eq!(j["permissions"]["id-token"], "write", "{job}");
        let steps = j["steps"].as_sequence().unwrap();
        let creds: Vec<&Value> = steps
            .iter()
            .filter(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
            })
            .collect();
        assert_eq!(creds.len(), 1, "{job}");
        assert_eq!(
            creds[0]["with"]["role-to-assume"],
            format!("${{{{ vars.{role} }}}}").as_str(),
            "{job}"
        );
        assert!(
            creds[0]["with"].get("aws-access-key-id").is_none(),
            "{job}: no long-lived keys"
        );
        let runs: Vec<String> = steps
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_string))
            .collect();
        assert!(
            runs.iter()
                .any(|r| r.contains(&format!("sam deploy --config-env {environment}"))),
            "{job}"
        );
        assert!(
            runs.iter().any(|r| r.starts_with("scripts/ci-smoke-test.sh ")),
            "{job}: smoke-tested"
        );
    }
    for (name, job) in jobs.as_mapping().unwrap() {
        if !matches!(name.as_str(), Some("deploy-staging" | "deploy-prod")) {
            assert!(
                job.get("permissions").is_none_or(|p| p.get("id-token").is_none()),
                "{name:?}"
            );
        }
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows/pipeline.yaml"),
    )
    .unwrap();
    assert!(
        !text.contains("${{ secrets."),
        "no secrets: OIDC roles and variables only"
    );
}
