//! The embedded store: one SQLite file under the data directory, in WAL mode so several
//! processes (as under `cargo lambda watch`) can share it. Uniqueness comes from UNIQUE
//! constraints and read-modify-write runs under `BEGIN IMMEDIATE`, never check-then-write.
//!
//! Reads go through their own read-only connections, one per core: in WAL mode a reader never
//! needs the write lock, so a write lock held elsewhere (another process, a long write) does not
//! stall them, and readers do not wait for each other (the session hot path, issue 20, reads on
//! every call). Lookups by key reuse prepared statements (`prepare_cached`).
//! Writes share one connection and wait at most the busy timeout, in all (for that connection
//! and then for SQLite's lock), before they fail as `Unavailable` (503).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;

use super::*;

pub struct SqliteStore {
    /// The connection every write goes through.
    conn: Arc<tokio::sync::Mutex<Connection>>,
    /// The read-only connections plain reads go through (none for an in-memory database, which a
    /// second connection would not see: its reads use the write connection).
    readers: Option<Arc<Readers>>,
    /// How long a write waits for the write lock, in all.
    busy_timeout: Duration,
}

/// The busy timeout when none is configured (`LATCH_SQLITE_BUSY_TIMEOUT_MS`'s default).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read-only connections at most, whatever the cores: each holds its own page cache.
const MAX_READERS: usize = 8;

/// The read-only connections, handed out in turn.
struct Readers {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// A free connection if one is, starting from the next in turn; else wait for that one.
    fn take(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        self.free_from(start).map_or_else(
            || {
                self.connections[start % self.connections.len()]
                    .lock()
                    .map_err(unavailable)
            },
            Ok,
        )
    }

    /// A connection no one holds, without waiting for one.
    fn take_free(&self) -> Option<std::sync::MutexGuard<'_, Connection>> {
        self.free_from(self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn free_from(&self, start: usize) -> Option<std::sync::MutexGuard<'_, Connection>> {
        let count = self.connections.len();
        (0..count).find_map(|i| self.connections[(start + i) % count].try_lock().ok())
    }
}

/// The record (JSON in `data`) of the row of `table` whose `column` is `value`, by a cached
/// statement: table and column are names in this file, never input.
fn record_where<T: DeserializeOwned>(
    conn: &Connection,
    table: &str,
    column: &str,
    value: &str,
) -> Result<Option<T>, StoreError> {
    let sql = format!("SELECT data FROM {table} WHERE {column} = ?1");
    let data: Option<String> = conn
        .prepare_cached(&sql)
        .map_err(sql_err)?
        .query_row([value], |r| r.get(0))
        .optional()
        .map_err(sql_err)?;
    data.as_deref().map(decode).transpose()
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    -- records::email_key: the email, or "<organization_id> <email>" for a member.
    email   TEXT NOT NULL UNIQUE,
    data    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    expires_at   INTEGER NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS tokens (
    token_digest TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user_id);
CREATE TABLE IF NOT EXISTS rate_limits (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE TABLE IF NOT EXISTS organizations (
    organization_id TEXT PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    data            TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS org_members (
    user_id         TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_members_by_org ON org_members (organization_id);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid        TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);
"#;

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => unavailable(e),
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict,
        _ => unavailable(e),
    }
}

/// The one INSERT of a session row, shared by signup, session start and reset.
fn insert_session_row(conn: &Connection, s: &SessionRecord, data: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (session_id, user_id, token_digest, expires_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.session_id, s.user_id, s.token_digest, s.expires_at.timestamp(), data],
    )
    .map(|_| ())
    .map_err(sql_err)
}

/// The one UPDATE of a user row's record, shared by every read-modify-write of a user.
fn update_user_row(conn: &Connection, user: &UserRecord) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET data = ?2 WHERE user_id = ?1",
        params![user.user_id, encode(user)?],
    )
    .map(|_| ())
    .map_err(sql_err)
}

/// The one UPDATE of a session row (refresh); false if the session is gone.
fn update_session_row(conn: &Connection, s: &SessionRecord, data: &str) -> Result<bool, StoreError> {
    conn.execute(
        "UPDATE sessions SET expires_at = ?2, data = ?3 WHERE session_id = ?1",
        params![s.session_id, s.expires_at.timestamp(), data],
    )
    .map(|n| n > 0)
    .map_err(sql_err)
}

