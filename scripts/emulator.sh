# Sourced by scripts/test.sh: the local DynamoDB/SES stand-in, moto's server (PyPI moto[server]),
# in its own venv, on a free loopback port, with dummy credentials and a verified SES sender.
#
#   start_emulator   installs and starts it, exports AWS_ENDPOINT_URL and dummy AWS settings;
#                    returns non-zero if it cannot (no Python, install failed, no answer)
#   stop_emulator    stops the server this script started, by its PID

MOTO_VERSION="5.2.5"
EMULATOR_PID=""
SES_SENDER="auth@latch.test"

start_emulator() {
  local root venv port
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  venv="$root/.venv-moto"
  command -v python3 >/dev/null || { echo "[emulator] python3 not found" >&2; return 1; }
  if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv" || return 1
  fi
  "$venv/bin/python" -m pip install --disable-pip-version-check -q "moto[server]==$MOTO_VERSION" || return 1
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  EMULATOR_LOG="$(mktemp "${TMPDIR:-/tmp}/latch-moto.XXXXXX")"
  # Serialised, so racing conditional writes behave as atomically as on DynamoDB (see the file).
  "$venv/bin/python" "$root/scripts/moto_serial.py" 127.0.0.1 "$port" >"$EMULATOR_LOG" 2>&1 &
  EMULATOR_PID=$!
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  # moto answers one request at a time beside the parallel stages, and can stall for seconds;
  # it also ignores client request tokens, so a retry after a timed-out commit would meet its
  # own write. Latch's 3 s attempt limit (shared/src/aws_calls.rs) is for DynamoDB, not for it.
  export LATCH_AWS_ATTEMPT_TIMEOUT_MS=60000 LATCH_AWS_CALL_TIMEOUT_MS=180000
  export AWS_ACCESS_KEY_ID="testing" AWS_SECRET_ACCESS_KEY="testing" AWS_REGION="us-east-1"
  export AWS_DEFAULT_REGION="us-east-1" AWS_EC2_METADATA_DISABLED="true"
  for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1] + '/moto-api/', timeout=1)" "$AWS_ENDPOINT_URL" 2>/dev/null; then
      # SES sends only from a verified identity; moto enforces that too.
      "$venv/bin/python" -c "import boto3,sys; boto3.client('ses', endpoint_url=sys.argv[1]).verify_email_identity(EmailAddress=sys.argv[2])" \
        "$AWS_ENDPOINT_URL" "$SES_SENDER" || return 1
      echo "[emulator] moto $MOTO_VERSION on $AWS_ENDPOINT_URL (pid $EMULATOR_PID)" >&2
      return 0
    fi
    kill -0 "$EMULATOR_PID" 2>/dev/null || { cat "$EMULATOR_LOG" >&2; return 1; }
    sleep 0.2
  done
  echo "[emulator] no answer from moto" >&2
  return 1
}

stop_emulator() {
  if [ -n "$EMULATOR_PID" ] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  EMULATOR_PID=""
}

# create_secrets PROJECT_ID SECRET: stores the project credentials and a fresh token pepper in the
# emulator's Secrets Manager, as the SAM template does on AWS, and exports their ARNs as
# LATCH_PROJECT_SECRET_ARN and LATCH_TOKEN_PEPPER_ARN.
create_secrets() {
  local root arns
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  arns="$("$root/.venv-moto/bin/python" - "$AWS_ENDPOINT_URL" "$1" "$2" <<'PY'
import base64, json, secrets, sys, uuid
import boto3
sm = boto3.client("secretsmanager", endpoint_url=sys.argv[1])
suffix = uuid.uuid4().hex[:8]
project = sm.create_secret(Name=f"latch-project-{suffix}",
                           SecretString=json.dumps({"project_id": sys.argv[2], "secret": sys.argv[3]}))
pepper = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
token = sm.create_secret(Name=f"latch-token-pepper-{suffix}", SecretString=pepper)
print(project["ARN"], token["ARN"])
PY
)" || return 1
  export LATCH_PROJECT_SECRET_ARN="${arns% *}" LATCH_TOKEN_PEPPER_ARN="${arns#* }"
}
