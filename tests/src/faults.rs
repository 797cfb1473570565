//! A store that fails on demand: the k-th call from when it is armed returns `Unavailable`, as
//! a throttled, timed-out or cancelled backend call would, before it happens or after it was
//! carried out (docs/security.md F1).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use latch::store::*;

/// What injects the after-commit faults of tests/tests/api/faults.rs: the faulty store (one store
/// call carried out and then failed) or, on DynamoDB, the fault proxy in front of the emulator
/// (one AWS request carried out, then it and every later one failed: a caller stopped right
/// after that step).
pub trait InjectFaults: Send + Sync {
    /// Arm: the `k`-th call from now (k ≥ 1) is carried out and then fails.
    fn fail_after_commit_in(&self, k: u64);
    /// Whether the armed fault was reached.
    fn fired(&self) -> bool;
    fn disarm(&self);
}

impl InjectFaults for FaultyStore {
    fn fail_after_commit_in(&self, k: u64) {
        FaultyStore::fail_after_commit_in(self, k)
    }
    fn fired(&self) -> bool {
        FaultyStore::fired(self)
    }
    fn disarm(&self) {
        FaultyStore::disarm(self)
    }
}

pub struct FaultyStore {
    inner: Arc<dyn Store>,
    calls: AtomicU64,
    /// Calls of the methods that write, for the checks that a route only reads.
    writes: AtomicU64,
    /// The call number (1-based, counted since start) that fails; 0 = none.
    fail_at: AtomicU64,
    /// The next `complete_reset` commits in the store underneath and then reports `Unavailable`,
    /// as a reply lost after the commit (or a failure in what follows it) would.
    fail_after_reset: AtomicBool,
    /// Whether the failing call is first carried out (`fail_after_commit_in`).
    after_commit: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            fail_at: AtomicU64::new(0),
            fail_after_reset: AtomicBool::new(false),
            after_commit: AtomicBool::new(false),
        }
    }

    /// Let the next `complete_reset` commit, then fail it (docs/security.md F1, R4, R7).
    pub fn fail_after_next_reset(&self) {
        self.fail_after_reset.store(true, Ordering::SeqCst);
    }

    /// The store underneath, for checks that must not meet the fault.
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }

    /// Make the `k`-th call from now fail (k ≥ 1).
    pub fn fail_in(&self, k: u64) {
        self.fail_at
            .store(self.calls.load(Ordering::SeqCst) + k, Ordering::SeqCst);
    }

    pub fn disarm(&self) {
        self.fail_at.store(0, Ordering::SeqCst);
        self.after_commit.store(false, Ordering::SeqCst);
    }

    /// Whether the armed fault has fired (the call count passed it).
    pub fn fired(&self) -> bool {
        let at = self.fail_at.load(Ordering::SeqCst);
        at != 0 && self.calls.load(Ordering::SeqCst) >= at
    }

    /// How many writes were asked of the store so far (whether or not they changed anything).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Make the `k`-th call from now happen and then fail: the backend applied it but its answer
    /// was lost (a timeout after the commit), so the caller sees `Unavailable` for a done write.
    pub fn fail_after_commit_in(&self, k: u64) {
        self.after_commit.store(true, Ordering::SeqCst);
        self.fail_in(k);
    }

    /// One call: counted, failed before it reaches the store if it is the armed one, or after it
    /// (its effect kept) in the after-commit mode.
    async fn run<T>(
        &self,
        write: bool,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if write {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let hit = n == self.fail_at.load(Ordering::SeqCst);
        let fault = || StoreError::Unavailable("injected fault".into());
        if hit && !self.after_commit.load(Ordering::SeqCst) {
            return Err(fault());
        }
        let out = call.await;
        if hit {
            return Err(fault());
        }
        out
    }
}

