# shellcheck shell=bash
# What the test scripts share: a virtualenv, a free port, the HIBP stub, `latch serve`, and
# stopping what they started. Sourced, not run:
#
#   source "$ROOT/scripts/lib.sh"
#   lib_start_hibp_stub "$TMP"                       # sets HIBP_PID, HIBP_URL
#   lib_start_latch "$LATCH_BIN" "$TMP" VAR=value …  # sets LATCH_PID, LATCH_URL (data in $TMP/data)
#   lib_stop "$LATCH_PID" "$HIBP_PID"                # TERM, then KILL after 5 s
#
# and, for the scripts that serve the example pages against `latch serve` on https://localhost
# (scripts/browser-tests.sh, scripts/examples.sh):
#
#   lib_make_cert DIR DAYS                           # DIR/cert.pem, DIR/key.pem for localhost
#   lib_pages_latch_vars ORIGIN                      # sets LIB_PAGES_VARS (VAR=value …)
#   lib_start_latch_https BIN DATA CERTS LOG VAR=value …  # sets LATCH_PID
#
# The caller sets LIB_TAG (the prefix of its log lines) before sourcing. Only processes the
# caller started are stopped, by PID.

LIB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB_TAG="${LIB_TAG:-lib}"

lib_log() { printf '[%s] %s\n' "$LIB_TAG" "$*" >&2; }
lib_die() { lib_log "error: $*"; exit 2; }

# A port free on loopback now.
lib_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# lib_port_free PORT: whether 127.0.0.1:PORT can be listened on now (false when in use, or below
# 1024 without root or CAP_NET_BIND_SERVICE).
lib_port_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$1" 2>/dev/null
}

# lib_require_tools TOOL…: die unless every TOOL is on PATH.
lib_require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || lib_die "$tool is required"
  done
}

# lib_venv DIR PIP-ARGS…: make the virtualenv DIR if it is missing, then install PIP-ARGS into it.
lib_venv() {
  local dir="$1"
  shift
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --disable-pip-version-check -q "$@"
}

# Wait until FILE is non-empty, while PID lives; NAME is for the message.
lib_wait_port_file() {
  local file="$1" pid="$2" name="$3"
  for _ in $(seq 1 100); do
    [ -s "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || lib_die "$name exited before reporting its port"
    sleep 0.1
  done
  lib_die "$name did not report its port"
}

# The HIBP stub binary (tests/src/bin/hibp-stub.rs): built by the workspace's `cargo test`,
# built here if missing. HIBP_STUB_BIN overrides.
lib_hibp_stub_bin() {
  local bin="${HIBP_STUB_BIN:-${CARGO_TARGET_DIR:-$LIB_ROOT/target}/debug/hibp-stub}"
  if [ ! -x "$bin" ]; then
    lib_log "building the HIBP stub"
    (cd "$LIB_ROOT" && cargo build -q -p latch-tests --bin hibp-stub) >&2
  fi
  printf '%s\n' "$bin"
}

# lib_start_hibp_stub TMP: start the stub on a free port (its log in TMP/hibp.log).
lib_start_hibp_stub() {
  local tmp="$1" bin
  bin="$(lib_hibp_stub_bin)"
  "$bin" --port 0 --port-file "$tmp/hibp.port" >"$tmp/hibp.log" 2>&1 &
  HIBP_PID=$!
  lib_wait_port_file "$tmp/hibp.port" "$HIBP_PID" "the HIBP stub"
  HIBP_URL="http://127.0.0.1:$(cat "$tmp/hibp.port")"
}

# lib_start_latch BIN TMP [VAR=value …]: `latch serve` on a free loopback port with its data in
# TMP/data and its log in TMP/latch.log, the variables added to its environment; returns once
# it answers HTTP (any status), within 60 s.
lib_start_latch() {
  local bin="$1" tmp="$2"
  shift 2
  [ -x "$bin" ] || lib_die "latch binary not found or not executable: $bin (cargo build -p latch-cli)"
  local port
  port="$(lib_free_port)"
  LATCH_URL="http://127.0.0.1:$port"
  mkdir -p "$tmp/data"
  env "$@" "$bin" serve --addr "127.0.0.1:$port" --data-dir "$tmp/data" >"$tmp/latch.log" 2>&1 &
  LATCH_PID=$!
  lib_wait_latch "$LATCH_PID" "$tmp/latch.log" "$LATCH_URL"
}

# lib_wait_latch PID LOG URL [CURL-ARG…]: return once the `latch serve` PID (its log in LOG)
# answers HTTP on URL (any status; curl gets the CURL-ARGs too, e.g. --cacert), within 60 s; die
# with the end of LOG if it exits first.
lib_wait_latch() {
  local pid="$1" log="$2" url="$3"
  shift 3
  for _ in $(seq 1 240); do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; lib_die "latch serve exited during startup"; }
    curl -s -o /dev/null "$@" "$url/v1/sessions/jwks/x" && return 0
    sleep 0.25
  done
  lib_die "latch did not answer on $url within 60 s"
}

