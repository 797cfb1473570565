#!/usr/bin/env bash
# The whole test suite:
#   1. cargo test: unit tests and the black-box HTTP suites on the embedded store (SQLite);
#   2. the same black-box suite (store conformance included) on DynamoDB + SES, against moto's
#      server started here on loopback;
#   3. the official Stytch SDKs (Python and Node) against `latch serve`: on SQLite with the outbox,
#      and on DynamoDB with SES.
# Installs what it needs: moto into .venv-moto/, the SDKs into .venv-sdk/ and
# tests/sdk/node/node_modules. Honours CARGO_TARGET_DIR. With CI=true a missing emulator fails
# the run; elsewhere the DynamoDB stages are skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
trap stop_emulator EXIT

echo "== cargo test (unit + black-box HTTP on SQLite)"
cargo test --workspace --no-fail-fast
cargo build -p latch-cli
latch="$target_dir/debug/latch"

echo "== official SDKs against latch serve (SQLite)"
scripts/sdk-tests.sh "$latch"

echo "== DynamoDB + SES emulator"
if ! start_emulator; then
  if [ "${CI:-}" = "true" ]; then
    echo "the DynamoDB/SES emulator could not be started, and CI=true: failing" >&2
    exit 1
  fi
  echo "WARNING: no emulator; the DynamoDB and SES stages are skipped" >&2
  exit 0
fi

echo "== black-box HTTP on DynamoDB + SES (moto)"
LATCH_TEST_BACKEND=dynamodb cargo test -p latch-tests --test api

echo "== official SDKs against latch serve (DynamoDB + SES)"
# A fresh emulator: moto keeps (and serialises into the data.json the suites read mail from)
# everything the previous stage made, which slows it to seconds per read.
stop_emulator
start_emulator
table="latch-sdk-$$"
LATCH_TABLE="$table" "$latch" create-table
LATCH_STORE=dynamodb LATCH_TABLE="$table" LATCH_MAILER=ses LATCH_SES_FROM="$SES_SENDER" scripts/sdk-tests.sh "$latch"
