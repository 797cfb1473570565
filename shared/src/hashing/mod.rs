//! Password hashing: argon2id PHC strings for every password Latch sets, verifiers for the kinds
//! migrate imports (`stored`, `imported`, `phpass`, their cost bounds in `budget`), all computed
//! on the blocking pool with bounded concurrency so memory stays at `memory × concurrency` and the
//! async threads stay free.
//!
//! Two sets of permits: argon2 at the configured cost (every hash Latch makes, every login of an
//! upgraded or new account, the unknown-email dummy) runs under `permits`; every imported hash
//! (each may cost up to the budget, ≈ bcrypt 13) runs under `imported_permits`, and waits there
//! without holding an argon2 permit. Costly imported hashes can then take at most
//! `imported_concurrency` threads, never all of argon2's (docs/security.md H7). Those threads are
//! their own (not the blocking pool's) and run at a lower priority ([`IMPORTED_NICE`]), so on a
//! machine with few cores the argon2 logins also keep most of the CPU they share.

pub mod budget;
pub mod imported;
pub mod phpass;
pub mod stored;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::{Algorithm, Block, Params, Version};
use rand::RngCore as _;
use tokio::sync::{OnceCell, Semaphore};

use crate::config::HashSettings;
use crate::domain::Password;
use crate::error::Error;
use stored::{Argon2Cost, StoredHash};

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Mismatch,
    /// The password matches. `upgrade` is a fresh argon2id hash of it to store instead, when the
    /// stored one is an imported kind or argon2 below the configured parameters.
    Match {
        upgrade: Option<String>,
    },
}

impl Verified {
    pub fn matched(&self) -> bool {
        matches!(self, Verified::Match { .. })
    }
}

pub struct Hasher {
    params: Params,
    permits: Semaphore,
    /// Argon2 work admitted (running or waiting for a permit), and how much may be: past
    /// `capacity` a request is refused at once (`Error::overloaded`), not queued without bound.
    admitted: AtomicUsize,
    capacity: usize,
    /// For imported hashes only (see the module docs).
    imported_permits: Semaphore,
    imported_pool: ImportedPool,
    /// Argon2 working memory, one buffer per permit, reused from hash to hash: allocating and
    /// faulting in `memory_kib` afresh for every hash costs a large part of the hash itself
    /// (docs/reference/performance-facts.md). Memory stays at `memory_kib × concurrency`.
    buffers: std::sync::Mutex<Vec<Vec<Block>>>,
    /// A hash of a random password, verified against when the email is unknown so that path
    /// costs the same as a wrong password (docs/security.md E1).
    dummy: OnceCell<String>,
    verifications: AtomicU64,
    /// Tests hold this to stop imported verifications where they start (after their permit).
    #[cfg(test)]
    imported_gate: std::sync::Arc<std::sync::RwLock<()>>,
}

