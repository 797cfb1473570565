//! The journal: one JSON line per event, appended and written through as it happens, so that a
//! run stopped in any way (Ctrl-C, a crash, SIGKILL) resumes where it stopped.
//!
//! The first line names the export by size and SHA-256; a run appends `run`, then per row
//! `started` just before its first request and one final entry (`created`, `existing`,
//! `imported_earlier` or `failed`) when its outcome is known. A row with a final entry is never
//! sent again (but see `--retry-failed`); a row `started` and never finished may have reached the
//! server and is sent again (migrate is idempotent for the same hash); `not_applied` says that a
//! started row's requests were all refused before taking effect.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::fingerprint::Fingerprint;

const FORMAT_NAME: &str = "latch-import-journal";
const FORMAT_VERSION: u32 = 1;

/// What a journal is about: this content, imported into this server (and organization). A
/// journal is resumed only for the same subject: the same file sent elsewhere is a new import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The export's path when the journal was made (informational, not compared).
    pub input: String,
    #[serde(flatten)]
    pub fingerprint: Fingerprint,
    /// The server, as `--url` named it.
    pub url: String,
    /// `--organization-id`, if given.
    pub organization_id: Option<String>,
}

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    journal: String,
    version: u32,
    #[serde(flatten)]
    subject: Subject,
}

/// A failed row, as the journal and the error report hold it. Never the hash or any secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub line: u64,
    pub email: Option<String>,
    /// The HTTP status, or null when no answer came (local parse error, connection failure).
    pub status: Option<u16>,
    pub error_type: String,
    pub error_message: String,
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// A run began (numbered from 1) at this Unix time.
    Run {
        run: u32,
        at: u64,
    },
    /// The row's first request is about to be sent.
    Started {
        line: u64,
    },
    /// Migrate created the account.
    Created {
        line: u64,
    },
    /// Migrate set the password of an existing account, or it already had this hash.
    Existing {
        line: u64,
    },
    /// The row was in flight when an earlier run stopped, and the account now has another
    /// password (`password_already_exists`): that run imported it and the user has since
    /// logged in, which replaced the hash.
    ImportedEarlier {
        line: u64,
    },
    Failed(Failure),
    /// The row was started but its requests had no effect (refused before any work, e.g. the
    /// credentials were refused) and the run stopped: it was never in flight in any sense that
    /// matters, and a later run sends it as new.
    NotApplied {
        line: u64,
    },
}

impl Entry {
    pub fn line(&self) -> Option<u64> {
        match self {
            Entry::Run { .. } => None,
            Entry::Started { line }
            | Entry::Created { line }
            | Entry::Existing { line }
            | Entry::ImportedEarlier { line }
            | Entry::NotApplied { line } => Some(*line),
            Entry::Failed(f) => Some(f.line),
        }
    }
}

/// How a row ended in an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Imported,
    Failed,
}

#[derive(Debug, Default, Clone, Copy)]
struct RowHistory {
    started: bool,
    done: Option<Done>,
}

/// What the journal says about earlier runs.
#[derive(Debug, Default)]
pub struct History {
    pub runs: u32,
    rows: HashMap<u64, RowHistory>,
    failures: BTreeMap<u64, Failure>,
}

impl History {
    pub(super) fn apply(&mut self, entry: Entry) {
        if let Entry::Run { run, .. } = entry {
            self.runs = self.runs.max(run);
            return;
        }
        let line = entry.line().expect("row entry");
        let row = self.rows.entry(line).or_default();
        match entry {
            Entry::Run { .. } => unreachable!(),
            Entry::Started { .. } => row.started = true,
            Entry::NotApplied { .. } => row.started = false,
            Entry::Created { .. } | Entry::Existing { .. } | Entry::ImportedEarlier { .. } => {
                row.done = Some(Done::Imported);
                self.failures.remove(&line);
            }
            Entry::Failed(f) => {
                row.done = Some(Done::Failed);
                self.failures.insert(line, f);
            }
        }
    }

    /// How the row ended, if it did.
    pub fn done(&self, line: u64) -> Option<Done> {
        self.rows.get(&line).and_then(|r| r.done)
    }

    /// Whether an earlier run sent the row and never learnt the outcome (it was stopped while
    /// the request was in flight), and no run ever finished it.
    pub fn unresolved(&self, line: u64) -> bool {
        self.rows.get(&line).is_some_and(|r| r.started && r.done.is_none())
    }

    /// The rows whose last outcome is a failure, in line order.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.failures.values()
    }
}

