#!/usr/bin/env bash
# The pipeline's smoke test (scripts/smoke-test), proven here without AWS:
#   1. against `latch serve` (SQLite, HIBP stub): it must pass;
#   2. against tests/smoke/wrong_server.py in front of that server, which refuses every login,
#      then which forges the session JWT's signature: it must fail each time, name the failed
#      step, and still delete its throwaway user.
#
#   scripts/smoke-test-check.sh [path/to/latch]     (default target/debug/latch)
#
# Uses .venv-sdk (the official `stytch` SDK; scripts/sdk-tests.sh makes it, this makes it if
# missing). Only the processes this script started are stopped, by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LATCH_BIN="${1:-target/debug/latch}"
VENV="$ROOT/.venv-sdk"
LIB_TAG=smoke-check
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
fail() { lib_log "FAILED: $*"; exit 1; }
log() { lib_log "$@"; }

[ -x "$LATCH_BIN" ] || fail "latch binary not found: $LATCH_BIN"
[ -x "$VENV/bin/python" ] || lib_venv "$VENV" -r tests/sdk/python/requirements.txt

TMP="$(mktemp -d "${TMPDIR:-/tmp}/latch-smoke.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  lib_stop "${PIDS[@]}" "${HIBP_PID:-}" "${LATCH_PID:-}"
  if [ "$rc" -ne 0 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT

lib_start_hibp_stub "$TMP"
export LATCH_PROJECT_ID="project-test-44444444-4444-4444-8444-444444444444"
LATCH_SECRET="secret-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export LATCH_SECRET
lib_start_latch "$LATCH_BIN" "$TMP" LATCH_HIBP_URL="$HIBP_URL"
url="$LATCH_URL"

log "against latch serve ($url): must pass"
scripts/smoke-test "$url" || fail "the smoke test failed against a working latch serve"

for mode in refuse-login forged-jwt; do
  python3 tests/smoke/wrong_server.py --upstream "$url" --mode "$mode" \
    --port-file "$TMP/$mode.port" --log "$TMP/$mode.requests" >"$TMP/$mode.log" 2>&1 &
  PIDS+=($!)
  lib_wait_port_file "$TMP/$mode.port" "$!" "the wrong server ($mode)"
  log "against a server that answers wrongly ($mode): must fail"
  rc=0
  scripts/smoke-test "http://127.0.0.1:$(cat "$TMP/$mode.port")" \
    >"$TMP/$mode.out" 2>"$TMP/$mode.err" || rc=$?
  cat "$TMP/$mode.err" >&2
  [ "$rc" -eq 1 ] || fail "$mode: the smoke test exited $rc, not 1"
  case "$mode" in
    refuse-login) expected="FAILED log in with the password: HTTP 401 unauthorized_credentials" ;;
    forged-jwt) expected="FAILED verify the session JWT against the JWKS: the session JWT did not verify" ;;
  esac
  grep -qF "$expected" "$TMP/$mode.err" || fail "$mode: no clear message (expected: $expected)"
  grep -q '^DELETE /v1/users/' "$TMP/$mode.requests" || fail "$mode: the throwaway user was not deleted"
done
log "passed: the smoke test passes against latch serve and fails against a wrong server"