impl Hasher {
    pub fn new(settings: HashSettings) -> Result<Arc<Self>, argon2::Error> {
        let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)?;
        Ok(Arc::new(Self {
            params,
            permits: Semaphore::new(settings.concurrency),
            admitted: AtomicUsize::new(0),
            capacity: settings.concurrency + settings.queue,
            imported_permits: Semaphore::new(settings.imported_concurrency),
            imported_pool: ImportedPool::new(settings.imported_concurrency),
            buffers: std::sync::Mutex::new(Vec::new()),
            dummy: OnceCell::new(),
            verifications: AtomicU64::new(0),
            #[cfg(test)]
            imported_gate: Default::default(),
        }))
    }

    /// A new argon2id PHC string of `password` with a random 16-byte salt, computed in `memory`.
    fn hash_now(&self, password: &str, memory: &mut Vec<Block>) -> Result<String, Error> {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let cost = Argon2Cost {
            algorithm: Algorithm::Argon2id,
            version: Version::V0x13,
            memory_kib: self.params.m_cost(),
            iterations: self.params.t_cost(),
            parallelism: self.params.p_cost(),
        };
        let mut hash = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
        stored::argon2_into(&cost, password.as_bytes(), &salt, &mut hash, memory).map_err(Error::internal)?;
        Ok(StoredHash::Argon2 {
            cost,
            salt: salt.to_vec(),
            hash,
        }
        .encode())
    }

    /// A new argon2id PHC string with a random 16-byte salt.
    pub async fn hash(self: &Arc<Self>, password: &Password) -> Result<String, Error> {
        let room = self.reserve()?;
        self.hash_in(&room, password).await
    }

    /// `hash` in room already reserved.
    async fn hash_in(self: &Arc<Self>, room: &HashRoom, password: &Password) -> Result<String, Error> {
        let password = password.clone();
        let this = self.clone();
        self.blocking(room, move |memory| this.hash_now(password.expose(), memory))
            .await?
    }

    /// Check `password` against a stored hash of any kind Latch keeps. Parameters come from the
    /// stored string, so hashes made with older settings still verify. A hash that does not
    /// parse, or any verifier error, is a mismatch: fail closed (docs/security.md H6).
    ///
    /// A match on anything but a current argon2id hash carries the argon2id hash to store
    /// instead. A mismatch on an imported kind (or a corrupt hash) is padded with one argon2
    /// hash, so it costs at least what a wrong password or an unknown email costs (E1).
    pub async fn verify(self: &Arc<Self>, password: &Password, stored: &str) -> Result<Verified, Error> {
        let room = self.reserve()?;
        self.verify_in(&room, password, stored).await
    }

    /// `verify` in room already reserved: never refused for want of room.
    pub async fn verify_in(
        self: &Arc<Self>,
        room: &HashRoom,
        password: &Password,
        stored: &str,
    ) -> Result<Verified, Error> {
        let password = password.clone();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let parsed = StoredHash::parse(stored);
        if parsed.is_none() {
            tracing::warn!("stored password hash does not parse; refusing");
        }
        let matched = match &parsed {
            Some(hash) if !self.runs_with_argon2(hash) => {
                // On the imported permits; only the argon2 hash that follows (padding or upgrade)
                // takes one of argon2's, after the imported permit is released.
                let (this, hash, pw) = (self.clone(), hash.clone(), password.clone());
                Some(self.imported(move || this.verify_imported(&hash, pw.expose())).await?)
            }
            _ => None,
        };
        let this = self.clone();
        self.blocking(room, move |memory| {
            let password = password.expose();
            let matched = matched.unwrap_or_else(|| {
                parsed
                    .as_ref()
                    .is_some_and(|h| h.verify_in(password.as_bytes(), memory))
            });
            let argon2 = parsed.as_ref().is_some_and(StoredHash::is_argon2);
            if !matched {
                if !argon2 {
                    this.hash_now(password, memory)?;
                }
                return Ok(Verified::Mismatch);
            }
            let current = parsed.as_ref().is_some_and(|h| h.is_current(&this.params));
            let upgrade = if current {
                None
            } else {
                Some(this.hash_now(password, memory)?)
            };
            Ok(Verified::Match { upgrade })
        })
        .await?
    }

    /// Whether `hash` verifies under argon2's permits: an argon2 hash no costlier than the
    /// configured one, in memory and in memory × iterations (lanes add no work). Anything else
    /// is an imported hash, verified under the imported permits.
    fn runs_with_argon2(&self, hash: &StoredHash) -> bool {
        match hash {
            StoredHash::Argon2 { cost, .. } => {
                let memory = u64::from(cost.memory_kib);
                let configured = u64::from(self.params.m_cost());
                memory <= configured
                    && memory * u64::from(cost.iterations) <= configured * u64::from(self.params.t_cost())
            }
            _ => false,
        }
    }

    /// One imported hash's check, in its own memory (argon2 hashes costlier than the configured
    /// ones do not grow the reused buffers).
    fn verify_imported(&self, hash: &StoredHash, password: &str) -> bool {
        #[cfg(test)]
        let _gate = self.imported_gate.read();
        hash.verify_in(password.as_bytes(), &mut Vec::new())
    }

    /// Run `work` on an imported-hash thread under an imported permit.
    async fn imported<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let _permit = self.imported_permits.acquire().await.map_err(Error::internal)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let work = crate::blocking::in_current_span(work);
        self.imported_pool.run(Box::new(move || {
            let _ = tx.send(work());
        }))?;
        rx.await
            .map_err(|e| Error::internal(format!("an imported-hash verification panicked: {e}")))
    }

    /// Spend the same work as a verify without any account, then report a mismatch; in room
    /// already reserved (the first call also makes the dummy hash in it).
    pub async fn dummy_verify_in(self: &Arc<Self>, room: &HashRoom, password: &Password) -> Result<(), Error> {
        let this = self.clone();
        let dummy = self
            .dummy
            .get_or_try_init(|| async move {
                let random = Password::parse(crate::sessions::tokens::random_token(16)).expect("short");
                this.hash_in(room, &random).await
            })
            .await?
            .clone();
        self.verify_in(room, password, &dummy).await.map(|_| ())
    }

    /// How many verifications ran (real and dummy): lets tests prove equal work (E1, L2).
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Room for one request's argon2 work, or `Error::overloaded` at once when `capacity`
    /// requests already hold some. A login reserves before it claims an attempt, so a full queue
    /// never counts toward a lockout and a claimed attempt is never refused its hash.
    pub fn reserve(self: &Arc<Self>) -> Result<HashRoom, Error> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .map_err(|_| Error::overloaded())?;
        Ok(HashRoom(self.clone()))
    }

    /// Run `work` on the blocking pool under a permit, with a reused argon2 buffer, in `room`
    /// (whose holder may run its hashes one after another in it).
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        room: &HashRoom,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        debug_assert!(Arc::ptr_eq(&room.0, self), "room reserved on another hasher");
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        let this = self.clone();
        crate::blocking::spawn(move || {
            let mut memory = this
                .buffers
                .lock()
                .map(|mut b| b.pop())
                .unwrap_or_default()
                .unwrap_or_default();
            let result = work(&mut memory);
            // An imported hash may have needed more than the configured memory: not kept.
            let keep = this.params.block_count();
            if memory.len() > keep {
                memory.truncate(keep);
                memory.shrink_to_fit();
            }
            if let Ok(mut buffers) = this.buffers.lock() {
                buffers.push(memory);
            }
            result
        })
        .await
        .map_err(Error::internal)
    }
}

