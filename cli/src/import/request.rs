//! One row of the export as a migrate request: which endpoint it goes to and the body to send.

use serde_json::{Map, Value};

/// The migrate endpoint a row goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/passwords/migrate`, a user identified by `email`.
    Consumer,
    /// `POST /v1/b2b/passwords/migrate`, a member identified by `organization_id` + `email_address`.
    B2b,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Consumer => "/v1/passwords/migrate",
            Endpoint::B2b => "/v1/b2b/passwords/migrate",
        }
    }

    /// The answer's field that says whether the account was created.
    pub fn created_field(self) -> &'static str {
        match self {
            Endpoint::Consumer => "user_created",
            Endpoint::B2b => "member_created",
        }
    }

    fn email_field(self) -> &'static str {
        match self {
            Endpoint::Consumer => "email",
            Endpoint::B2b => "email_address",
        }
    }
}

/// A row ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrateRequest {
    pub endpoint: Endpoint,
    /// For the error report (the body holds it too, under the endpoint's field name).
    pub email: String,
    pub body: Map<String, Value>,
}

/// A row that cannot be sent: why, and its email when it has one (for the error report).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRow {
    pub email: Option<String>,
    pub message: String,
}

impl InvalidRow {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            email: None,
            message: message.into(),
        }
    }
}

/// The request for one row's fields. The email may be given as `email` or `email_address`
/// (whichever the export has) and is sent under the endpoint's name for it; a row with an
/// `organization_id`, or any row when `default_org` is given, goes to the B2B endpoint. The
/// other fields are sent as they are: the server is the judge of hashes and configs, and
/// answers each problem with its own error type.
pub fn build(mut fields: Map<String, Value>, default_org: Option<&str>) -> Result<MigrateRequest, InvalidRow> {
    let email = take_email(&mut fields)?;
    let invalid = |message: String| InvalidRow {
        email: Some(email.clone()),
        message,
    };
    let endpoint = match fields.get("organization_id") {
        Some(Value::String(org)) if !org.is_empty() => Endpoint::B2b,
        Some(Value::String(_)) | Some(Value::Null) | None => match default_org {
            Some(org) => {
                fields.insert("organization_id".into(), Value::String(org.to_owned()));
                Endpoint::B2b
            }
            None => {
                fields.remove("organization_id");
                Endpoint::Consumer
            }
        },
        Some(_) => return Err(invalid("organization_id is not a string".into())),
    };
    for required in ["hash_type", "hash"] {
        match fields.get(required) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) | Some(Value::Null) | None => return Err(invalid(format!("no {required}"))),
            Some(_) => return Err(invalid(format!("{required} is not a string"))),
        }
    }
    fields.insert(endpoint.email_field().into(), Value::String(email.clone()));
    Ok(MigrateRequest {
        endpoint,
        email,
        body: fields,
    })
}

/// Remove `email` and `email_address` from the fields and return the one email they give.
fn take_email(fields: &mut Map<String, Value>) -> Result<String, InvalidRow> {
    let mut found: Option<String> = None;
    for name in ["email", "email_address"] {
        match fields.remove(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => match &found {
                Some(other) if *other != s => {
                    return Err(InvalidRow {
                        email: Some(other.clone()),
                        message: format!("email ({other}) and email_address ({s}) differ"),
                    })
                }
                _ => found = Some(s),
            },
            Some(_) => return Err(InvalidRow::new(format!("{name} is not a string"))),
        }
    }
    found.ok_or_else(|| InvalidRow::new("no email (give email or email_address)"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_row_without_organization_goes_to_the_consumer_endpoint_with_email() {
        let r = build(
            fields(json!({"email_address": "a@example.com", "hash_type": "md_5", "hash": "00"})),
            None,
        )
        .unwrap();
        assert_eq!(r.endpoint, Endpoint::Consumer);
        assert_eq!(r.email, "a@example.com");
        assert_eq!(
            Value::Object(r.body),
            json!({"email": "a@example.com", "hash_type": "md_5", "hash": "00"})
        );
    }

    #[test]
    fn a_row_with_organization_goes_to_b2b_with_email_address() {
        let r = build(
            fields(json!({"email": "a@example.com", "organization_id": "org-1", "hash_type": "md_5", "hash": "00"})),
            Some("org-default"),
        )
        .unwrap();
        assert_eq!(r.endpoint, Endpoint::B2b);
        assert_eq!(
            Value::Object(r.body),
            json!({"email_address": "a@example.com", "organization_id": "org-1", "hash_type": "md_5", "hash": "00"})
        );
    }

    #[test]
    fn the_default_organization_applies_to_rows_without_one() {
        let r = build(
            fields(json!({"email": "a@example.com", "hash_type": "md_5", "hash": "00"})),
            Some("org-default"),
        )
        .unwrap();
        assert_eq!(r.endpoint, Endpoint::B2b);
        assert_eq!(r.body["organization_id"], "org-default");
        assert_eq!(r.body["email_address"], "a@example.com");
        assert!(!r.body.contains_key("email"));
    }

    #[test]
    fn rows_without_what_migrate_needs_are_invalid() {
        let e = build(fields(json!({"hash_type": "md_5", "hash": "00"})), None).unwrap_err();
        assert_eq!(e.email, None);
        assert!(e.message.contains("no email"), "{e:?}");
        let e = build(fields(json!({"email": "a@example.com", "hash": "00"})), None).unwrap_err();
        assert_eq!(e.email.as_deref(), Some("a@example.com"));
        assert!(e.message.contains("no hash_type"), "{e:?}");
        let e = build(
            fields(json!({"email": "a@example.com", "hash_type": "md_5", "hash": 7})),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("hash is not a string"), "{e:?}");
        let e = build(fields(json!({"email": 1, "hash_type": "md_5", "hash": "00"})), None).unwrap_err();
        assert!(e.message.contains("email is not a string"), "{e:?}");
    }

    #[test]
    fn email_and_email_address_must_agree() {
        let same =
            json!({"email": "a@example.com", "email_address": "a@example.com", "hash_type": "md_5", "hash": "00"});
        assert!(build(fields(same), None).is_ok());
        let differ =
            json!({"email": "a@example.com", "email_address": "b@example.com", "hash_type": "md_5", "hash": "0"});
        let e = build(fields(differ), None).unwrap_err();
        assert!(e.message.contains("differ"), "{e:?}");
    }
}
