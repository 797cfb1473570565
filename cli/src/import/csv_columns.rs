//! CSV rows as migrate fields: a header names the fields, dotted names (`scrypt_config.salt`,
//! `name.first_name`) build nested objects, and cells are typed by the field they fill.

use serde_json::{Map, Number, Value};

use super::request::InvalidRow;

/// Fields the API takes as integers (in the hash config objects).
const INTEGER_FIELDS: &[&str] = &[
    "n_parameter",
    "r_parameter",
    "p_parameter",
    "iteration_amount",
    "memory",
    "threads",
    "key_length",
];

/// Fields the API takes as booleans.
const BOOLEAN_FIELDS: &[&str] = &[
    "set_email_verified",
    "set_phone_number_verified",
    "preserve_existing_sessions",
];

/// Fields whose cells hold JSON.
const JSON_FIELDS: &[&str] = &["trusted_metadata", "untrusted_metadata"];

/// The columns of a CSV export, from its header row.
#[derive(Debug, Clone)]
pub struct CsvColumns {
    paths: Vec<Vec<String>>,
}

impl CsvColumns {
    /// The columns named by a header row. Every column needs a name, at most once.
    pub fn new<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut paths: Vec<Vec<String>> = Vec::new();
        for (i, raw) in header.into_iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim();
            let path: Vec<String> = name.split('.').map(|s| s.trim().to_owned()).collect();
            if path.iter().any(String::is_empty) {
                return Err(format!("column {} of the header has no usable name ({raw:?})", i + 1));
            }
            if paths.contains(&path) {
                return Err(format!("the header names the column {name} twice"));
            }
            paths.push(path);
        }
        if paths.is_empty() {
            return Err("the header row is empty".into());
        }
        Ok(Self { paths })
    }

    /// The fields of one row. Empty cells are left out.
    pub fn fields(&self, cells: &csv::ByteRecord) -> Result<Map<String, Value>, InvalidRow> {
        if cells.len() != self.paths.len() {
            return Err(InvalidRow::new(format!(
                "{} cells where the header has {} columns",
                cells.len(),
                self.paths.len()
            )));
        }
        let mut fields = Map::new();
        let mut problems = Vec::new();
        for (path, cell) in self.paths.iter().zip(cells.iter()) {
            let Ok(text) = std::str::from_utf8(cell) else {
                problems.push(format!("{}: not UTF-8", path.join(".")));
                continue;
            };
            if text.is_empty() {
                continue;
            }
            match typed(path.last().expect("non-empty path"), text).and_then(|v| insert(&mut fields, path, v)) {
                Ok(()) => {}
                Err(e) => problems.push(format!("{}: {e}", path.join("."))),
            }
        }
        if problems.is_empty() {
            Ok(fields)
        } else {
            let email = ["email", "email_address"]
                .iter()
                .find_map(|k| fields.get(*k).and_then(Value::as_str).map(str::to_owned));
            Err(InvalidRow {
                email,
                message: problems.join("; "),
            })
        }
    }
}

/// A cell's value as the field `name` takes it.
fn typed(name: &str, text: &str) -> Result<Value, String> {
    if INTEGER_FIELDS.contains(&name) {
        return text
            .trim()
            .parse::<u64>()
            .map(|n| Value::Number(Number::from(n)))
            .map_err(|_| format!("{text:?} is not a whole number"));
    }
    if BOOLEAN_FIELDS.contains(&name) {
        return match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("{text:?} is not true or false")),
        };
    }
    if JSON_FIELDS.contains(&name) {
        return match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err("not a JSON object".into()),
            Err(e) => Err(format!("not JSON ({e})")),
        };
    }
    if name == "roles" {
        // A JSON array, or role ids separated by commas.
        if text.trim_start().starts_with('[') {
            return serde_json::from_str::<Vec<String>>(text)
                .map(|roles| roles.into_iter().map(Value::String).collect())
                .map_err(|e| format!("not a JSON array of strings ({e})"));
        }
        return Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| Value::String(r.to_owned()))
                .collect(),
        ));
    }
    Ok(Value::String(text.to_owned()))
}