/// An open journal, locked for this run.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Open the journal at `path` for `subject`, creating it (or emptying it, with `restart`),
    /// and start a new run in it. Refused when another process holds it, or when it was written
    /// for different content or another server or organization.
    pub fn open(path: &Path, subject: &Subject, restart: bool) -> Result<(Self, History), String> {
        let shown = path.display();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| format!("journal {shown}: {e}"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!("journal {shown} is in use by another `latch import`"));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(format!("journal {shown}: locking: {e}")),
        }
        if restart {
            file.set_len(0).map_err(|e| format!("journal {shown}: {e}"))?;
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(|e| format!("journal {shown}: {e}"))?;
        let mut history = History::default();
        if text.is_empty() {
            let header = Header {
                journal: FORMAT_NAME.into(),
                version: FORMAT_VERSION,
                subject: subject.clone(),
            };
            write_line(&mut file, &header).map_err(|e| format!("journal {shown}: {e}"))?;
        } else {
            // A line cut short by a crash mid-write is dropped: its event had not happened.
            let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            if complete < text.len() {
                file.set_len(complete as u64)
                    .map_err(|e| format!("journal {shown}: {e}"))?;
                text.truncate(complete);
            }
            let mut lines = text.split(|&b| b == b'\n').filter(|l| !l.is_empty());
            let header: Header = lines
                .next()
                .and_then(|l| serde_json::from_slice(l).ok())
                .filter(|h: &Header| h.journal == FORMAT_NAME)
                .ok_or_else(|| format!("{shown} is not a `latch import` journal; name another one with --journal"))?;
            if header.version != FORMAT_VERSION {
                return Err(format!(
                    "journal {shown} has version {} of the format; this `latch` reads version {FORMAT_VERSION}",
                    header.version
                ));
            }
            let then = &header.subject;
            if then.fingerprint != subject.fingerprint {
                return Err(format!(
                    "journal {shown} was written for other content ({}, {} bytes then, {} bytes now): the export \
                     has changed since. To import the new content from the start use --restart (rows already \
                     imported are answered as such by the server, except accounts whose users have logged in \
                     since: those fail with password_already_exists), or name another journal with --journal",
                    then.input, then.fingerprint.size, subject.fingerprint.size
                ));
            }
            if (&then.url, &then.organization_id) != (&subject.url, &subject.organization_id) {
                let target = |s: &Subject| match &s.organization_id {
                    Some(org) => format!("{} (--organization-id {org})", s.url),
                    None => s.url.clone(),
                };
                return Err(format!(
                    "journal {shown} is the import of this file into {}, not {}: name a journal for this import \
                     with --journal",
                    target(then),
                    target(subject)
                ));
            }
            for (i, l) in lines.enumerate() {
                let entry: Entry = serde_json::from_slice(l).map_err(|e| {
                    format!(
                        "journal {shown} is damaged at line {} ({e}); start over with --restart",
                        i + 2
                    )
                })?;
                history.apply(entry);
            }
        }
        let journal = Self {
            path: path.to_owned(),
            file: Mutex::new(file),
        };
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        journal
            .record(&Entry::Run {
                run: history.runs + 1,
                at,
            })
            .map_err(|e| format!("journal {shown}: {e}"))?;
        Ok((journal, history))
    }

    /// Append one entry. It reaches the operating system before this returns (one write, no
    /// buffering), so it survives the process being killed.
    pub fn record(&self, entry: &Entry) -> std::io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        write_line(&mut file, entry)
    }

    /// Flush to the disk (at the end of a run).
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.lock().unwrap_or_else(|e| e.into_inner()).sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_line(file: &mut File, value: &impl Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("latch-journal-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn fp(size: u64) -> Subject {
        Subject {
            input: "in.jsonl".into(),
            fingerprint: Fingerprint {
                size,
                sha256: "00".repeat(32),
            },
            url: "http://127.0.0.1:3000/".into(),
            organization_id: None,
        }
    }

    fn failure(line: u64) -> Failure {
        Failure {
            line,
            email: Some("a@example.com".into()),
            status: Some(400),
            error_type: "invalid_bcrypt_hash".into(),
            error_message: "no".into(),
        }
    }

    #[test]
    fn a_new_journal_has_no_history_and_resumes_with_what_was_recorded() {
        let dir = TempDir::new("resume");
        let path = dir.0.join("j");
        {
            let (j, h) = Journal::open(&path, &fp(10), false).unwrap();
            assert_eq!(h.runs, 0);
            for e in [
                Entry::Started { line: 1 },
                Entry::Created { line: 1 },
                Entry::Started { line: 2 },
                Entry::Started { line: 3 },
                Entry::Failed(failure(3)),
                Entry::Failed(failure(4)),
                Entry::Started { line: 5 },
                Entry::Existing { line: 5 },
            ] {
                j.record(&e).unwrap();
            }
        }
        let (_j, h) = Journal::open(&path, &fp(10), false).unwrap();
        assert_eq!(h.runs, 1);
        assert_eq!(h.done(1), Some(Done::Imported));
        assert_eq!(h.done(2), None);
        assert!(h.unresolved(2));
        assert_eq!(h.done(3), Some(Done::Failed));
        assert!(!h.unresolved(3));
        assert_eq!(h.done(4), Some(Done::Failed));
        assert_eq!(h.done(5), Some(Done::Imported));
        assert_eq!(h.done(6), None);
        assert!(!h.unresolved(6));
        assert_eq!(h.failures().map(|f| f.line).collect::<Vec<_>>(), [3, 4]);
    }

    #[test]
    fn a_later_success_clears_a_failure() {
        let mut h = History::default();
        h.apply(Entry::Failed(failure(7)));
        h.apply(Entry::Started { line: 7 });
        assert!(
            !h.unresolved(7),
            "it failed once: a later resend is not presumed imported"
        );
        h.apply(Entry::Created { line: 7 });
        assert_eq!(h.done(7), Some(Done::Imported));
        assert_eq!(h.failures().count(), 0);
    }

    #[test]
    fn a_row_whose_requests_had_no_effect_is_not_unresolved() {
        let mut h = History::default();
        h.apply(Entry::Started { line: 2 });
        assert!(h.unresolved(2));
        h.apply(Entry::NotApplied { line: 2 });
        assert!(!h.unresolved(2));
        assert_eq!(h.done(2), None);
    }

    #[test]
    fn the_journal_of_other_content_is_refused_unless_restarting() {
        let dir = TempDir::new("mismatch");
        let path = dir.0.join("j");
        drop(Journal::open(&path, &fp(10), false).unwrap());
        let e = Journal::open(&path, &fp(11), false).unwrap_err();
        assert!(e.contains("--restart"), "{e}");
        let (j, h) = Journal::open(&path, &fp(11), true).unwrap();
        assert_eq!(h.runs, 0);
        j.record(&Entry::Created { line: 1 }).unwrap();
        drop(j);
        let (_, h) = Journal::open(&path, &fp(11), false).unwrap();
        assert_eq!((h.runs, h.done(1)), (1, Some(Done::Imported)));
    }

    #[test]
    fn the_journal_of_another_server_or_organization_is_refused() {
        let dir = TempDir::new("target");
        let path = dir.0.join("j");
        drop(Journal::open(&path, &fp(10), false).unwrap());
        let elsewhere = Subject {
            url: "https://auth.example.com/".into(),
            ..fp(10)
        };
        let e = Journal::open(&path, &elsewhere, false).unwrap_err();
        assert!(
            e.contains("into http://127.0.0.1:3000/, not https://auth.example.com/"),
            "{e}"
        );
        let org = Subject {
            organization_id: Some("org-1".into()),
            ..fp(10)
        };
        let e = Journal::open(&path, &org, false).unwrap_err();
        assert!(e.contains("--organization-id org-1"), "{e}");
        assert!(Journal::open(&path, &fp(10), false).is_ok());
    }

    #[test]
    fn a_journal_is_used_by_one_import_at_a_time() {
        let dir = TempDir::new("lock");
        let path = dir.0.join("j");
        let held = Journal::open(&path, &fp(1), false).unwrap();
        let e = Journal::open(&path, &fp(1), false).unwrap_err();
        assert!(e.contains("in use"), "{e}");
        drop(held);
        assert!(Journal::open(&path, &fp(1), false).is_ok());
    }

    #[test]
    fn a_line_cut_short_is_dropped_and_a_damaged_one_refused() {
        let dir = TempDir::new("torn");
        let path = dir.0.join("j");
        drop(Journal::open(&path, &fp(1), false).unwrap());
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"event\":\"created\",\"line\":1}\n{\"event\":\"crea")
            .unwrap();
        drop(f);
        let (j, h) = Journal::open(&path, &fp(1), false).unwrap();
        assert_eq!(h.done(1), Some(Done::Imported));
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
        }

        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"garbage\n").unwrap();
        drop(f);
        let e = Journal::open(&path, &fp(1), false).unwrap_err();
        assert!(e.contains("damaged at line"), "{e}");
    }

    #[test]
    fn other_files_are_not_taken_for_journals() {
        let dir = TempDir::new("other");
        let path = dir.0.join("j");
        std::fs::write(&path, "email,hash\n").unwrap();
        let e = Journal::open(&path, &fp(1), false).unwrap_err();
        assert!(e.contains("not a `latch import` journal"), "{e}");
    }

    #[test]
    fn entries_are_one_json_object_per_line() {
        assert_eq!(
            serde_json::to_string(&Entry::Started { line: 3 }).unwrap(),
            r#"{"event":"started","line":3}"#
        );
        let f = serde_json::to_value(Entry::Failed(failure(4))).unwrap();
        assert_eq!(f["event"], "failed");
        assert_eq!(f["line"], 4);
        assert_eq!(f["error_type"], "invalid_bcrypt_hash");
    }
}