#[async_trait::async_trait]
impl Store for FaultyStore {
    async fn create_user(&self, user: &UserRecord, session: Option<&SessionRecord>) -> Result<(), StoreError> {
        self.run(true, self.inner.create_user(user, session)).await
    }
    async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.run(false, self.inner.user_by_id(user_id)).await
    }
    async fn user_by_email(
        &self,
        organization_id: Option<&str>,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.run(false, self.inner.user_by_email(organization_id, email)).await
    }
    async fn members_with_email(&self, email: &str) -> Result<Vec<UserRecord>, StoreError> {
        self.run(false, self.inner.members_with_email(email)).await
    }
    async fn claim_login(
        &self,
        organization_id: Option<&str>,
        email: &str,
        now: DateTime<Utc>,
        settings: latch::config::LockoutSettings,
    ) -> Result<Option<(UserRecord, Option<latch::lockout::Ticket>)>, StoreError> {
        self.run(true, self.inner.claim_login(organization_id, email, now, settings))
            .await
    }
    async fn record_login(
        &self,
        user: &UserRecord,
        ticket: latch::lockout::Ticket,
        now: DateTime<Utc>,
        session: Option<SessionWrite<'_>>,
    ) -> Result<LoginRecorded, StoreError> {
        self.run(true, self.inner.record_login(user, ticket, now, session))
            .await
    }
    async fn update_user(&self, user_id: &str, change: UserChange) -> Result<Option<UserRecord>, StoreError> {
        self.run(true, self.inner.update_user(user_id, change)).await
    }
    async fn require_password_reset(&self, user_id: &str, hash: &str) -> Result<bool, StoreError> {
        self.run(true, self.inner.require_password_reset(user_id, hash)).await
    }
    async fn verify_email(&self, user_id: &str) -> Result<bool, StoreError> {
        self.run(true, self.inner.verify_email(user_id)).await
    }
    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        self.run(true, self.inner.delete_user(user_id)).await
    }
    async fn update_lock(
        &self,
        user_id: &str,
        change: LockChange,
    ) -> Result<Option<(LockState, LockState)>, StoreError> {
        self.run(true, self.inner.update_lock(user_id, change)).await
    }
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.run(true, self.inner.insert_session(session)).await
    }
    async fn session_by_id(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.run(false, self.inner.session_by_id(session_id)).await
    }
    async fn session_by_token_digest(&self, digest: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.run(false, self.inner.session_by_token_digest(digest)).await
    }
    async fn update_session(&self, session: &SessionRecord) -> Result<bool, StoreError> {
        self.run(true, self.inner.update_session(session)).await
    }
    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        self.run(true, self.inner.delete_session(session_id)).await
    }
    async fn session_context(&self, key: SessionKey<'_>) -> Result<Option<SessionContext>, StoreError> {
        self.run(false, self.inner.session_context(key)).await
    }
    async fn sessions_for_user(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>, StoreError> {
        self.run(false, self.inner.sessions_for_user(user_id, now)).await
    }
    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        self.run(true, self.inner.insert_tokens(tokens)).await
    }
    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.run(false, self.inner.token_by_digest(digest)).await
    }
    async fn update_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        self.run(true, self.inner.update_token(token)).await
    }
    async fn consume_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        self.run(true, self.inner.consume_token(token)).await
    }
    async fn complete_reset(&self, reset: &PasswordReset) -> Result<Option<UserRecord>, StoreError> {
        let done = self.run(true, self.inner.complete_reset(reset)).await?;
        if self.fail_after_reset.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected fault after the commit".into()));
        }
        Ok(done)
    }
    async fn hit_rate_limit(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError> {
        self.run(true, self.inner.hit_rate_limit(key, window_start)).await
    }
    async fn create_organization(&self, org: &OrganizationRecord) -> Result<(), StoreError> {
        self.run(true, self.inner.create_organization(org)).await
    }
    async fn organization_by_id(&self, organization_id: &str) -> Result<Option<OrganizationRecord>, StoreError> {
        self.run(false, self.inner.organization_by_id(organization_id)).await
    }
    async fn organization_by_slug(&self, slug: &str) -> Result<Option<OrganizationRecord>, StoreError> {
        self.run(false, self.inner.organization_by_slug(slug)).await
    }
    async fn update_organization(&self, org: &OrganizationRecord, previous_slug: &str) -> Result<bool, StoreError> {
        self.run(true, self.inner.update_organization(org, previous_slug)).await
    }
    async fn delete_organization(&self, organization_id: &str) -> Result<bool, StoreError> {
        self.run(true, self.inner.delete_organization(organization_id)).await
    }
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.run(false, self.inner.signing_keys()).await
    }
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        self.run(true, self.inner.insert_signing_key(key)).await
    }
    async fn replace_signing_key(&self, current: &SigningKeyRecord, new: &SigningKeyRecord) -> Result<(), StoreError> {
        self.run(true, self.inner.replace_signing_key(current, new)).await
    }
}