/// Put `value` at `path` (nested objects made as needed).
fn insert(fields: &mut Map<String, Value>, path: &[String], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut object = fields;
    for (depth, key) in parents.iter().enumerate() {
        let slot = object.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
        object = match slot {
            Value::Object(o) => o,
            _ => return Err(format!("{} is also given as a value", path[..=depth].join("."))),
        };
    }
    if object.contains_key(last) {
        return Err(format!("{} is also given as an object", path.join(".")));
    }
    object.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(cells: &[&str]) -> csv::ByteRecord {
        csv::ByteRecord::from(cells.to_vec())
    }

    #[test]
    fn dotted_columns_build_typed_config_objects() {
        let cols = CsvColumns::new([
            "email",
            "hash_type",
            "hash",
            "scrypt_config.salt",
            "scrypt_config.n_parameter",
            "scrypt_config.r_parameter",
            "scrypt_config.p_parameter",
            "scrypt_config.key_length",
            "set_email_verified",
            "name.first_name",
            "name.last_name",
            "trusted_metadata",
        ])
        .unwrap();
        let fields = cols
            .fields(&row(&[
                "a@example.com",
                "scrypt",
                "aGFzaA==",
                "c2FsdA==",
                "16384",
                "8",
                "1",
                "32",
                "TRUE",
                "Ada",
                "",
                r#"{"plan": "pro", "seats": 3}"#,
            ]))
            .unwrap();
        assert_eq!(
            Value::Object(fields),
            json!({
                "email": "a@example.com",
                "hash_type": "scrypt",
                "hash": "aGFzaA==",
                "scrypt_config": {"salt": "c2FsdA==", "n_parameter": 16384, "r_parameter": 8, "p_parameter": 1, "key_length": 32},
                "set_email_verified": true,
                "name": {"first_name": "Ada"},
                "trusted_metadata": {"plan": "pro", "seats": 3}
            })
        );
    }

    #[test]
    fn empty_cells_are_left_out_and_empty_objects_are_not_made() {
        let cols = CsvColumns::new([
            "email",
            "hash_type",
            "hash",
            "md_5_config.prepend_salt",
            "pbkdf_2_config.algorithm",
        ])
        .unwrap();
        let fields = cols.fields(&row(&["a@example.com", "md_5", "ab", "", ""])).unwrap();
        assert_eq!(
            Value::Object(fields),
            json!({"email": "a@example.com", "hash_type": "md_5", "hash": "ab"})
        );
    }

    #[test]
    fn salts_and_hashes_keep_their_spaces() {
        let cols = CsvColumns::new(["email", "hash_type", "hash", "md_5_config.prepend_salt"]).unwrap();
        let fields = cols.fields(&row(&["a@example.com", "md_5", "ab", " salt "])).unwrap();
        assert_eq!(fields["md_5_config"]["prepend_salt"], " salt ");
    }

    #[test]
    fn argon2_and_pbkdf2_numbers_are_integers() {
        let cols = CsvColumns::new([
            "argon_2_config.memory",
            "argon_2_config.threads",
            "argon_2_config.iteration_amount",
            "pbkdf_2_config.iteration_amount",
            "pbkdf_2_config.algorithm",
        ])
        .unwrap();
        let fields = cols.fields(&row(&["65536", "4", "3", "600000", "sha512"])).unwrap();
        assert_eq!(
            Value::Object(fields),
            json!({
                "argon_2_config": {"memory": 65536, "threads": 4, "iteration_amount": 3},
                "pbkdf_2_config": {"iteration_amount": 600000, "algorithm": "sha512"}
            })
        );
    }

    #[test]
    fn bad_cells_make_an_invalid_row_that_names_them() {
        let cols = CsvColumns::new([
            "email",
            "scrypt_config.n_parameter",
            "set_email_verified",
            "untrusted_metadata",
        ])
        .unwrap();
        let e = cols
            .fields(&row(&["a@example.com", "16k", "maybe", "{not json"]))
            .unwrap_err();
        assert_eq!(e.email.as_deref(), Some("a@example.com"));
        assert!(e.message.contains("scrypt_config.n_parameter"), "{e:?}");
        assert!(e.message.contains("set_email_verified"), "{e:?}");
        assert!(e.message.contains("untrusted_metadata: not JSON"), "{e:?}");
        let e = cols.fields(&row(&["a@example.com", "1"])).unwrap_err();
        assert!(e.message.contains("2 cells where the header has 4 columns"), "{e:?}");
    }

    #[test]
    fn a_value_and_an_object_at_one_name_conflict_when_both_are_given() {
        let cols = CsvColumns::new(["name", "name.first_name"]).unwrap();
        assert!(cols.fields(&row(&["Ada Lovelace", ""])).is_ok());
        assert!(cols.fields(&row(&["", "Ada"])).is_ok());
        let e = cols.fields(&row(&["Ada Lovelace", "Ada"])).unwrap_err();
        assert!(e.message.contains("name is also given as a value"), "{e:?}");
    }

    #[test]
    fn roles_are_a_json_array_or_a_comma_list() {
        let cols = CsvColumns::new(["roles"]).unwrap();
        assert_eq!(
            cols.fields(&row(&[r#"["a","b"]"#])).unwrap()["roles"],
            json!(["a", "b"])
        );
        assert_eq!(cols.fields(&row(&["a, b"])).unwrap()["roles"], json!(["a", "b"]));
    }

    #[test]
    fn headers_need_distinct_names() {
        assert!(CsvColumns::new(["\u{feff}email", "hash"]).is_ok());
        assert!(CsvColumns::new(["email", "email"]).unwrap_err().contains("twice"));
        assert!(CsvColumns::new(["email", ""]).unwrap_err().contains("column 2"));
        assert!(CsvColumns::new(["scrypt_config."]).is_err());
    }
}
