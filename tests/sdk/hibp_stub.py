#!/usr/bin/env python3
"""A tiny stand-in for the HaveIBeenPwned k-anonymity range API (stdlib only).

Used by scripts/sdk-tests.sh: Latch is started with LATCH_HIBP_URL pointing here, so
the official-SDK suites can make a password "breached" without any network access.

    python3 tests/sdk/hibp_stub.py [--port N] [--port-file PATH]

Port 0 (the default) lets the OS choose; the chosen port is printed on stdout as
`PORT <n>` and, with --port-file, written to that file once the socket is listening.

Routes
  GET  /range/{5 hex}   "SUFFIX:COUNT\\r\\n" lines, sorted by suffix, like api.pwnedpasswords.com:
                        every breached password under that prefix (count > 0), plus
                        padding rows with count 0 (always, as if `Add-Padding: true`).
  POST /__breach        {"password": "..."} or {"sha1": "<40 hex>"}, optional "count":
                        mark a password breached from now on (answers {"prefix","suffix"}).
  POST /__mode          {"mode": "ok" | "error" | "slow" | "garbage"}: simulate an outage
                        of the range API (error = HTTP 503, slow = answer after --slow-seconds,
                        garbage = HTTP 200 with a body that is not range rows).
  GET  /__log           JSON list of the range requests seen: {"path", "add_padding"}.
  GET  /__health        "ok"
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Passwords the stub reports as breached from the start. The first one scores well under
# zxcvbn, so creating a user with it can only fail because of the breach check.
BREACHED_PASSWORDS = {
    "Tr0ub4dour&3-breached-pw": 4211,
    "correct horse battery staple": 393,
    "P@ssw0rd-Pwned-2019!": 17,
}

# Passwords whose SHA-1 suffix appears ONLY as a padding row (count 0). HIBP's padding rows
# are not breaches: a client that treats them as hits is wrong.
PADDING_ONLY_PASSWORDS = [
    "Padding-Row-Zero-Count-91xq",
]

PADDING_ROWS_PER_RESPONSE = 6

PREFIX_RE = re.compile(r"^/range/([0-9A-Fa-f]{5})$")


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode("utf-8")).hexdigest().upper()


class State:
    def __init__(self, slow_seconds: float) -> None:
        self.lock = threading.Lock()
        self.breached: dict[str, int] = {}  # full uppercase SHA-1 -> count (> 0)
        self.padding: set[str] = set()  # full uppercase SHA-1 listed with count 0
        self.mode = "ok"
        self.slow_seconds = slow_seconds
        self.log: list[dict] = []
        for pw, count in BREACHED_PASSWORDS.items():
            self.breached[sha1_hex(pw)] = count
        for pw in PADDING_ONLY_PASSWORDS:
            self.padding.add(sha1_hex(pw))

    def range_body(self, prefix: str) -> str:
        prefix = prefix.upper()
        rows: dict[str, int] = {}
        with self.lock:
            for full, count in self.breached.items():
                if full.startswith(prefix):
                    rows[full[5:]] = count
            for full in self.padding:
                if full.startswith(prefix) and full[5:] not in rows:
                    rows[full[5:]] = 0
        # Deterministic filler rows so every answer looks padded.
        for i in range(PADDING_ROWS_PER_RESPONSE):
            filler = hashlib.sha1(f"latch-hibp-padding:{prefix}:{i}".encode()).hexdigest().upper()[5:]
            rows.setdefault(filler, 0)
        return "".join(f"{suffix}:{count}\r\n" for suffix, count in sorted(rows.items()))


class Handler(BaseHTTPRequestHandler):
    server_version = "hibp-stub/1"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, fmt: str, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj), "application/json")

    def _read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        m = PREFIX_RE.match(path)
        if m:
            with self.state.lock:
                self.state.log.append(
                    {"path": self.path, "add_padding": self.headers.get("Add-Padding")}
                )
                mode = self.state.mode
                slow = self.state.slow_seconds
            if mode == "error":
                self._send(503, "Service Unavailable")
                return
            if mode == "garbage":
                self._send(200, "<html>this is not a range answer</html>", "text/html")
                return
            if mode == "slow":
                time.sleep(slow)
            self._send(200, self.state.range_body(m.group(1)))
            return
        if path == "/__log":
            with self.state.lock:
                log = list(self.state.log)
            self._json(200, log)
            return
        if path == "/__health":
            self._send(200, "ok")
            return
        self._send(404, "Not Found")

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        body = self._read_json()
        if not isinstance(body, dict):
            self._json(400, {"error": "body must be a JSON object"})
            return
        if path == "/__breach":
            if isinstance(body.get("password"), str):
                full = sha1_hex(body["password"])
            elif isinstance(body.get("sha1"), str) and re.fullmatch(r"[0-9A-Fa-f]{40}", body["sha1"]):
                full = body["sha1"].upper()
            else:
                self._json(400, {"error": "need password or sha1"})
                return
            count = body.get("count", 1)
            if not isinstance(count, int) or count < 1:
                self._json(400, {"error": "count must be a positive integer"})
                return
            with self.state.lock:
                self.state.breached[full] = count
            self._json(200, {"prefix": full[:5], "suffix": full[5:], "count": count})
            return
        if path == "/__mode":
            mode = body.get("mode")
            if mode not in ("ok", "error", "slow", "garbage"):
                self._json(400, {"error": "mode must be ok, error, slow or garbage"})
                return
            with self.state.lock:
                self.state.mode = mode
            self._json(200, {"mode": mode})
            return
        self._send(404, "Not Found")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", nargs="?", type=int, default=None, help="port (0 = any free port)")
    parser.add_argument("--port", dest="port_opt", type=int, default=None)
    parser.add_argument("--port-file", default=None, help="write the bound port here")
    parser.add_argument("--slow-seconds", type=float, default=10.0)
    args = parser.parse_args()
    port = args.port_opt if args.port_opt is not None else (args.port or 0)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.state = State(args.slow_seconds)  # type: ignore[attr-defined]
    bound = server.server_address[1]
    print(f"PORT {bound}", flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{bound}\n")
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
