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
log() { printf '[smoke-check] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

[ -x "$LATCH_BIN" ] || fail "latch binary not found: $LATCH_BIN"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r tests/sdk/python/requirements.txt
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/latch-smoke.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT

wait_port_file() {
  for _ in $(seq 1 100); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || fail "$3 exited: $(cat "$TMP"/*.log 2>/dev/null | tail -n 20)"
    sleep 0.1
  done
  fail "$3 did not report its port"
}

python3 tests/sdk/hibp_stub.py --port 0 --port-file "$TMP/hibp.port" >"$TMP/hibp.log" 2>&1 &
PIDS+=($!)
wait_port_file "$TMP/hibp.port" "$!" "the HIBP stub"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
export LATCH_PROJECT_ID="project-test-44444444-4444-4444-8444-444444444444"
LATCH_SECRET="secret-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export LATCH_SECRET
mkdir -p "$TMP/data"
LATCH_HIBP_URL="http://127.0.0.1:$(cat "$TMP/hibp.port")" \
  "$LATCH_BIN" serve --addr "127.0.0.1:$port" --data-dir "$TMP/data" >"$TMP/latch.log" 2>&1 &
latch_pid=$!
PIDS+=("$latch_pid")
for _ in $(seq 1 240); do
  kill -0 "$latch_pid" 2>/dev/null || fail "latch serve exited: $(tail -n 20 "$TMP/latch.log")"
  curl -s -o /dev/null "$url/v1/sessions/jwks/x" && break
  sleep 0.25
done

log "against latch serve ($url): must pass"
scripts/smoke-test "$url" || fail "the smoke test failed against a working latch serve"

for mode in refuse-login forged-jwt; do
  python3 tests/smoke/wrong_server.py --upstream "$url" --mode "$mode" \
    --port-file "$TMP/$mode.port" --log "$TMP/$mode.requests" >"$TMP/$mode.log" 2>&1 &
  PIDS+=($!)
  wait_port_file "$TMP/$mode.port" "$!" "the wrong server ($mode)"
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
