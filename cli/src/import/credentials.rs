//! The project credentials the import authenticates with: given (flags or `LATCH_PROJECT_ID` /
//! `LATCH_SECRET`), or read from `<data-dir>/credentials.json`, which `latch serve` writes.

use std::path::Path;

use serde::Deserialize;

/// `project_id:secret` for HTTP Basic. Debug never shows the secret.
#[derive(Clone, Deserialize)]
pub struct ProjectCredentials {
    pub project_id: String,
    pub secret: String,
}

impl std::fmt::Debug for ProjectCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectCredentials")
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

/// Where the credentials came from, for the start line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Given,
    File(String),
}

/// Both given, or both from the data directory's file. One without the other is a mistake.
pub fn resolve(
    project_id: Option<String>,
    secret: Option<String>,
    data_dir: &Path,
) -> Result<(ProjectCredentials, Origin), String> {
    match (project_id, secret) {
        (Some(project_id), Some(secret)) => Ok((ProjectCredentials { project_id, secret }, Origin::Given)),
        (Some(_), None) => Err("--project-id (LATCH_PROJECT_ID) is given without --secret (LATCH_SECRET)".into()),
        (None, Some(_)) => Err("--secret (LATCH_SECRET) is given without --project-id (LATCH_PROJECT_ID)".into()),
        (None, None) => {
            // The file `latch serve` writes (latch::credentials); only its two API fields are read.
            let path = data_dir.join("credentials.json");
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "no credentials: give --project-id and --secret (or LATCH_PROJECT_ID and LATCH_SECRET), \
                     or --data-dir of the `latch serve` whose credentials to use ({}: {e})",
                    path.display()
                )
            })?;
            // Not serde's message: it could quote part of the file.
            let creds: ProjectCredentials = serde_json::from_str(&text)
                .map_err(|_| format!("{}: not the credentials file `latch serve` writes", path.display()))?;
            Ok((creds, Origin::File(path.display().to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_credentials_win_and_must_come_in_pairs() {
        let nowhere = Path::new("/nonexistent-latch-dir");
        let (c, o) = resolve(Some("p".into()), Some("s".into()), nowhere).unwrap();
        assert_eq!((c.project_id.as_str(), c.secret.as_str(), o), ("p", "s", Origin::Given));
        assert!(resolve(Some("p".into()), None, nowhere).is_err());
        assert!(resolve(None, Some("s".into()), nowhere).is_err());
        let e = resolve(None, None, nowhere).unwrap_err();
        assert!(e.contains("--project-id"), "{e}");
    }

    #[test]
    fn the_data_directory_file_is_read_and_its_secret_never_shown() {
        let dir = std::env::temp_dir().join(format!("latch-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("credentials.json"),
            r#"{"project_id": "project-test-1", "secret": "secret-test-xyz", "token_pepper": "abc"}"#,
        )
        .unwrap();
        let (c, o) = resolve(None, None, &dir).unwrap();
        assert_eq!(c.project_id, "project-test-1");
        assert_eq!(c.secret, "secret-test-xyz");
        assert!(matches!(o, Origin::File(_)));
        assert!(!format!("{c:?}").contains("secret-test-xyz"));
        std::fs::write(dir.join("credentials.json"), r#"{"secret": "secret-test-xyz"#).unwrap();
        let e = resolve(None, None, &dir).unwrap_err();
        assert!(!e.contains("secret-test-xyz"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
