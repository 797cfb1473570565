#!/usr/bin/env python3
"""A Latch that answers one thing wrongly, for proving that scripts/smoke-test fails on it.

Forwards every request to a real Latch (--upstream) and answers it unchanged, except:
  --mode refuse-login   POST /v1/passwords/authenticate is refused with 401
                        unauthorized_credentials (Stytch's envelope), whatever the password;
  --mode forged-jwt     the session_jwt of that answer has its signature replaced (it no longer
                        verifies against the JWKS; everything else is the real answer).
Every request's method and path is appended to --log (one "METHOD PATH" line each), so the
caller can check that the smoke test still deleted its user.

    python3 tests/smoke/wrong_server.py --upstream http://127.0.0.1:P --mode refuse-login \
        --port-file F --log L

Binds port 0 on loopback and writes the chosen port to --port-file once listening. Stdlib only.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOGIN = "/v1/passwords/authenticate"


def forge(jwt: str) -> str:
    header, payload, _signature = jwt.split(".")
    other = base64.urlsafe_b64encode(b"\x00" * 256).rstrip(b"=").decode()
    return f"{header}.{payload}.{other}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--mode", required=True, choices=["refuse-login", "forged-jwt"])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    upstream = args.upstream.rstrip("/")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self) -> None:
            with lock, open(args.log, "a") as log:
                log.write(f"{self.command} {self.path}\n")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if args.mode == "refuse-login" and self.command == "POST" and self.path == LOGIN:
                envelope = {
                    "status_code": 401,
                    "request_id": "request-id-test-wrong-server",
                    "error_type": "unauthorized_credentials",
                    "error_message": "Unauthorized credentials.",
                    "error_url": "https://stytch.com/docs/api/errors/401",
                }
                self.answer(401, json.dumps(envelope).encode())
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            req = urllib.request.Request(upstream + self.path, data=body, headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    status, data, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
            except urllib.error.HTTPError as err:
                status, data, ctype = err.code, err.read(), err.headers.get("Content-Type", "")
            if args.mode == "forged-jwt" and self.path == LOGIN and status == 200:
                doc = json.loads(data)
                doc["session_jwt"] = forge(doc["session_jwt"])
                data = json.dumps(doc).encode()
            self.answer(status, data, ctype or "application/json")

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