# lib_make_cert DIR DAYS: a self-signed certificate for `localhost` (and 127.0.0.1), valid DAYS
# days, as DIR/cert.pem with its key DIR/key.pem (mode 0600); openssl's output in DIR/openssl.log.
lib_make_cert() {
  local dir="$1" days="$2"
  mkdir -p "$dir"
  (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>"$dir/openssl.log") ||
    { cat "$dir/openssl.log" >&2; lib_die "openssl could not make the certificate"; }
}

# lib_pages_latch_vars ORIGIN: set LIB_PAGES_VARS to what `latch serve` needs for the example pages
# served on ORIGIN (examples/serve.mjs): the origin on LATCH_SDK_ORIGINS, and the pages' URLs as the
# redirect allow-list and defaults (the reset and magic links come back to them; B2B links keep the
# page's own ?org= query).
lib_pages_latch_vars() {
  local o="$1"
  # shellcheck disable=SC2034  # read by the caller
  LIB_PAGES_VARS=(
    LATCH_SDK_ORIGINS="$o"
    LATCH_REDIRECT_URLS="$o/b2b-login.html,$o/consumer-login.html,$o/consumer-reset.html"
    LATCH_RESET_PASSWORD_REDIRECT_URL="$o/consumer-reset.html"
    LATCH_LOGIN_REDIRECT_URL="$o/consumer-login.html"
    LATCH_SIGNUP_REDIRECT_URL="$o/b2b-login.html"
  )
}

# lib_start_latch_https BIN DATA_DIR CERT_DIR LOG [VAR=value …]: `latch serve` on https://localhost
# (127.0.0.1:443: the frontend SDK calls its customBaseUrl's host on port 443 only) with the
# certificate of lib_make_cert in CERT_DIR, its data in DATA_DIR and its log in LOG, the variables
# added to its environment; sets LATCH_PID and returns once it answers, within 60 s.
lib_start_latch_https() {
  local bin="$1" data="$2" certs="$3" log="$4"
  shift 4
  mkdir -p "$data"
  env "$@" "$bin" serve --addr 127.0.0.1:443 --data-dir "$data" \
    --tls-cert "$certs/cert.pem" --tls-key "$certs/key.pem" >"$log" 2>&1 &
  LATCH_PID=$!
  lib_wait_latch "$LATCH_PID" "$log" https://localhost --cacert "$certs/cert.pem" --resolve localhost:443:127.0.0.1
}

# lib_stop PID…: TERM each, wait up to 5 s, then KILL; empty arguments are skipped.
lib_stop() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
}

# lib_finish KEEP [NOTE]: a stage's EXIT trap (`trap 'lib_finish "${X_KEEP_TMP:-0}"' EXIT`): stop
# latch and the stub (LATCH_PID, HIBP_PID), show the end of TMP/latch.log on failure, and remove
# TMP unless KEEP is 1 or the stage failed (NOTE is added to the "kept" line).
lib_finish() {
  local rc=$? keep="$1" note="${2:-}"
  lib_stop "${LATCH_PID:-}" "${HIBP_PID:-}"
  if [ "$rc" -ne 0 ] && [ -s "$TMP/latch.log" ]; then
    lib_log "last lines of the latch log ($TMP/latch.log):"
    tail -n 40 "$TMP/latch.log" >&2 || true
  fi
  if [ "$keep" = "1" ] || [ "$rc" -ne 0 ]; then
    lib_log "kept $TMP$note"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
