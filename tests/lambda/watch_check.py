#!/usr/bin/env python3
"""Drive Latch's Lambda functions through the Lambda runtime interface, locally.

Starts `cargo lambda watch` (every function of the workspace, on the embedded store in a temp data
directory) and `latch serve` side by side on loopback, then checks that the functions answer a
signup, a login and a session check, and that a function's body equals `latch serve`'s for the same
request (request ids aside). Only the processes started here are stopped, by process group id.

    python3 tests/lambda/watch_check.py --latch target/debug/latch

Needs `cargo lambda` on PATH (scripts/lambda-checks.sh installs it) and the functions built in
debug (`cargo build -p latch-functions --features latch-functions/embedded-store`), so that the first
invocation does not compile.
"""

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PROJECT_ID = "project-test-22222222-2222-4222-8222-222222222222"
PASSWORD = "correct-horse-battery-staple-9Q!"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base, secret):
        self.base = base.rstrip("/")
        token = base64.b64encode(f"{PROJECT_ID}:{secret}".encode()).decode()
        self.auth = f"Basic {token}"

    def call(self, method, path, body=None, timeout=120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", self.auth)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"raw": raw.decode(errors="replace")}


def wait_until(what, probe, proc, deadline_s):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if probe():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not answer within {deadline_s}s")


def without_request_id(body):
    return {k: v for k, v in body.items() if k != "request_id"}


def shape(value):
    """The keys and types of a JSON value, without the values (ids and times differ per host)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def check(cond, message):
    if not cond:
        raise SystemExit(f"FAIL: {message}")
    print(f"ok: {message}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latch", required=True, help="the latch binary (latch serve)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir and logs")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tmp = tempfile.mkdtemp(prefix="latch-watch-")
    secret = "secret-test-" + secrets.token_hex(16)
    # Only the settings below: none of the caller's LATCH_* (backends, Secrets Manager ids) or
    # emulator endpoint reach either host.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCH_") and k != "AWS_ENDPOINT_URL"}
    env.update(
        {
            "LATCH_PROJECT_ID": PROJECT_ID,
            "LATCH_SECRET": secret,
            "LATCH_TOKEN_PEPPER": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            # No network here: the breach check is covered by the suites with a stub.
            "LATCH_BREACH_CHECK_ON_CREATE": "false",
            "LATCH_BREACH_CHECK_ON_AUTH": "false",
        }
    )
    serve_port, watch_port = free_port(), free_port()
    procs = []
    ok = False
    try:
        serve_log = open(os.path.join(tmp, "serve.log"), "w")
        serve = subprocess.Popen(
            [args.latch, "serve", "--addr", f"127.0.0.1:{serve_port}", "--data-dir", os.path.join(tmp, "serve")],
            env=env, stdout=serve_log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        procs.append(serve)
        watch_env = dict(env, LATCH_DATA_DIR=os.path.join(tmp, "watch"))
        watch_log = open(os.path.join(tmp, "watch.log"), "w")
        watch = subprocess.Popen(
            [
                "cargo", "lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", str(watch_port),
                # The functions run on the embedded store here; deployed ones are built without it.
                "--features", "latch-functions/embedded-store",
            ],
            cwd=root, env=watch_env, stdout=watch_log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        procs.append(watch)

        direct = Client(f"http://127.0.0.1:{serve_port}", secret)
        jwks = f"/v1/sessions/jwks/{PROJECT_ID}"
        wait_until("latch serve", lambda: direct.call("GET", jwks, timeout=2)[0] == 200, serve, 60)

        def function(name):
            return Client(f"http://127.0.0.1:{watch_port}/lambda-url/{name}", secret)

        # The first call to each function starts its process (cargo run): allow for it.
        wait_until(
            "cargo lambda watch",
            lambda: function("sessions-jwks").call("GET", jwks, timeout=300)[0] == 200,
            watch, 600,
        )

        # Same request, same body, through the runtime interface and through latch serve.
        body = {"password": "hunter2"}
        lam = function("passwords-strength-check").call("POST", "/v1/passwords/strength_check", body)
        dir_ = direct.call("POST", "/v1/passwords/strength_check", body)
        check(lam[0] == dir_[0] == 200, f"strength check answers 200 on both hosts ({lam[0]}, {dir_[0]})")
        check(without_request_id(lam[1]) == without_request_id(dir_[1]),
              "strength check: the function's body equals latch serve's")
        check(lam[1]["request_id"] != dir_[1]["request_id"], "each host gives its own request id")

        bad = {"email": "not-an-email", "password": PASSWORD}
        lam = function("passwords-create").call("POST", "/v1/passwords", bad)
        dir_ = direct.call("POST", "/v1/passwords", bad)
        check(lam[0] == dir_[0] == 400, f"bad email refused with 400 on both ({lam[0]}, {dir_[0]})")
        check(without_request_id(lam[1]) == without_request_id(dir_[1]),
              "error envelope: the function's body equals latch serve's")

        # Signup and login through the functions, with a session; then the session is valid.
        email = f"watch-{secrets.token_hex(4)}@example.com"
        signup = {"email": email, "password": PASSWORD, "session_duration_minutes": 60}
        lam = function("passwords-create").call("POST", "/v1/passwords", signup)
        dir_ = direct.call("POST", "/v1/passwords", signup)
        check(lam[0] == 200, f"signup through the function: {lam[0]} {lam[1].get('error_type', '')}")
        check(dir_[0] == 200, "signup through latch serve")
        check(shape(lam[1]) == shape(dir_[1]), "signup: the same body shape on both hosts")
        check(lam[1]["email_id"] and lam[1]["user"]["emails"][0]["email"] == email, "signup body names the user")

        login = {"email": email, "password": PASSWORD, "session_duration_minutes": 60}
        lam = function("passwords-authenticate").call("POST", "/v1/passwords/authenticate", login)
        dir_ = direct.call("POST", "/v1/passwords/authenticate", login)
        check(lam[0] == 200 and lam[1]["session_token"], "login through the function returns a session")
        check(shape(lam[1]) == shape(dir_[1]), "login: the same body shape on both hosts")
        wrong = function("passwords-authenticate").call(
            "POST", "/v1/passwords/authenticate", dict(login, password=PASSWORD + "x"))
        check(wrong[0] == 401 and wrong[1]["error_type"] == "unauthorized_credentials",
              "a wrong password is refused by the function")

        # Another function (another process) sees the session: they share the embedded store.
        auth = function("sessions-authenticate").call(
            "POST", "/v1/sessions/authenticate", {"session_token": lam[1]["session_token"]})
        check(auth[0] == 200 and auth[1]["session"]["user_id"] == lam[1]["user_id"],
              "sessions-authenticate (another function) accepts the session")
        # A migrated hash (MD5 of "password123") logs in through the authenticate function, which
        # stores its argon2id replacement; the next login verifies that.
        migrated = f"migrated-{secrets.token_hex(4)}@example.com"
        imported = {"email": migrated, "hash_type": "md_5", "hash": "482c811da5d5b4bc6d497ffa98491e38"}
        lam_m = function("passwords-migrate").call("POST", "/v1/passwords/migrate", imported)
        check(lam_m[0] == 200 and lam_m[1]["user_created"] is True, f"migrate through the function: {lam_m[0]}")
        for attempt in ("imported hash", "upgraded hash"):
            again = function("passwords-authenticate").call(
                "POST", "/v1/passwords/authenticate", {"email": migrated, "password": "password123"})
            check(again[0] == 200, f"a migrated user logs in through the function ({attempt}): {again[0]}")

        unauth = Client(f"http://127.0.0.1:{watch_port}/lambda-url/users-get", "wrong-secret").call(
            "GET", f"/v1/users/{lam[1]['user_id']}")
        check(unauth[0] == 401, "a wrong project secret is refused by the function")
        ok = True
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if not ok:
            for name in ("watch.log", "serve.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    print(f"--- last lines of {path}", file=sys.stderr)
                    with open(path) as f:
                        print("".join(f.readlines()[-40:]), file=sys.stderr)
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)


if __name__ == "__main__":
    main()
