#!/usr/bin/env bash
# The example pages (examples/) against a local `latch serve`: Stytch's frontend SDK, unchanged,
# talking to Latch on https://localhost.
#
#   scripts/examples.sh [path/to/latch]        (default: target/debug/latch, else `latch` on PATH)
#
# Makes a self-signed certificate for `localhost` once (examples/.cert/, the key mode 0600),
# starts `latch serve --addr 127.0.0.1:443` over HTTPS with the page origin
# http://localhost:8080 on LATCH_SDK_ORIGINS and the pages' URLs on the redirect allow-list,
# creates a demo organization (slug `demo`) with a member who has a password, and a consumer user
# with the same email and password, through the backend API if they do not exist yet, prints the
# public token and the URLs, then serves the pages on http://localhost:8080 until Ctrl-C (which
# stops Latch too). The SDK calls its customBaseUrl's host on port 443 only, hence 443: run as
# root or grant the binary CAP_NET_BIND_SERVICE. Open https://localhost/ once in the browser and
# accept the certificate.
#
# Environment knobs:
#   EXAMPLES_DATA_DIR=DIR        Latch's data dir (default examples/.latch-data: the store, the
#                                generated credentials, the outbox of sent mail)
#   DEMO_EMAIL, DEMO_PASSWORD    the demo account (default demo@example.com / Latch-demo-2026!pw)
#   DEMO_ORG_SLUG                the demo organization (default demo)
#   LATCH_*                      reach `latch serve` (e.g. LATCH_HIBP_URL; by default Latch asks
#                                api.pwnedpasswords.com, and lets passwords through if it cannot)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LATCH_BIN="${1:-target/debug/latch}"
case "$LATCH_BIN" in /*) ;; *) LATCH_BIN="$ROOT/$LATCH_BIN" ;; esac
if [ ! -x "$LATCH_BIN" ] && [ $# -eq 0 ] && command -v latch >/dev/null; then LATCH_BIN="$(command -v latch)"; fi
EX="$ROOT/examples"
CERT_DIR="$EX/.cert"
DATA_DIR="${EXAMPLES_DATA_DIR:-$EX/.latch-data}"
DEMO_EMAIL="${DEMO_EMAIL:-demo@example.com}"
DEMO_PASSWORD="${DEMO_PASSWORD:-Latch-demo-2026!pw}"
DEMO_ORG_SLUG="${DEMO_ORG_SLUG:-demo}"
PAGES="http://localhost:8080"
LATCH="https://localhost"

LIB_TAG=examples
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
log() { lib_log "$@"; }
die() { lib_die "$@"; }

[ -x "$LATCH_BIN" ] || die "latch binary not found: $LATCH_BIN (cargo build -p latch-cli, or pass its path)"
lib_require_tools node npm openssl curl python3
lib_port_free 443 || die "cannot listen on 127.0.0.1:443 (in use, or no permission: run as root or grant CAP_NET_BIND_SERVICE)"
lib_port_free 8080 || die "127.0.0.1:8080 is in use (the pages are served there)"

if [ ! -d "$EX/node_modules/@stytch/vanilla-js" ]; then
  log "installing @stytch/vanilla-js into examples/node_modules"
  (cd "$EX" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ ! -s "$CERT_DIR/cert.pem" ] || [ ! -s "$CERT_DIR/key.pem" ]; then
  log "making a self-signed certificate for localhost in examples/.cert/"
  lib_make_cert "$CERT_DIR" 825
fi
chmod 600 "$CERT_DIR/key.pem"

LATCH_PID=""
SERVE_PID=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  lib_stop "$SERVE_PID" "$LATCH_PID"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$DATA_DIR"
LOG="$DATA_DIR/latch.log"
log "starting latch serve on $LATCH (data in $DATA_DIR, log in $LOG)"
lib_pages_latch_vars "$PAGES"
lib_start_latch_https "$LATCH_BIN" "$DATA_DIR" "$CERT_DIR" "$LOG" "${LIB_PAGES_VARS[@]}"
CURL=(curl -s --cacert "$CERT_DIR/cert.pem" --resolve localhost:443:127.0.0.1)

# The credentials: from the environment, else the ones `latch serve` generated in the data dir.
PROJECT_ID="${LATCH_PROJECT_ID:-$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["project_id"])' "$DATA_DIR/credentials.json")}"
SECRET="${LATCH_SECRET:-$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$DATA_DIR/credentials.json")}"
PUBLIC_TOKEN="${LATCH_PUBLIC_TOKEN:-$(sed -n 's/^ *public_token: *//p' "$LOG" | head -n 1)}"
[ -n "$PUBLIC_TOKEN" ] || die "could not read the public token from $LOG (set LATCH_PUBLIC_TOKEN)"

