#!/usr/bin/env bash
# The whole test suite:
#   1. cargo test: unit tests and the black-box HTTP suites on the embedded store (SQLite);
#   2. the same black-box suite (store conformance included) on DynamoDB + SES, against moto's
#      server started here on loopback;
#   3. the official Stytch SDKs (Python and Node) against `latch serve`: on SQLite with the outbox,
#      and on DynamoDB with SES and the credentials in Secrets Manager;
#   3a. the deploy pipeline's smoke test (scripts/smoke-test-check.sh): passes against `latch serve`,
#      fails against a server that refuses logins or forges JWTs;
#   3a'. the frontend SDK (scripts/browser-tests.sh): headless Chromium drives the official
#      @stytch/vanilla-js bundles through examples/ against latch serve on https://localhost
#      (needs root for port 443; installs chromium-headless-shell with apt-get if missing); it runs
#      in the background beside the stages below;
#   3b. schema fuzzing (scripts/schema-fuzz.sh): docs/openapi.json validated, then schemathesis
#      against `latch serve`, bounded in examples and time;
#   4. the Lambda side (scripts/lambda-checks.sh): the SAM template linted, every function built
#      for arm64, and the functions driven through the Lambda runtime interface (cargo lambda watch);
#   5. latch-argon2's tests on aarch64 under qemu-aarch64 (scripts/arm64-tests.sh): the NEON
#      backend held to the argon2 crate and RFC 9106 (installs qemu-user and the aarch64 cross
#      linker with apt-get if missing); it runs in the background from the start.
# Installs what it needs: moto into .venv-moto/, the SDKs into .venv-sdk/ and
# tests/sdk/node/node_modules, playwright-core and @stytch/vanilla-js into tests/browser/node_modules, schemathesis into .venv-fuzz/, SAM CLI, cfn-lint and cargo-lambda
# into .venv-lambda/.
# Honours CARGO_TARGET_DIR. With CI=true a missing emulator fails
# the run; elsewhere the DynamoDB stages are skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
LAMBDA_BUILD_PID=""
BROWSER_PID=""
ARM64_PID=""
# join_background PID LOG TITLE: wait for a stage started in the background, then print TITLE and
# its log; returns its exit status.
join_background() {
  local rc=0
  wait "$1" || rc=$?
  echo "== $3"
  cat "$2"
  return "$rc"
}
stop_background() {
  local pid
  for pid in "$LAMBDA_BUILD_PID" "$BROWSER_PID" "$ARM64_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null || true
    fi
  done
}
trap 'stop_emulator; stop_background' EXIT

# The slowest stage, the arm64 release build of every Lambda function (with the template lints),
# runs in the background from the start: it fills the time the stages below spend in a single
# rustc or waiting on servers. It is joined before the Lambda runtime check at the end, and its
# log is printed then.
LAMBDA_BUILD_LOG="$(mktemp "${TMPDIR:-/tmp}/latch-lambda-build.XXXXXX")"
# In its own process group (setsid), so that stopping it early stops its cargo and rustc too.
setsid scripts/lambda-checks.sh build >"$LAMBDA_BUILD_LOG" 2>&1 &
LAMBDA_BUILD_PID=$!
join_lambda_build() {
  join_background "$LAMBDA_BUILD_PID" "$LAMBDA_BUILD_LOG" "Lambda: template lint and arm64 builds (ran in the background)"
}

# latch-argon2's tests for aarch64 under qemu: independent of every other stage (a debug build of
# one small crate for aarch64, then the test binaries emulated), so it too runs in the background
# from the start, in its own process group, and is joined at the end.
ARM64_LOG="$(mktemp "${TMPDIR:-/tmp}/latch-arm64-tests.XXXXXX")"
setsid scripts/arm64-tests.sh >"$ARM64_LOG" 2>&1 &
ARM64_PID=$!
join_arm64_tests() {
  join_background "$ARM64_PID" "$ARM64_LOG" "latch-argon2 on aarch64 under qemu: the NEON backend (ran in the background)"
}

echo "== cargo test (unit + black-box HTTP on SQLite)"
# latch-functions holds no tests: its 36 binaries are built for the Lambda checks at the end
# (debug, for `cargo lambda watch`) and for arm64, not a third time as test harnesses here.
cargo test --workspace --exclude latch-functions --no-fail-fast
# The CLI and the functions (for the watch check at the end) in one invocation: cargo unifies
# dependency features per invocation, so building them apart rebuilt the AWS SDK graph twice.
# lambda-checks.sh `watch` asks for the same pair, which is then already built. The functions get
# the embedded store there (the watch check runs them on it); deployed builds leave it out.
cargo build -p latch-cli -p latch-functions --features latch-functions/embedded-store
latch="$target_dir/debug/latch"

# The browser suite runs beside the stages below (it needs 127.0.0.1:443, 8080 and 8081, which
# nothing else here uses), in its own process group so that stopping it stops its servers too.
BROWSER_LOG="$(mktemp "${TMPDIR:-/tmp}/latch-browser-tests.XXXXXX")"
setsid scripts/browser-tests.sh "$latch" >"$BROWSER_LOG" 2>&1 &
BROWSER_PID=$!
join_browser_tests() {
  join_background "$BROWSER_PID" "$BROWSER_LOG" "frontend SDK in headless Chromium (ran in the background)"
}

echo "== official SDKs against latch serve (SQLite)"
scripts/sdk-tests.sh "$latch"

echo "== the pipeline's smoke test (scripts/smoke-test) against latch serve, and against a wrong server"
scripts/smoke-test-check.sh "$latch"

echo "== schema fuzzing: schemathesis against latch serve (SQLite)"
scripts/schema-fuzz.sh "$latch"

echo "== DynamoDB + SES emulator"
if ! start_emulator; then
  if [ "${CI:-}" = "true" ]; then
    echo "the DynamoDB/SES emulator could not be started, and CI=true: failing" >&2
    exit 1
  fi
  echo "WARNING: no emulator; the DynamoDB and SES stages are skipped" >&2
  join_browser_tests
  join_arm64_tests
  join_lambda_build
  scripts/lambda-checks.sh watch "$latch"
  exit 0
fi

echo "== black-box HTTP on DynamoDB + SES (moto)"
LATCH_TEST_BACKEND=dynamodb cargo test -p latch-tests --test api

echo "== official SDKs against latch serve (DynamoDB + SES, credentials in Secrets Manager)"
# A fresh emulator: moto keeps (and serialises into the data.json the suites read mail from)
# everything the previous stage made, which slows it to seconds per read.
stop_emulator
start_emulator
table="latch-sdk-$$"
LATCH_TABLE="$table" "$latch" create-table
sdk_project="project-test-33333333-3333-4333-8333-333333333333"
sdk_secret="secret-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
# In a subshell: the secret ARNs create_secrets exports are for this stage only.
(
  create_secrets "$sdk_project" "$sdk_secret"
  SDK_PROJECT_ID="$sdk_project" SDK_SECRET="$sdk_secret" \
    LATCH_STORE=dynamodb LATCH_TABLE="$table" LATCH_MAILER=ses LATCH_SES_FROM="$SES_SENDER" scripts/sdk-tests.sh "$latch"
)
stop_emulator

join_browser_tests
join_arm64_tests
join_lambda_build
echo "== Lambda: the functions through the runtime interface (cargo lambda watch)"
scripts/lambda-checks.sh watch "$latch"