/// The nice value of the imported-hash threads (Linux): with argon2 threads at 0 on the same
/// core, the scheduler gives them about a tenth of it (weights 110 and 1024), and all of an idle
/// one. Raising a thread's nice needs no privilege.
pub const IMPORTED_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// One request's room under `Hasher::capacity` (`Hasher::reserve`), given back when dropped,
/// also when the request is cancelled while it waits.
pub struct HashRoom(Arc<Hasher>);

impl Drop for HashRoom {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `threads` OS threads taking jobs from one queue; they end when the pool is dropped.
struct ImportedPool {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl ImportedPool {
    fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("latch-imported-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A panicking verifier fails that verification (its caller sees the
                        // channel closed), not the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start an imported-hash thread");
            }
        }
        Self { jobs }
    }

    fn run(&self, job: Job) -> Result<(), Error> {
        self.jobs
            .send(job)
            .map_err(|e| Error::internal(format!("the imported-hash threads are gone: {e}")))
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // Linux keeps the nice value per thread; `who` is this thread's id. Failing leaves the
    // thread at its priority.
    // SAFETY: gettid and setpriority take no pointers and touch no memory of ours.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, IMPORTED_NICE) };
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
    use argon2::Argon2;

    fn hasher() -> Arc<Hasher> {
        hasher_with(2, 16)
    }

    /// A hasher at the default cost with this many hashes running and waiting at most.
    fn hasher_with(concurrency: usize, queue: usize) -> Arc<Hasher> {
        Hasher::new(HashSettings {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            concurrency,
            imported_concurrency: 1,
            queue,
        })
        .unwrap()
    }

    fn pw(s: &str) -> Password {
        Password::parse(s.to_string()).unwrap()
    }

    /// A full queue refuses at once (503 with Retry-After, see `api::error`) instead of waiting,
    /// and gives its room back: one hash running and one waiting fill a queue of one, so a third
    /// started with them is refused; afterwards there is room again.
    #[tokio::test]
    async fn a_full_hashing_queue_refuses_at_once_and_recovers() {
        let hasher = hasher_with(1, 1);
        let p = pw("queue-test-password");
        // `join!` polls each once before any can finish: the first takes the permit, the second
        // waits for it, the third finds no room.
        let (a, b, c) = tokio::join!(hasher.hash(&p), hasher.hash(&p), hasher.hash(&p));
        assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
        let refused = c.unwrap_err();
        assert_eq!(refused, Error::overloaded());
        assert!(hasher.hash(&p).await.is_ok());
    }

    /// Room reserved before a login claims its attempt is room its hashes get: with all room
    /// taken by this request, others are refused, and its own verify (and the dummy, made in it
    /// the first time) still runs.
    #[tokio::test]
    async fn reserved_room_is_never_refused_its_hashes() {
        let hasher = hasher_with(1, 0);
        let p = pw("reserved-room-password");
        let stored = hasher.hash(&p).await.unwrap();
        let room = hasher.reserve().unwrap();
        assert_eq!(hasher.reserve().err(), Some(Error::overloaded()));
        assert_eq!(hasher.verify(&p, &stored).await.unwrap_err(), Error::overloaded());
        assert!(hasher.verify_in(&room, &p, &stored).await.unwrap().matched());
        hasher.dummy_verify_in(&room, &p).await.unwrap();
        drop(room);
        assert!(hasher.reserve().is_ok());
    }

    #[tokio::test]
    async fn argon2id_with_configured_params_and_distinct_salts() {
        // H1
        let h = hasher();
        let a = h.hash(&pw("same password")).await.unwrap();
        let b = h.hash(&pw("same password")).await.unwrap();
        assert_ne!(a, b);
        let parsed = PasswordHash::new(&a).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.params.get_decimal("m"), Some(19_456));
        assert_eq!(parsed.params.get_decimal("t"), Some(2));
        assert_eq!(parsed.params.get_decimal("p"), Some(1));
        assert_eq!(parsed.salt.unwrap().decode_b64(&mut [0u8; 64]).unwrap().len(), 16);
        assert_eq!(
            h.verify(&pw("same password"), &a).await.unwrap(),
            Verified::Match { upgrade: None }
        );
        assert_eq!(h.verify(&pw("other password"), &a).await.unwrap(), Verified::Mismatch);
    }

