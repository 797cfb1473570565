//! The error report: one JSON line per failed row (`line`, `email`, `status`, `error_type`,
//! `error_message`), never a hash or a secret. Appended as failures happen, so a run that is
//! killed still leaves one, and rewritten in line order at the end; removed when nothing failed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::journal::Failure;

#[derive(Debug)]
pub struct ErrorReport {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    failures: BTreeMap<u64, Failure>,
}

impl ErrorReport {
    /// Start the report at `path` with the failures of earlier runs that stand.
    pub fn create<'a>(path: &Path, earlier: impl IntoIterator<Item = &'a Failure>) -> std::io::Result<Self> {
        let mut file = File::create(path)?;
        let mut failures = BTreeMap::new();
        for f in earlier {
            write_line(&mut file, f)?;
            failures.insert(f.line, f.clone());
        }
        Ok(Self {
            path: path.to_owned(),
            state: Mutex::new(State { file, failures }),
        })
    }

    pub fn add(&self, failure: Failure) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        write_line(&mut state.file, &failure)?;
        state.failures.insert(failure.line, failure);
        Ok(())
    }

    /// Rewrite the report in line order; remove it when it is empty. Returns its path if kept.
    pub fn finish(self) -> std::io::Result<Option<PathBuf>> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        drop(state.file);
        if state.failures.is_empty() {
            std::fs::remove_file(&self.path)?;
            return Ok(None);
        }
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_owned();
        tmp_name.push(".tmp");
        let tmp = self.path.with_file_name(tmp_name);
        let mut file = File::create(&tmp)?;
        for f in state.failures.values() {
            write_line(&mut file, f)?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(Some(self.path))
    }
}

fn write_line(file: &mut File, failure: &Failure) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(failure).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(line: u64) -> Failure {
        Failure {
            line,
            email: Some(format!("u{line}@example.com")),
            status: Some(400),
            error_type: "invalid_md_5_hash".into(),
            error_message: "bad".into(),
        }
    }

    #[test]
    fn the_report_holds_earlier_and_new_failures_in_line_order() {
        let dir = std::env::temp_dir().join(format!("latch-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.jsonl.errors.jsonl");
        let report = ErrorReport::create(&path, [failure(9)].iter()).unwrap();
        report.add(failure(12)).unwrap();
        report.add(failure(3)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
        assert_eq!(report.finish().unwrap().as_deref(), Some(path.as_path()));
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines.iter().map(|l| l["line"].as_u64().unwrap()).collect::<Vec<_>>(),
            [3, 9, 12]
        );
        assert_eq!(
            lines[0],
            serde_json::json!({"line": 3, "email": "u3@example.com", "status": 400,
                               "error_type": "invalid_md_5_hash", "error_message": "bad"})
        );

        let report = ErrorReport::create(&path, []).unwrap();
        assert_eq!(report.finish().unwrap(), None);
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
