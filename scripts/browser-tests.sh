#!/usr/bin/env bash
# The browser suite (tests/browser): headless Chromium, driven by playwright-core, loads the
# example pages (examples/*.html) with the official @stytch/vanilla-js 6.3.0 IIFE bundles,
# unchanged, and runs the frontend SDK (headless clients and the pre-built B2B and consumer UIs)
# against a real `latch serve` on https://localhost (127.0.0.1:443, a self-signed certificate for
# `localhost` made here), with the HIBP range API replaced by the HIBP stub. Every request the
# browser makes must stay on loopback. Pages are served on http://localhost:8080 (the origin on
# LATCH_SDK_ORIGINS) and http://localhost:8081 (an origin that is not).
#
#   scripts/browser-tests.sh [path/to/latch]        (default: target/debug/latch)
#
# Needs: root or CAP_NET_BIND_SERVICE (the SDK calls its customBaseUrl's host on port 443 only),
# ports 443, 8080 and 8081 free on loopback, node >= 20 and npm, openssl, curl. Installs
# chromium-headless-shell with apt-get when neither it nor chromium is present; tests/browser's
# npm packages with `npm ci` (playwright-core downloads no browser).
#
# Environment knobs:
#   CHROMIUM=/path              the browser binary (default: chromium-headless-shell, else chromium)
#   BROWSER_TEST_PATTERN=RE     run only the scenarios whose name matches (node --test-name-pattern),
#                               e.g. '^[ab]\.'
#   BROWSER_SKIP_CONSUMER=1     skip the consumer scenarios (e, f, h)
#   BROWSER_SCREENSHOT_DIR=DIR  where the screenshots go (default: the temp dir)
#   BROWSER_UPDATE_IMAGES=1     after a passing run, copy the README's screenshots to docs/images/
#   BROWSER_KEEP_TMP=1          keep the temp dir (data dir with the outbox, logs, screenshots)
#   HIBP_STUB_BIN=/path         the HIBP stub binary (scripts/lib.sh builds it if missing)
#   Any other LATCH_* also reaches `latch serve`.
#
# Exits non-zero if the setup fails or any scenario fails. Only the processes this script
# started are stopped, by PID.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LATCH_BIN="${1:-target/debug/latch}"
case "$LATCH_BIN" in /*) ;; *) LATCH_BIN="$ROOT/$LATCH_BIN" ;; esac
SUITE_DIR="$ROOT/tests/browser"
PROJECT_ID="project-test-44444444-4444-4444-8444-444444444444"
PAGES_ORIGIN="http://localhost:8080"
SUITE_TIMEOUT=600

LIB_TAG=browser-tests
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
log() { lib_log "$@"; }
die() { lib_die "$@"; }

[ -x "$LATCH_BIN" ] || die "latch binary not found or not executable: $LATCH_BIN (cargo build -p latch-cli)"
lib_require_tools node npm openssl curl python3
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || die "node >= 20 is required"

# ------------------------------------------------------------------ the browser
if [ -z "${CHROMIUM:-}" ]; then
  for candidate in /usr/bin/chromium-headless-shell /usr/bin/chromium; do
    if [ -x "$candidate" ]; then CHROMIUM="$candidate"; break; fi
  done
fi
if [ -z "${CHROMIUM:-}" ]; then
  log "installing chromium-headless-shell with apt-get"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "no Chromium, and not root (no sudo) to install chromium-headless-shell"
    SUDO=(sudo)
  fi
  if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends chromium-headless-shell; then
    "${SUDO[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y --no-install-recommends chromium-headless-shell
  fi
  CHROMIUM=/usr/bin/chromium-headless-shell
fi
[ -x "$CHROMIUM" ] || die "Chromium not found at $CHROMIUM"
export CHROMIUM

log "installing the browser suite's npm packages"
(cd "$SUITE_DIR" && npm ci --no-audit --no-fund --loglevel=error)

# ------------------------------------------------------------------ ports
lib_port_free 443 || die "cannot listen on 127.0.0.1:443 (in use, or no permission: run as root or grant CAP_NET_BIND_SERVICE)"
for port in 8080 8081; do
  lib_port_free "$port" || die "127.0.0.1:$port is in use (the suite serves its pages there)"
done

# ------------------------------------------------------------------ processes
TMP="$(mktemp -d "${TMPDIR:-/tmp}/latch-browser-tests.XXXXXX")"
LATCH_PID=""
HIBP_PID=""
SHOTS="${BROWSER_SCREENSHOT_DIR:-$TMP/shots}"
mkdir -p "$SHOTS"

trap 'lib_finish "${BROWSER_KEEP_TMP:-0}" " (screenshots: $SHOTS)"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "making a self-signed certificate for localhost"
lib_make_cert "$TMP/tls" 2

lib_start_hibp_stub "$TMP"

SECRET="secret-test-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
PUBLIC_TOKEN="public-token-test-$(python3 -c 'import uuid; print(uuid.uuid4())')"

log "starting $LATCH_BIN on https://localhost (127.0.0.1:443; HIBP stub on $HIBP_URL)"
# The pages' settings (lib_pages_latch_vars). Resets: the scenarios send several mails per
# address, so the hourly limit is raised out of their way; breach answers are not cached (as in
# sdk-tests.sh).
lib_pages_latch_vars "$PAGES_ORIGIN"
lib_start_latch_https "$LATCH_BIN" "$TMP/data" "$TMP/tls" "$TMP/latch.log" \
  LATCH_PROJECT_ID="$PROJECT_ID" LATCH_SECRET="$SECRET" LATCH_PUBLIC_TOKEN="$PUBLIC_TOKEN" \
  LATCH_HIBP_URL="$HIBP_URL" LATCH_HIBP_CACHE_SECONDS=0 LATCH_RESET_START_LIMIT=1000 \
  "${LIB_PAGES_VARS[@]}"
log "latch is up (public token $PUBLIC_TOKEN)"

# ------------------------------------------------------------------ the suite
NODE_ARGS=(--test-reporter=spec)
if [ -n "${BROWSER_TEST_PATTERN:-}" ]; then NODE_ARGS+=(--test-name-pattern="$BROWSER_TEST_PATTERN"); fi
log "running the browser suite ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"); screenshots in $SHOTS)"
set +e
(cd "$SUITE_DIR" && env LATCH_PUBLIC_TOKEN="$PUBLIC_TOKEN" LATCH_PROJECT_ID="$PROJECT_ID" LATCH_SECRET="$SECRET" \
  LATCH_OUTBOX_DIR="$TMP/data/outbox" LATCH_TLS_CA="$TMP/tls/cert.pem" BROWSER_SCREENSHOT_DIR="$SHOTS" \
  timeout -k 10 "$SUITE_TIMEOUT" node "${NODE_ARGS[@]}" run.mjs)
rc=$?
set -e

if ! kill -0 "$LATCH_PID" 2>/dev/null; then
  log "latch serve died during the run"
  exit 1
fi
[ "$rc" = 0 ] || { log "browser suite failed (exit $rc)"; exit 1; }

if [ "${BROWSER_UPDATE_IMAGES:-0}" = "1" ]; then
  mkdir -p "$ROOT/docs/images"
  for name in b2b-email b2b-password b2b-logged-in b2b-reset consumer-signup consumer-logged-in; do
    if [ -f "$SHOTS/$name.png" ]; then
      cp "$SHOTS/$name.png" "$ROOT/docs/images/sdk-$name.png"
    else
      log "no screenshot $name.png (scenario skipped?)"
    fi
  done
  log "copied the screenshots to docs/images/sdk-*.png"
fi
log "browser suite passed"
exit 0
