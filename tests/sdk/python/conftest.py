"""Fixtures for driving a running Latch server with the official Stytch Python SDK.

The server, and the HIBP stub it talks to, are started by scripts/sdk-tests.sh, which
passes their addresses in the environment:

  LATCH_URL         base URL of Latch, e.g. http://127.0.0.1:38211
  LATCH_PROJECT_ID  project id Latch was started with
  LATCH_SECRET      project secret Latch was started with
  HIBP_STUB_URL     base URL of tests/sdk/hibp_stub.py
  LATCH_OUTBOX_DIR  `<data-dir>/outbox` of that server: one .eml file per message sent
                    (needed only by the reset and magic-link tests)
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class Mail:
    """One message from the outbox, with the two links of a reset email."""

    path: Path
    to: str
    subject: str
    text: str
    reset_link: str
    login_link: str

    @property
    def reset_token(self) -> str:
        return link_token(self.reset_link)

    @property
    def login_token(self) -> str:
        return link_token(self.login_link)


def link_token(link: str) -> str:
    tokens = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("token", [])
    assert len(tokens) == 1 and tokens[0], f"link should carry exactly one non-empty token: {link}"
    return tokens[0]


def link_base(link: str) -> str:
    """The link without its query: the redirect URL it was built on (with no query of its own)."""
    parts = urllib.parse.urlsplit(link)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def link_token_type(link: str) -> str:
    types = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("stytch_token_type", [])
    assert len(types) == 1, f"link should carry exactly one stytch_token_type: {link}"
    return types[0]


class Outbox:
    """Reads the .eml files Latch writes to `<data-dir>/outbox/` (names sort by time)."""

    def __init__(self, path: str) -> None:
        self.dir = Path(path)

    @staticmethod
    def _parse(path: Path) -> email.message.EmailMessage:
        with open(path, "rb") as f:
            return email.message_from_binary_file(f, policy=email.policy.default)

    def messages_to(self, address: str) -> list[Path]:
        """Every message addressed to `address`, oldest first."""
        if not self.dir.is_dir():
            return []
        found = []
        for path in sorted(self.dir.glob("*.eml")):
            to = str(self._parse(path)["To"] or "").strip()
            if to.lower() == address.lower():
                found.append(path)
        return found

    def read(self, path: Path) -> Mail:
        msg = self._parse(path)
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None, f"{path.name} has no text/plain part"
        text = body.get_content()
        lines = [line.strip() for line in text.splitlines()]
        links = {}
        for kind in ("reset_password", "magic_links"):
            hits = [
                line
                for line in lines
                if line.startswith(("http://", "https://")) and f"stytch_token_type={kind}" in line
            ]
            assert len(hits) == 1, f"{path.name}: expected one {kind} link alone on its line, found {hits}\n{text}"
            assert link_token_type(hits[0]) == kind
            links[kind] = hits[0]
        return Mail(
            path=path,
            to=str(msg["To"]).strip(),
            subject=str(msg["Subject"] or ""),
            text=text,
            reset_link=links["reset_password"],
            login_link=links["magic_links"],
        )

    def new_message(self, address: str, before: list[Path], timeout: float = 5.0) -> Mail:
        """The one message to `address` that was not in `before` (waits up to `timeout` s)."""
        deadline = time.monotonic() + timeout
        while True:
            new = [p for p in self.messages_to(address) if p not in before]
            if new or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        assert len(new) == 1, f"expected exactly one new message to {address} in {self.dir}, found {new}"
        return self.read(new[0])


@pytest.fixture(scope="session")
def env() -> Env:
    return Env()


@pytest.fixture(scope="session")
def client(env: Env) -> stytch.Client:
    return env.client()


@pytest.fixture(scope="session")
def hibp(env: Env) -> HibpStub:
    return HibpStub(env.hibp)



@pytest.fixture(scope="session")
def outbox() -> Outbox:
    path = os.environ.get("LATCH_OUTBOX_DIR")
    if not path:
        pytest.fail("missing environment: LATCH_OUTBOX_DIR (run scripts/sdk-tests.sh)", pytrace=False)
    return Outbox(path)
