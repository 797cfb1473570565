//! How often and for how long one AWS call (DynamoDB, SES, Secrets Manager) is tried: one policy
//! for every client Latch builds, so that a failing dependency is answered with a 503 well inside
//! the function's timeout (`Timeout` in infra/template.yaml; API Gateway gives up at 29 s).
//!
//! The SDK's standard retry mode does the retrying. It retries what did not happen or may be
//! repeated: throttling (`ProvisionedThroughputExceededException`, `ThrottlingException`,
//! `TooManyRequestsException`…), 5xx answers, timeouts and broken connections; it never retries a
//! refused condition or a validation error. What that means for each write, and why a retry cannot
//! create two users or spend a token twice, is in docs/dynamodb.md, "Faults and retries".

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};

/// Tries and time limits for one AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsCallPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first wait before a retry; each later wait doubles it, with full jitter, up to
    /// `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// To open a connection (the SDK's default is 3.1 s).
    pub connect_timeout: Duration,
    /// One attempt, from sending to the whole answer.
    pub attempt_timeout: Duration,
    /// The whole call, every attempt and wait included: no call takes longer.
    pub operation_timeout: Duration,
}

impl AwsCallPolicy {
    /// What Latch runs with. DynamoDB and SES answer in milliseconds, so an attempt still silent
    /// after 3 s has failed; three attempts with waits of tens of milliseconds, all inside 7 s,
    /// leave the 10 s function time to answer the 503. The SDK's own defaults wait 1 s, then up to
    /// 20 s, between attempts and bound neither an attempt nor the call.
    pub const DEPLOYED: Self = Self {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_secs(3),
        operation_timeout: Duration::from_secs(7),
    };

    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }

    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    /// The standard configuration chain (environment, profile, instance role; `AWS_ENDPOINT_URL`
    /// for an emulator) with this policy.
    pub fn loader(&self) -> ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            .retry_config(self.retry_config())
            .timeout_config(self.timeout_config())
    }
}

/// The Lambda functions' timeout in seconds, as infra/template.yaml sets it (a test reads the
/// template and checks the two agree).
pub const FUNCTION_TIMEOUT_SECONDS: u64 = 10;

// One call, all its attempts and waits, ends with time left to answer before the function is
// stopped.
const _: () = assert!(AwsCallPolicy::DEPLOYED.operation_timeout.as_secs() + 3 <= FUNCTION_TIMEOUT_SECONDS);
// Every attempt the policy allows fits in the call's time when the service answers at once.
const _: () =
    assert!(AwsCallPolicy::DEPLOYED.attempt_timeout.as_secs() < AwsCallPolicy::DEPLOYED.operation_timeout.as_secs());
