//! Everything one run measured, as written to `results.json` and rendered into `RESULTS.md`.

use serde::Serialize;

use crate::argon::ArgonResults;
use crate::hot_path::HotPathResults;
use crate::imported::ImportedResults;
use crate::lambda::LambdaResults;
use crate::login::LoginResults;
use crate::machine::Machine;
use crate::neon::NeonEquality;
use crate::ramp::RampResults;
use crate::reset_timing::ResetTiming;
use crate::roundtrips::RoundTrips;
use crate::soak::SoakResults;
use crate::strength::StrengthResults;

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// UTC, RFC 3339.
    pub generated_at: String,
    pub command: String,
    pub machine: Machine,
    pub argon2: ArgonResults,
    pub strength: Option<StrengthResults>,
    pub login: Option<LoginResults>,
    /// Reset start, known against unknown addresses.
    pub reset_timing: Option<ResetTiming>,
    /// The Lambda functions: binary sizes, cold starts, idle memory.
    pub lambda: Option<LambdaResults>,
    /// Store round trips per flow on DynamoDB (moto).
    pub roundtrips: Option<RoundTrips>,
    /// Imported hashes: every kind's accepted maximum, and argon2 logins beside costly ones.
    pub imported: Option<ImportedResults>,
    /// The session hot path: sessions/authenticate against a trivial route (issue 20).
    pub hot_path: Option<HotPathResults>,
    /// The soak: mixed load for a fixed time, errors and the server's memory (issue 23).
    pub soak: Option<SoakResults>,
    /// The concurrency ramp: where logins are answered 503 by the bounded hashing queue (issue 23).
    pub ramp: Option<RampResults>,
    /// latch-argon2's tests on aarch64 (the NEON backend), from scripts/arm64-tests.sh's log.
    pub neon: Option<NeonEquality>,
    /// Why a section is missing or partial.
    pub notes: Vec<String>,
}

/// The targets, one place.
pub mod targets {
    /// Latch's hasher ÷ the fastest argon2 measured, at most.
    pub const HASHER_RATIO: f64 = 1.10;
    pub const STRENGTH_MEDIAN_MS: f64 = 0.2;
    pub const STRENGTH_P99_MS: f64 = 5.0;
    pub const STRENGTH_WORST_MS: f64 = 50.0;
    /// Login throughput ÷ the side-by-side hashing ceiling (the bare engine on every core at once,
    /// section 1), at least, at concurrency ≥ cores. It replaces issue 9's 0.90 × (cores ÷ one
    /// verify), which no server reaches on a machine whose cores do not hash at full speed side by
    /// side (issue 20).
    pub const CEILING_RATIO: f64 = 0.95;
    /// Login p50 ÷ one verify, at most, where no request has to queue (concurrency ≤ cores).
    pub const P50_RATIO: f64 = 1.10;
    /// The largest arm64 function binary, in MB (10^6 bytes), at most.
    pub const ARM64_BINARY_MB: f64 = 10.0;
    /// Spawn → first answer of a function through a local runtime emulator, in ms, at most.
    pub const COLD_START_MS: f64 = 50.0;
    /// An imported kind's accepted maximum ÷ bcrypt 13 (the budget, docs/migration.md), both
    /// measured here, at most: the cost model's estimate may be off by this much.
    pub const IMPORTED_MAX_RATIO: f64 = 1.25;
    /// Normal login p50 beside 8 parallel wrong logins at costly imported hashes ÷ alone, at
    /// most: the imported verifications (one at a time by default) run on threads of lower
    /// priority, so the argon2 logins keep their CPU even on a machine with two cores.
    pub const IMPORTED_ISOLATION_P50_RATIO: f64 = 1.25;
}