# api METHOD PATH [JSON]: the backend API with the project's credentials; prints "STATUS BODY".
api() {
  local out status data=()
  [ $# -ge 3 ] && data=(--data "$3")
  out="$(mktemp)"
  status="$("${CURL[@]}" -o "$out" -w '%{http_code}' -u "$PROJECT_ID:$SECRET" -X "$1" \
    -H 'content-type: application/json' "${data[@]}" "$LATCH$2")"
  printf '%s %s\n' "$status" "$(tr -d '\n' <"$out")"
  rm -f "$out"
}
# json_get JSON KEY…: the value at that path.
json_get() {
  python3 -c 'import json, sys
d = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    d = d[k]
print(d)' "$@"
}

# The demo organization and its member (password set through the migrate endpoint, md_5 of the
# password: the member is created by the call), unless they exist.
read -r status body < <(api GET "/v1/b2b/organizations/$DEMO_ORG_SLUG")
if [ "$status" = 404 ]; then
  log "creating the demo organization '$DEMO_ORG_SLUG'"
  read -r status body < <(api POST /v1/b2b/organizations \
    "{\"organization_name\":\"Demo organization\",\"organization_slug\":\"$DEMO_ORG_SLUG\"}")
fi
[ "$status" = 200 ] || die "organization $DEMO_ORG_SLUG: $status $body"
ORG_ID="$(json_get "$body" organization organization_id)"
email_q="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$DEMO_EMAIL")"
read -r status body < <(api GET "/v1/b2b/organizations/$ORG_ID/member?email_address=$email_q")
if [ "$status" != 200 ]; then
  log "creating the demo member $DEMO_EMAIL"
  digest="$(printf '%s' "$DEMO_PASSWORD" | openssl dgst -md5 -r | cut -d' ' -f1)"
  read -r status body < <(api POST /v1/b2b/passwords/migrate \
    "{\"organization_id\":\"$ORG_ID\",\"email_address\":\"$DEMO_EMAIL\",\"hash\":\"$digest\",\"hash_type\":\"md_5\",\"name\":\"Demo Member\"}")
  [ "$status" = 200 ] || die "demo member: $status $body"
fi
# A consumer user with the same address and password (sign-up on the consumer page makes more).
read -r status body < <(api POST /v1/passwords/authenticate "{\"email\":\"$DEMO_EMAIL\",\"password\":\"$DEMO_PASSWORD\"}")
if [ "$status" != 200 ]; then
  read -r status body < <(api POST /v1/passwords "{\"email\":\"$DEMO_EMAIL\",\"password\":\"$DEMO_PASSWORD\"}")
  if [ "$status" = 200 ]; then log "created the demo consumer user $DEMO_EMAIL"; else log "demo consumer user not created: $status $body"; fi
fi

cat >&2 <<EOF

  Latch:           $LATCH/  (self-signed: open it once in the browser and accept the certificate)
  public token:    $PUBLIC_TOKEN
  pages:           $PAGES/
  B2B login:       $PAGES/b2b-login.html?org=$DEMO_ORG_SLUG
  consumer login:  $PAGES/consumer-login.html
  demo account:    $DEMO_EMAIL / $DEMO_PASSWORD
  mail (outbox):   $LATCH_BIN outbox --data-dir $DATA_DIR

EOF

LATCH_PUBLIC_TOKEN="$PUBLIC_TOKEN" LATCH_DEMO_ORG_SLUG="$DEMO_ORG_SLUG" LATCH_SDK_BASE_URL="$LATCH" \
  node "$EX/serve.mjs" &
SERVE_PID=$!
# Until Ctrl-C, or until either server stops.
while kill -0 "$LATCH_PID" 2>/dev/null && kill -0 "$SERVE_PID" 2>/dev/null; do sleep 1; done
if ! kill -0 "$LATCH_PID" 2>/dev/null; then
  log "latch serve stopped; last lines of $LOG:"
  tail -n 20 "$LOG" >&2
else
  log "the page server stopped"
fi
exit 1
