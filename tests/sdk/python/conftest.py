"""Fixtures for driving a running Latch server with the official Stytch Python SDK.

The server, and the HIBP stub it talks to, are started by scripts/sdk-tests.sh, which
passes their addresses in the environment:

  LATCH_URL         base URL of Latch, e.g. http://127.0.0.1:38211
  LATCH_PROJECT_ID  project id Latch was started with
  LATCH_SECRET      project secret Latch was started with
  HIBP_STUB_URL     base URL of tests/sdk/hibp_stub.py
"""
from __future__ import annotations

import json
import os
import urllib.request

import pytest
import stytch

REQUIRED_ENV = ("LATCH_URL", "LATCH_PROJECT_ID", "LATCH_SECRET", "HIBP_STUB_URL")


class Env:
    def __init__(self) -> None:
        missing = [k for k in REQUIRED_ENV if not os.environ.get(k)]
        if missing:
            pytest.fail(
                "missing environment: " + ", ".join(missing) + " (run scripts/sdk-tests.sh)",
                pytrace=False,
            )
        self.url = os.environ["LATCH_URL"].rstrip("/")
        self.project_id = os.environ["LATCH_PROJECT_ID"]
        self.secret = os.environ["LATCH_SECRET"]
        self.hibp = os.environ["HIBP_STUB_URL"].rstrip("/")

    def client(self, project_id: str | None = None, secret: str | None = None) -> stytch.Client:
        return stytch.Client(
            project_id=project_id or self.project_id,
            secret=secret or self.secret,
            environment=self.url + "/",
            suppress_warnings=True,
        )


class HibpStub:
    def __init__(self, base: str) -> None:
        self.base = base

    def _post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def breach(self, password: str, count: int = 3) -> dict:
        """From now on the stub lists this password as breached."""
        return self._post("/__breach", {"password": password, "count": count})

    def set_mode(self, mode: str) -> None:
        self._post("/__mode", {"mode": mode})

    def log(self) -> list[dict]:
        with urllib.request.urlopen(self.base + "/__log", timeout=10) as resp:
            return json.loads(resp.read())


@pytest.fixture(scope="session")
def env() -> Env:
    return Env()


@pytest.fixture(scope="session")
def client(env: Env) -> stytch.Client:
    return env.client()


@pytest.fixture(scope="session")
def hibp(env: Env) -> HibpStub:
    return HibpStub(env.hibp)

