#!/usr/bin/env bash
# Schema fuzzing: validates docs/openapi.json as an OpenAPI 3.1 document, then runs schemathesis
# against `latch serve` (embedded store, the project's Basic credentials, a local HIBP stub) with
# its checks for server errors, status codes, content types, headers and response bodies.
# Bounded: at most FUZZ_MAX_EXAMPLES cases per operation and FUZZ_MAX_TIME seconds in all.
#
#   scripts/schema-fuzz.sh path/to/latch
#
# Installs schemathesis and openapi-spec-validator (pinned) into .venv-fuzz/. A failure prints
# schemathesis's report, with a curl line reproducing each finding.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LATCH_BIN="$(realpath "${1:?usage: scripts/schema-fuzz.sh path/to/latch}")"
VENV="$ROOT/.venv-fuzz"
SCHEMATHESIS_VERSION="4.32.5"
VALIDATOR_VERSION="0.9.0"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-30}"
MAX_TIME="${FUZZ_MAX_TIME:-180}"
SEED="${FUZZ_SEED:-20261122}"
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"

LIB_TAG=fuzz
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
log() { lib_log "$@"; }
die() { lib_log "$*"; exit 1; }

log "installing schemathesis $SCHEMATHESIS_VERSION, openapi-spec-validator $VALIDATOR_VERSION"
lib_venv "$VENV" "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"

log "validating docs/openapi.json (OpenAPI 3.1)"
"$VENV/bin/openapi-spec-validator" "$ROOT/docs/openapi.json"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/latch-fuzz.XXXXXX")"
HIBP_PID=""
LATCH_PID=""
cleanup() {
  local rc=$?
  lib_stop "$LATCH_PID" "$HIBP_PID"
  if [ "$rc" -ne 0 ] && [ -s "$TMP/latch.log" ]; then
    log "errors in the latch log ($TMP/latch.log):"
    grep -iE 'error|panic' "$TMP/latch.log" | tail -n 20 >&2 || true
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT

lib_start_hibp_stub "$TMP"
PROJECT_ID="project-test-44444444-4444-4444-8444-444444444444"
SECRET="secret-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
# Reset and signup mail goes to the local outbox; the allow-list takes the fuzzer's URLs only if
# they match, which they will not: redirect errors are documented answers.
lib_start_latch "$LATCH_BIN" "$TMP" \
  LATCH_PROJECT_ID="$PROJECT_ID" LATCH_SECRET="$SECRET" \
  LATCH_HIBP_URL="$HIBP_URL" \
  LATCH_REDIRECT_URLS="http://localhost:3000/authenticate" \
  RUST_LOG="${RUST_LOG:-warn}"
URL="$LATCH_URL"
curl -fsS -o /dev/null "$URL/openapi.json" || die "latch did not serve /openapi.json"

# What latch serves is what docs/openapi.json holds (a cargo test keeps that copy current).
cmp -s <(curl -fsS "$URL/openapi.json") "$ROOT/docs/openapi.json" ||
  die "latch serve's /openapi.json differs from docs/openapi.json"

log "schemathesis: $MAX_EXAMPLES examples per operation, at most ${MAX_TIME}s, seed $SEED"
cd "$TMP"
# `st run`, through a wrapper that works around a CPython 3.11 bug (see the script).
timeout -k 10 "$((MAX_TIME + 120))" "$VENV/bin/python" "$ROOT/scripts/schemathesis_run.py" run "$URL/openapi.json" \
  --url "$URL" \
  --auth "$PROJECT_ID:$SECRET" \
  --checks "$CHECKS" \
  --phases examples,coverage,fuzzing \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  --suppress-health-check all \
  --warnings off \
  --no-color