    #[tokio::test]
    async fn no_truncation_after_72_bytes() {
        // H5: bcrypt would ignore the tail; argon2 must not.
        let h = hasher();
        let prefix = "x".repeat(72);
        let stored = h.hash(&pw(&format!("{prefix}tail-one"))).await.unwrap();
        assert!(!h
            .verify(&pw(&format!("{prefix}tail-two")), &stored)
            .await
            .unwrap()
            .matched());
    }

    #[tokio::test]
    async fn corrupt_hashes_fail_closed() {
        // H6
        let h = hasher();
        for bad in [
            "",
            "garbage",
            "$argon2id$v=19$m=19456,t=2,p=1$AAAA",
            "$2b$10$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert_eq!(
                h.verify(&pw("anything"), bad).await.unwrap(),
                Verified::Mismatch,
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn a_match_on_anything_but_current_argon2id_carries_an_upgrade() {
        // H3: imported kinds and weaker argon2 are rehashed with the configured parameters.
        let h = hasher();
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8_192, 1, 1, None).unwrap(),
        )
        .hash_password(b"old password", &SaltString::generate(&mut rand::rngs::OsRng))
        .unwrap()
        .to_string();
        let md5 = "$salted-md5$$$".to_string() + &hex::encode(<md5::Md5 as md5::Digest>::digest(b"old password"));
        for stored in [weak, md5, bcrypt::hash("old password", 4).unwrap()] {
            let Verified::Match { upgrade: Some(new) } = h.verify(&pw("old password"), &stored).await.unwrap() else {
                panic!("{stored} should match and be upgraded");
            };
            let parsed = StoredHash::parse(&new).unwrap();
            assert!(parsed.is_current(&h.params), "{new}");
            assert_eq!(
                h.verify(&pw("old password"), &new).await.unwrap(),
                Verified::Match { upgrade: None }
            );
            assert_eq!(
                h.verify(&pw("old passworD"), &stored).await.unwrap(),
                Verified::Mismatch
            );
        }
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crate_and_buffers_stay_bounded() {
        let h = hasher();
        let ours = h.hash(&pw("interop")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"interop", &parsed).is_ok());
        let theirs = Argon2::default()
            .hash_password(b"interop", &SaltString::generate(&mut rand::rngs::OsRng))
            .unwrap()
            .to_string();
        assert!(h.verify(&pw("interop"), &theirs).await.unwrap().matched());
        // A bigger imported hash borrows more memory for its verification only.
        let big = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(65_536, 1, 1, None).unwrap(),
        )
        .hash_password(b"interop", &SaltString::generate(&mut rand::rngs::OsRng))
        .unwrap()
        .to_string();
        assert!(h.verify(&pw("interop"), &big).await.unwrap().matched());
        let buffers = h.buffers.lock().unwrap();
        assert!(!buffers.is_empty() && buffers.len() <= 2, "one buffer per permit");
        assert!(buffers.iter().all(|b| b.len() <= h.params.block_count()));
    }

    #[tokio::test]
    async fn dummy_verify_counts_as_one_verification() {
        let h = hasher();
        let before = h.verification_count();
        h.dummy_verify_in(&h.reserve().unwrap(), &pw("whatever")).await.unwrap();
        assert_eq!(h.verification_count(), before + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    // Holding the gate across the awaits is the point; the test's own future never moves
    // between threads (it is the runtime's `block_on`), and the verifications it waits for never
    // take the lock but on the imported threads.
    #[allow(clippy::await_holding_lock)]
    async fn h7_blocked_imported_verifies_hold_no_argon2_permit_and_argon2_logins_complete() {
        // SECURITY H7, without timing: imported verifications are stopped at a gate until the
        // imported pool is full and more wait for it; argon2 logins (and the unknown-email dummy,
        // E1) still complete, and the waiting imported ones hold none of argon2's permits.
        let h = hasher();
        let normal = h.hash(&pw("normal login")).await.unwrap();
        let imported = bcrypt::hash("old password", 4).unwrap();
        let closed = h.imported_gate.write().unwrap();
        let waiting: Vec<_> = (0..6)
            .map(|_| {
                let (h, imported) = (h.clone(), imported.clone());
                tokio::spawn(async move { h.verify(&pw("wrong password"), &imported).await })
            })
            .collect();
        let full = async {
            while h.imported_permits.available_permits() > 0 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), full)
            .await
            .expect("the imported verifications take the imported permits");
        assert_eq!(
            h.permits.available_permits(),
            2,
            "imported verifications hold no argon2 permit"
        );
        let free = async {
            assert_eq!(
                h.verify(&pw("normal login"), &normal).await.unwrap(),
                Verified::Match { upgrade: None }
            );
            assert_eq!(h.verify(&pw("wrong login"), &normal).await.unwrap(), Verified::Mismatch);
            h.dummy_verify_in(&h.reserve().unwrap(), &pw("unknown email"))
                .await
                .unwrap();
        };
        // Not a measurement: a bound on a hang, so a broken pool fails instead of blocking.
        tokio::time::timeout(std::time::Duration::from_secs(60), free)
            .await
            .expect("argon2 verifications do not wait for imported ones");
        assert!(
            waiting.iter().all(|w| !w.is_finished()),
            "the gate holds the imported ones"
        );
        drop(closed);
        for w in waiting {
            assert_eq!(w.await.unwrap().unwrap(), Verified::Mismatch);
        }
        assert!(h.verify(&pw("old password"), &imported).await.unwrap().matched());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn h7_imported_verifications_run_on_their_own_lower_priority_threads() {
        let h = hasher();
        let (name, nice) = h
            .imported(|| {
                // SAFETY: gettid and getpriority take no pointers and touch no memory of ours.
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
                (std::thread::current().name().map(str::to_string), nice)
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("latch-imported-0"));
        assert_eq!(nice, IMPORTED_NICE);
    }

    #[test]
    fn h7_only_argon2_no_costlier_than_configured_runs_on_argon2s_permits() {
        let h = hasher();
        let argon = |memory_kib, iterations, parallelism| StoredHash::Argon2 {
            cost: Argon2Cost {
                algorithm: Algorithm::Argon2id,
                version: Version::V0x13,
                memory_kib,
                iterations,
                parallelism,
            },
            salt: vec![0; 16],
            hash: vec![0; 32],
        };
        assert!(h.runs_with_argon2(&argon(19_456, 2, 1)));
        assert!(h.runs_with_argon2(&argon(8_192, 4, 4)));
        assert!(!h.runs_with_argon2(&argon(19_457, 1, 1)));
        assert!(!h.runs_with_argon2(&argon(19_456, 3, 1)));
        assert!(!h.runs_with_argon2(&argon(131_072, 7, 1)));
        let bcrypt = StoredHash::parse(&bcrypt::hash("x", 4).unwrap()).unwrap();
        assert!(!h.runs_with_argon2(&bcrypt));
        let md5 = StoredHash::parse(&format!("$salted-md5$$${}", "0".repeat(32))).unwrap();
        assert!(!h.runs_with_argon2(&md5));
    }
}
