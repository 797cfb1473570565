#!/usr/bin/env bash
# Run the official-SDK suites (tests/sdk/python with PyPI `stytch`, tests/sdk/node with npm
# `stytch`) against a real `latch serve` on loopback, with the HIBP range API replaced by
# the HIBP stub (tests/src/bin/hibp-stub.rs, started through scripts/lib.sh).
#
#   scripts/sdk-tests.sh [path/to/latch]        (default: target/debug/latch)
#
# Environment knobs:
#   SDK_SUITES=python,node   which suites to run (default both)
#   SDK_PYTEST_ARGS="..."    extra pytest arguments (e.g. "-k revoke -x")
#   SDK_NODE_TESTS="..."     Node test files, relative to tests/sdk/node
#                            (default "test/sdk.test.js test/b2b.test.js test/migrate.test.js")
#   SDK_KEEP_TMP=1           keep the temp dir (data dir, server and stub logs)
#   LATCH_MAILER=ses         Latch sends mail through SES (with LATCH_SES_FROM and AWS_*; `latch
#                            serve` inherits them). AWS_ENDPOINT_URL must then be a moto server:
#                            the suites read the mail back from its /moto-api/latch/ses.json
#                            (LATCH_MAIL_SOURCE=ses) instead of the outbox directory.
#   LATCH_PROJECT_SECRET_ARN and LATCH_TOKEN_PEPPER_ARN
#                            `latch serve` reads the credentials from Secrets Manager (the
#                            emulator's); SDK_PROJECT_ID and SDK_SECRET must then hold what the
#                            secret holds, for the suites.
#   Any other LATCH_* (e.g. LATCH_STORE=dynamodb, LATCH_TABLE) also reaches `latch serve`.
#
# Exits non-zero if the setup fails or any suite fails. Only the processes this script
# started are stopped, by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LATCH_BIN="${1:-target/debug/latch}"
case "$LATCH_BIN" in /*) ;; *) LATCH_BIN="$ROOT/$LATCH_BIN" ;; esac
SDK_SUITES="${SDK_SUITES:-python,node}"
PROJECT_ID="project-test-11111111-1111-4111-8111-111111111111"
VENV="$ROOT/.venv-sdk"
PY_DIR="$ROOT/tests/sdk/python"
NODE_DIR="$ROOT/tests/sdk/node"
PYTEST_TIMEOUT=900
NODE_TIMEOUT=600
NODE_TEST_TIMEOUT_MS=60000  # node --test applies it to the whole file too

LIB_TAG=sdk-tests
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
log() { lib_log "$@"; }
die() { lib_die "$@"; }

MAIL_SOURCE=outbox
if [ "${LATCH_MAILER:-}" = ses ]; then
  MAIL_SOURCE=ses
  [ -n "${AWS_ENDPOINT_URL:-}" ] || die "LATCH_MAILER=ses needs AWS_ENDPOINT_URL (a moto server) to read the mail back"
  [ -n "${LATCH_SES_FROM:-}" ] || die "LATCH_MAILER=ses needs LATCH_SES_FROM (a sender verified in the emulator)"
  # moto's data.json serialises every object it ever tracked (each DynamoDB transaction copies
  # the table), so one read takes seconds and grows during the run: allow for it.
  PYTEST_TIMEOUT=1800
  NODE_TIMEOUT=1500
  NODE_TEST_TIMEOUT_MS=1200000
fi

[ -x "$LATCH_BIN" ] || die "latch binary not found or not executable: $LATCH_BIN (cargo build -p latch-cli)"
command -v python3 >/dev/null || die "python3 is required"
if [[ ",$SDK_SUITES," == *",node,"* ]]; then
  command -v node >/dev/null || die "node is required"
  command -v npm >/dev/null || die "npm is required"
fi

# ------------------------------------------------------------------ dependencies
if [[ ",$SDK_SUITES," == *",python,"* ]]; then
  log "installing Python SDK suite requirements into $VENV"
  lib_venv "$VENV" -r "$PY_DIR/requirements.txt"
fi
if [[ ",$SDK_SUITES," == *",node,"* ]]; then
  log "installing Node SDK suite dependencies"
  if [ -f "$NODE_DIR/package-lock.json" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  else
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error)
  fi
fi

# ------------------------------------------------------------------ processes
TMP="$(mktemp -d "${TMPDIR:-/tmp}/latch-sdk-tests.XXXXXX")"
LATCH_PID=""

trap 'lib_finish "${SDK_KEEP_TMP:-0}"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lib_start_hibp_stub "$TMP"

SECRET="secret-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
# Credentials: given to `latch serve` in its environment, unless it reads them from Secrets Manager.
CREDENTIAL_VARS=(LATCH_PROJECT_ID="$PROJECT_ID" LATCH_SECRET="$SECRET")
if [ -n "${LATCH_PROJECT_SECRET_ARN:-}" ]; then
  PROJECT_ID="${SDK_PROJECT_ID:?LATCH_PROJECT_SECRET_ARN needs SDK_PROJECT_ID}"
  SECRET="${SDK_SECRET:?LATCH_PROJECT_SECRET_ARN needs SDK_SECRET}"
  CREDENTIAL_VARS=()
fi
REDIRECT_URLS="http://localhost:3000/authenticate,http://localhost:3000/reset-password,http://localhost:3000/login"
# With the default mailer `latch serve` writes every email it sends as an .eml file here (the local
# outbox); with LATCH_MAILER=ses the suites read moto's record of the sent mail instead.
OUTBOX_DIR="$TMP/data/outbox"

log "starting $LATCH_BIN (HIBP stub on $HIBP_URL, mail read from: $MAIL_SOURCE)"
# The suites mark passwords breached seconds after signup; with Latch's default one-hour cache of
# range answers that breach would only be seen an hour later, so caching is off here.
# Reset emails: the suites send many per run, so the per-address hourly limit (default 5) is
# raised out of their way; the allow-list holds Stytch's test default plus the two app URLs the
# suites ask for by name (APP_RESET_URL, APP_LOGIN_URL in both suites).
lib_start_latch "$LATCH_BIN" "$TMP" \
  LATCH_HIBP_CACHE_SECONDS=0 \
  LATCH_RESET_START_LIMIT=1000 \
  LATCH_REDIRECT_URLS="$REDIRECT_URLS" \
  LATCH_HIBP_URL="$HIBP_URL" \
  "${CREDENTIAL_VARS[@]}"
log "latch is up on $LATCH_URL"

export LATCH_URL LATCH_PROJECT_ID="$PROJECT_ID" LATCH_SECRET="$SECRET" HIBP_STUB_URL="$HIBP_URL" \
  LATCH_MAIL_SOURCE="$MAIL_SOURCE"
if [ "$MAIL_SOURCE" = outbox ]; then
  export LATCH_OUTBOX_DIR="$OUTBOX_DIR"
else
  unset LATCH_OUTBOX_DIR
fi

# ------------------------------------------------------------------ suites
py_rc=skipped
node_rc=skipped
if [[ ",$SDK_SUITES," == *",python,"* ]]; then
  log "running the Python SDK suite (stytch $("$VENV/bin/python" -c 'import stytch.version as v; print(v.__version__)'))"
  set +e
  # shellcheck disable=SC2086
  (cd "$PY_DIR" && timeout -k 10 "$PYTEST_TIMEOUT" "$VENV/bin/python" -m pytest -q -p no:cacheprovider ${SDK_PYTEST_ARGS:-})
  py_rc=$?
  set -e
fi
if [[ ",$SDK_SUITES," == *",node,"* ]]; then
  log "running the Node SDK suite (stytch $(cd "$NODE_DIR" && node -p 'require("./node_modules/stytch/package.json").version'))"
  set +e
  # shellcheck disable=SC2086
  (cd "$NODE_DIR" && timeout -k 10 "$NODE_TIMEOUT" node --test --test-reporter=spec --test-timeout="$NODE_TEST_TIMEOUT_MS" ${SDK_NODE_TESTS:-test/sdk.test.js test/b2b.test.js test/migrate.test.js})
  node_rc=$?
  set -e
fi

log "python suite: $py_rc, node suite: $node_rc (0 = passed)"
if ! kill -0 "$LATCH_PID" 2>/dev/null; then
  log "latch serve died during the run"
  exit 1
fi
for rc in "$py_rc" "$node_rc"; do
  if [ "$rc" != skipped ] && [ "$rc" != 0 ]; then exit 1; fi
done
exit 0