/// Mark a token used, inside the caller's write transaction, if it is unused and (as stored)
/// `token_survives` against its user as stored now: the password-change check and the
/// single use in one step (docs/security.md R3, R7). False if it is gone, used or outlived.
fn consume_token_row(conn: &Connection, digest: &str) -> Result<bool, StoreError> {
    let row: Option<String> = conn
        .query_row(
            "SELECT data FROM tokens WHERE token_digest = ?1 AND used = 0",
            [digest],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    let Some(data) = row else { return Ok(false) };
    let token: TokenRecord = decode(&data)?;
    if token.kind.dies_with_password() {
        let Some(user) = SqliteStore::user_where(conn, "user_id", &token.user_id)? else {
            return Ok(false);
        };
        if !token_survives(&token, &user) {
            return Ok(false);
        }
    }
    let n = conn
        .execute(
            "UPDATE tokens SET used = 1 WHERE token_digest = ?1 AND used = 0",
            [digest],
        )
        .map_err(sql_err)?;
    Ok(n == 1)
}

fn decode<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "latch.sqlite3";

/// Why `backup` did not write a copy.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no database at {0}")]
    NoDatabase(std::path::PathBuf),
    #[error("{0} already exists; a backup never overwrites a file")]
    Exists(std::path::PathBuf),
    #[error("creating the backup file: {0}")]
    Create(#[source] std::io::Error),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Copy the database at `database` to `dest` with SQLite's online backup API, in one step: a
/// consistent snapshot taken under a read transaction, which in WAL mode never blocks the
/// writers of a running `latch serve`. `dest` must not exist; it is created 0600
/// (docs/security.md X3).
pub fn backup(database: &Path, dest: &Path) -> Result<(), BackupError> {
    use rusqlite::backup::{Backup, StepResult};
    use rusqlite::OpenFlags;
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.to_path_buf()));
    }
    // Opened without CREATE, so a mistyped data directory is an error, not a new empty store.
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    source.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
    crate::files::create_new_private()
        .open(dest)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::Exists(dest.to_path_buf()),
            _ => BackupError::Create(e),
        })?;
    let written = (|| {
        let mut target = Connection::open(dest)?;
        let copy = Backup::new(&source, &mut target)?;
        loop {
            // -1: every page in one step; Busy/Locked are transient (another connection writing).
            match copy.step(-1)? {
                StepResult::Done => return Ok(()),
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    })();
    if written.is_err() {
        // No half-written backup left behind to be mistaken for a good one.
        let _ = std::fs::remove_file(dest);
    }
    written
}

impl SqliteStore {
    /// Open (creating if needed) `latch.sqlite3` in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        Self::open_dir_with(dir, DEFAULT_BUSY_TIMEOUT)
    }

    /// `open_dir` with writes waiting at most `busy_timeout` for the write lock.
    pub fn open_dir_with(dir: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        // 0700, and the database 0600 before SQLite opens it (docs/security.md X3).
        crate::files::private_dir(dir).map_err(unavailable)?;
        let path = dir.join(DATABASE_FILE);
        crate::files::private_database(&path).map_err(unavailable)?;
        Self::open_with(&path, busy_timeout)
    }

    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, DEFAULT_BUSY_TIMEOUT)
    }

    pub fn open_with(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(sql_err)?;
        // Another process may hold the write lock for a moment; wait rather than fail, but not
        // longer than the busy timeout (set again before each write, `with`).
        conn.busy_timeout(busy_timeout).map_err(sql_err)?;
        Self::prepare(&conn, busy_timeout)?;
        let readers = if path == Path::new(":memory:") {
            None
        } else {
            let count = std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, MAX_READERS);
            let connections = (0..count)
                .map(|_| {
                    let reader = Connection::open(path).map_err(sql_err)?;
                    reader.busy_timeout(busy_timeout).map_err(sql_err)?;
                    // Nothing written through it by mistake: a write there would skip the lock's wait.
                    reader.pragma_update(None, "query_only", "ON").map_err(sql_err)?;
                    Ok(Mutex::new(reader))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Some(Arc::new(Readers {
                connections,
                next: AtomicUsize::new(0),
            }))
        };
        Ok(Self {
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
            readers,
            busy_timeout,
        })
    }

    /// WAL mode and the schema, on a database other processes may be opening at the same moment.
    /// The schema is created under one `BEGIN IMMEDIATE`: created statement by statement, a
    /// connection whose read snapshot another one's CREATE made stale is refused at once
    /// (SQLITE_BUSY_SNAPSHOT, which no busy handler waits out). What SQLite still answers busy,
    /// such as the switch to WAL while another connection makes it, is retried until the busy
    /// timeout has passed.
    fn prepare(conn: &Connection, busy_timeout: Duration) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        loop {
            let attempt = conn
                .pragma_update(None, "journal_mode", "WAL")
                .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
                .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
                .and_then(|_| conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")));
            match attempt {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let busy = matches!(
                        e.sqlite_error_code(),
                        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    );
                    if !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    if !busy || started.elapsed() >= busy_timeout {
                        return Err(sql_err(e));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    /// Run a write on the write connection. The wait for the connection (other writes) and then
    /// for SQLite's write lock together take at most the busy timeout; past it, `Unavailable`.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let started = std::time::Instant::now();
        let busy = || unavailable(format!("the database stayed locked for {:?}", self.busy_timeout));
        let mut guard = tokio::time::timeout(self.busy_timeout, self.conn.clone().lock_owned())
            .await
            // Elapsed says only that the time ran out, which `busy` says with the time.
            .map_err(|_| busy())?;
        let remaining = self.busy_timeout.saturating_sub(started.elapsed());
        crate::blocking::spawn(move || {
            guard.busy_timeout(remaining).map_err(sql_err)?;
            f(&mut guard)
        })
        .await
        .map_err(unavailable)?
    }

    /// Run a read on a read-only connection, which never waits for the write lock.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(readers) = self.readers.clone() else {
            return self.with(f).await;
        };
        crate::blocking::spawn(move || {
            let mut guard = readers.take()?;
            f(&mut guard)
        })
        .await
        .map_err(unavailable)?
    }

    /// A read of a row or three by key (`record_where`), answered on the calling thread when a
    /// read-only connection is free. Such a read is a few microseconds from SQLite's page cache
    /// and never waits for a writer (WAL), where the hand-off to the blocking pool costs two
    /// thread wake-ups, the largest share of a `sessions/authenticate` in the profile
    /// (docs/reference/performance-facts.md, "The session hot path"). When every connection is
    /// busy, and for anything longer (lists, scans), the read goes to the blocking pool.
    async fn point_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if let Some(mut free) = self.readers.as_ref().and_then(|r| r.take_free()) {
            return f(&mut free);
        }
        self.read(f).await
    }

    fn user_where(conn: &Connection, column: &str, value: &str) -> Result<Option<UserRecord>, StoreError> {
        record_where(conn, "users", column, value)
    }

    fn organization_where(
        conn: &Connection,
        column: &str,
        value: &str,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        record_where(conn, "organizations", column, value)
    }

    /// Read-modify-write of one user's record under the write lock.
    async fn modify_user<T: Send + 'static>(
        &self,
        user_id: &str,
        f: impl FnOnce(&mut UserRecord) -> T + Send + 'static,
    ) -> Result<Option<T>, StoreError> {
        let user_id = user_id.to_string();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let Some(mut user) = Self::user_where(&tx, "user_id", &user_id)? else {
                return Ok(None);
            };
            let before = user.clone();
            let out = f(&mut user);
            settle_credential_epoch(&before, &mut user, false);
            update_user_row(&tx, &user)?;
            tx.commit().map_err(sql_err)?;
            Ok(Some(out))
        })
        .await
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, user: &UserRecord, session: Option<&SessionRecord>) -> Result<(), StoreError> {
        let (id, email, data) = (user.user_id.clone(), user.email_key(), encode(user)?);
        let org = user.organization_id().map(str::to_string);
        let session = session.map(|s| encode(s).map(|d| (s.clone(), d))).transpose()?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            if let Some(org) = &org {
                // A member joins an organization that exists, in the same transaction.
                if Self::organization_where(&tx, "organization_id", org)?.is_none() {
                    return Err(StoreError::Conflict);
                }
                tx.execute(
                    "INSERT INTO org_members (user_id, organization_id) VALUES (?1, ?2)",
                    params![id, org],
                )
                .map_err(sql_err)?;
            }
            tx.execute(
                "INSERT INTO users (user_id, email, data) VALUES (?1, ?2, ?3)",
                params![id, email, data],
            )
            .map_err(|e| match sql_err(e) {
                StoreError::Conflict => StoreError::DuplicateEmail,
                other => other,
            })?;
            if let Some((s, data)) = session {
                insert_session_row(&tx, &s, &data)?;
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let id = user_id.to_string();
        self.point_read(move |conn| Self::user_where(conn, "user_id", &id))
            .await
    }

    async fn user_by_email(
        &self,
        organization_id: Option<&str>,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let key = email_key(organization_id, email);
        self.point_read(move |conn| Self::user_where(conn, "email", &key)).await
    }

    async fn members_with_email(&self, email: &str) -> Result<Vec<UserRecord>, StoreError> {
        // Members' keys are "<organization_id> <email>"; the rare cross-org lookup may scan.
        let suffix = format!(" {email}");
        self.read(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT u.data FROM users u JOIN org_members m ON m.user_id = u.user_id
                     WHERE substr(u.email, -length(?1)) = ?1",
                )
                .map_err(sql_err)?;
            let rows = stmt
                .query_map([&suffix], |r| r.get::<_, String>(0))
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            let members: Vec<UserRecord> = rows.iter().map(|d| decode(d)).collect::<Result<_, _>>()?;
            Ok(members.into_iter().filter(|m| m.email == suffix[1..]).collect())
        })
        .await
    }

    async fn claim_login(
        &self,
        organization_id: Option<&str>,
        email: &str,
        now: DateTime<Utc>,
        settings: LockoutSettings,
    ) -> Result<Option<(UserRecord, Option<Ticket>)>, StoreError> {
        let key = email_key(organization_id, email);
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let Some(mut user) = Self::user_where(&tx, "email", &key)? else {
                return Ok(None);
            };
            let after = crate::lockout::claim(&user.lock, now, settings);
            let ticket = crate::lockout::ticket(&user.lock, &after, now);
            if after != user.lock {
                user.lock = after;
                update_user_row(&tx, &user)?;
                tx.commit().map_err(sql_err)?;
            }
            Ok(Some((user, ticket)))
        })
        .await
    }

    async fn record_login(
        &self,
        user: &UserRecord,
        ticket: Ticket,
        now: DateTime<Utc>,
        session: Option<SessionWrite<'_>>,
    ) -> Result<LoginRecorded, StoreError> {
        let user_id = user.user_id.clone();
        let session = session
            .map(|w| match w {
                SessionWrite::Insert(s) => encode(s).map(|d| (s.clone(), d, false)),
                SessionWrite::Refresh(s) => encode(s).map(|d| (s.clone(), d, true)),
            })
            .transpose()?;
        self.with(move |conn| {
            // Dropping the transaction without commit rolls everything back.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let Some(mut user) = Self::user_where(&tx, "user_id", &user_id)? else {
                return Ok(LoginRecorded::UserGone);
            };
            let after = crate::lockout::on_success(&user.lock, now, ticket);
            if after.is_locked(now) {
                return Ok(LoginRecorded::Locked(after));
            }
            user.lock = after;
            update_user_row(&tx, &user)?;
            let session_written = match session {
                Some((s, data, false)) => insert_session_row(&tx, &s, &data).map(|()| true)?,
                Some((s, data, true)) => update_session_row(&tx, &s, &data)?,
                None => true,
            };
            if !session_written {
                return Ok(LoginRecorded::SessionGone);
            }
            tx.commit().map_err(sql_err)?;
            Ok(LoginRecorded::Recorded)
        })
        .await
    }

    async fn update_user(&self, user_id: &str, change: UserChange) -> Result<Option<UserRecord>, StoreError> {
        self.modify_user(user_id, move |u| {
            // modify_user settles the epoch after this too (the same result): here so that the
            // record returned is the one written.
            let before = u.clone();
            change(u);
            settle_credential_epoch(&before, u, false);
            u.clone()
        })
        .await
    }

    async fn require_password_reset(&self, user_id: &str, hash: &str) -> Result<bool, StoreError> {
        let hash = hash.to_string();
        Ok(self
            .modify_user(user_id, move |u| flag_reset(u, &hash))
            .await?
            .unwrap_or(false))
    }

    async fn verify_email(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .modify_user(user_id, |u| {
                prove_email(u);
            })
            .await?
            .is_some())
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let id = user_id.to_string();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [&id])
                .map_err(sql_err)?;
            tx.execute("DELETE FROM tokens WHERE user_id = ?1", [&id])
                .map_err(sql_err)?;
            tx.execute("DELETE FROM org_members WHERE user_id = ?1", [&id])
                .map_err(sql_err)?;
            let n = tx
                .execute("DELETE FROM users WHERE user_id = ?1", [&id])
                .map_err(sql_err)?;
            tx.commit().map_err(sql_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn update_lock(
        &self,
        user_id: &str,
        change: LockChange,
    ) -> Result<Option<(LockState, LockState)>, StoreError> {
        self.modify_user(user_id, move |user| {
            let before = user.lock.clone();
            user.lock = change(&before);
            (before, user.lock.clone())
        })
        .await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let s = session.clone();
        let data = encode(&s)?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            // A session only exists for a user that exists (no orphans if the user was deleted).
            let user_exists: bool = tx
                .query_row("SELECT 1 FROM users WHERE user_id = ?1", [&s.user_id], |_| Ok(true))
                .optional()
                .map_err(sql_err)?
                .unwrap_or(false);
            if !user_exists {
                return Err(StoreError::Conflict);
            }
            insert_session_row(&tx, &s, &data)?;
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn session_by_id(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let id = session_id.to_string();
        self.point_read(move |conn| record_where(conn, "sessions", "session_id", &id))
            .await
    }

    async fn session_by_token_digest(&self, digest: &str) -> Result<Option<SessionRecord>, StoreError> {
        let d = digest.to_string();
        self.point_read(move |conn| record_where(conn, "sessions", "token_digest", &d))
            .await
    }

    /// The session, its user and organization in one hand-off to the blocking pool and one read
    /// transaction, so the three come from one snapshot of the database.
    async fn session_context(&self, key: SessionKey<'_>) -> Result<Option<SessionContext>, StoreError> {
        let (column, value) = match key {
            SessionKey::TokenDigest(digest) => ("token_digest", digest.to_string()),
            SessionKey::Id { session_id, .. } => ("session_id", session_id.to_string()),
        };
        self.point_read(move |conn| {
            let tx = conn.transaction().map_err(sql_err)?;
            let Some(session) = record_where::<SessionRecord>(&tx, "sessions", column, &value)? else {
                return Ok(None);
            };
            let user = Self::user_where(&tx, "user_id", &session.user_id)?;
            let organization = match &session.organization {
                Some(org) => Self::organization_where(&tx, "organization_id", &org.organization_id)?,
                None => None,
            };
            Ok(Some(SessionContext {
                session,
                user,
                organization,
            }))
        })
        .await
    }

    async fn update_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        let s = session.clone();
        let data = encode(&s)?;
        self.with(move |conn| update_session_row(conn, &s, &data)).await
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        let id = session_id.to_string();
        self.with(move |conn| {
            Ok(conn
                .execute("DELETE FROM sessions WHERE session_id = ?1", [&id])
                .map_err(sql_err)?
                > 0)
        })
        .await
    }

    async fn sessions_for_user(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>, StoreError> {
        let id = user_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare("SELECT data FROM sessions WHERE user_id = ?1 AND expires_at > ?2 ORDER BY expires_at")
                .map_err(sql_err)?;
            let rows = stmt
                .query_map(params![id, now.timestamp()], |r| r.get::<_, String>(0))
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            let sessions: Vec<SessionRecord> = rows.iter().map(|d| decode(d)).collect::<Result<_, _>>()?;
            // Expiry is at second resolution in the index; the exact check is in code.
            Ok(sessions.into_iter().filter(|s| s.is_active(now)).collect())
        })
        .await
    }

    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        let rows = tokens
            .iter()
            .map(|t| encode(t).map(|d| (t.clone(), d)))
            .collect::<Result<Vec<_>, _>>()?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            for (t, data) in rows {
                tx.execute(
                    "INSERT INTO tokens (token_digest, user_id, expires_at, used, data) VALUES (?1, ?2, ?3, 0, ?4)",
                    params![t.token_digest, t.user_id, t.expires_at.timestamp(), data],
                )
                .map_err(sql_err)?;
            }
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        let d = digest.to_string();
        self.read(move |conn| {
            let row: Option<(String, i64)> = conn
                .query_row("SELECT data, used FROM tokens WHERE token_digest = ?1", [&d], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(sql_err)?;
            row.map(|(data, used)| {
                let mut t: TokenRecord = decode(&data)?;
                // The `used` column is the authority: it is what the conditional update flips.
                t.used = used != 0;
                Ok(t)
            })
            .transpose()
        })
        .await
    }

    async fn update_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        let (d, data) = (token.token_digest.clone(), encode(token)?);
        self.with(move |conn| {
            let n = conn
                .execute(
                    "UPDATE tokens SET data = ?2 WHERE token_digest = ?1 AND used = 0",
                    params![d, data],
                )
                .map_err(sql_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn consume_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        let d = token.token_digest.clone();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let consumed = consume_token_row(&tx, &d)?;
            tx.commit().map_err(sql_err)?;
            Ok(consumed)
        })
        .await
    }

    async fn complete_reset(&self, reset: &PasswordReset) -> Result<Option<UserRecord>, StoreError> {
        let r = reset.clone();
        let keep = r
            .keep_session
            .as_ref()
            .map(|s| encode(s).map(|d| (s.clone(), d)))
            .transpose()?;
        let new = r
            .new_session
            .as_ref()
            .map(|s| encode(s).map(|d| (s.clone(), d)))
            .transpose()?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            if let Some(token) = &r.token {
                if !consume_token_row(&tx, &token.token_digest)? {
                    return Ok(None);
                }
            }
            let Some(mut user) = Self::user_where(&tx, "user_id", &r.user_id)? else {
                return Ok(None);
            };
            r.apply_to(&mut user);
            update_user_row(&tx, &user)?;
            for shared in &r.same_password_for {
                if let Some(mut other) = Self::user_where(&tx, "user_id", &shared.user_id)? {
                    shared.apply_to(&mut other, &r.password.hash);
                    update_user_row(&tx, &other)?;
                }
            }
            let keep_id = keep.as_ref().map(|(s, _)| s.session_id.clone()).unwrap_or_default();
            tx.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND session_id != ?2",
                params![r.user_id, keep_id],
            )
            .map_err(sql_err)?;
            if let Some((s, data)) = keep {
                if !update_session_row(&tx, &s, &data)? {
                    // The kept session was revoked meanwhile: do nothing at all.
                    return Ok(None);
                }
            }
            if let Some((s, data)) = new {
                insert_session_row(&tx, &s, &data)?;
            }
            tx.commit().map_err(sql_err)?;
            Ok(Some(user))
        })
        .await
    }

    async fn hit_rate_limit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError> {
        let (k, w) = (key.to_string(), window_start.timestamp());
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            // Old windows are of no further use.
            tx.execute(
                "DELETE FROM rate_limits WHERE key = ?1 AND window_start < ?2",
                params![k, w],
            )
            .map_err(sql_err)?;
            tx.execute(
                "INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1",
                params![k, w],
            )
            .map_err(sql_err)?;
            let count: u32 = tx
                .query_row(
                    "SELECT count FROM rate_limits WHERE key = ?1 AND window_start = ?2",
                    params![k, w],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            tx.commit().map_err(sql_err)?;
            Ok(count)
        })
        .await
    }

    async fn create_organization(&self, org: &OrganizationRecord) -> Result<(), StoreError> {
        let (id, slug, data) = (org.organization_id.clone(), org.organization_slug.clone(), encode(org)?);
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO organizations (organization_id, slug, data) VALUES (?1, ?2, ?3)",
                params![id, slug, data],
            )
            .map(|_| ())
            .map_err(sql_err)
        })
        .await
    }

    async fn organization_by_id(&self, organization_id: &str) -> Result<Option<OrganizationRecord>, StoreError> {
        let id = organization_id.to_string();
        self.point_read(move |conn| Self::organization_where(conn, "organization_id", &id))
            .await
    }

    async fn organization_by_slug(&self, slug: &str) -> Result<Option<OrganizationRecord>, StoreError> {
        let slug = slug.to_string();
        self.point_read(move |conn| Self::organization_where(conn, "slug", &slug))
            .await
    }

    async fn update_organization(&self, org: &OrganizationRecord, _previous_slug: &str) -> Result<bool, StoreError> {
        let (id, slug, data) = (org.organization_id.clone(), org.organization_slug.clone(), encode(org)?);
        self.with(move |conn| {
            // The UNIQUE slug column decides a race for a new slug.
            let n = conn
                .execute(
                    "UPDATE organizations SET slug = ?2, data = ?3 WHERE organization_id = ?1",
                    params![id, slug, data],
                )
                .map_err(sql_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_organization(&self, organization_id: &str) -> Result<bool, StoreError> {
        let id = organization_id.to_string();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let members = "SELECT user_id FROM org_members WHERE organization_id = ?1";
            for table in ["sessions", "tokens", "users"] {
                tx.execute(&format!("DELETE FROM {table} WHERE user_id IN ({members})"), [&id])
                    .map_err(sql_err)?;
            }
            tx.execute("DELETE FROM org_members WHERE organization_id = ?1", [&id])
                .map_err(sql_err)?;
            let n = tx
                .execute("DELETE FROM organizations WHERE organization_id = ?1", [&id])
                .map_err(sql_err)?;
            tx.commit().map_err(sql_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT data FROM signing_keys").map_err(sql_err)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            rows.iter().map(|d| decode(d)).collect()
        })
        .await
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        let k = key.clone();
        let data = encode(&k)?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let existing: i64 = tx
                .query_row("SELECT COUNT(*) FROM signing_keys", [], |r| r.get(0))
                .map_err(sql_err)?;
            if existing > 0 {
                return Err(StoreError::Conflict);
            }
            tx.execute(
                "INSERT INTO signing_keys (kid, created_at, data) VALUES (?1, ?2, ?3)",
                params![k.kid, k.created_at.timestamp(), data],
            )
            .map_err(sql_err)?;
            tx.commit().map_err(sql_err)
        })
        .await
    }

    async fn replace_signing_key(&self, current: &SigningKeyRecord, new: &SigningKeyRecord) -> Result<(), StoreError> {
        if current.kid != new.kid {
            return Err(StoreError::Corrupt(
                "a signing key is replaced by one with its own kid".into(),
            ));
        }
        let (current, new) = (current.clone(), new.clone());
        let data = encode(&new)?;
        self.with(move |conn| {
            // Compared as records, not as text: an older version's JSON may be laid out otherwise.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err)?;
            let stored: Option<String> = tx
                .query_row("SELECT data FROM signing_keys WHERE kid = ?1", [&current.kid], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql_err)?;
            match stored {
                Some(d) if decode::<SigningKeyRecord>(&d)? == current => {}
                _ => return Err(StoreError::Conflict),
            }
            tx.execute(
                "UPDATE signing_keys SET data = ?2 WHERE kid = ?1",
                params![new.kid, data],
            )
            .map_err(sql_err)?;
            tx.commit().map_err(sql_err)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database file of its own, removed when dropped.
    struct ScratchDir(std::path::PathBuf);

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_point_read_runs_here_while_a_reader_is_free_and_in_the_pool_when_none_is() {
        let dir = ScratchDir(std::env::temp_dir().join(format!("latch-point-read-{}", uuid::Uuid::new_v4())));
        std::fs::create_dir_all(&dir.0).unwrap();
        let store = SqliteStore::open_dir(&dir.0).unwrap();
        let here = std::thread::current().id();
        let thread_of_read = || async { store.point_read(|_| Ok(std::thread::current().id())).await.unwrap() };

        assert_eq!(
            thread_of_read().await,
            here,
            "a free reader answers on the calling thread"
        );

        let readers = store
            .readers
            .clone()
            .expect("a file database has read-only connections");
        let (all_held, held) = std::sync::mpsc::channel();
        let release = std::thread::spawn(move || {
            let _guards: Vec<_> = readers.connections.iter().map(|c| c.lock().unwrap()).collect();
            all_held.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        held.recv().unwrap();
        // Every reader is held: the read waits for one in the blocking pool, not on this thread.
        assert_ne!(thread_of_read().await, here);
        release.join().unwrap();
    }
}
