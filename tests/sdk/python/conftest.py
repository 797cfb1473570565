"""Fixtures for driving a running Latch server with the official Stytch Python SDK.

The server, and the HIBP stub it talks to, are started by scripts/sdk-tests.sh, which
passes their addresses in the environment:

  LATCH_URL         base URL of Latch, e.g. http://127.0.0.1:38211
  LATCH_PROJECT_ID  project id Latch was started with
  LATCH_SECRET      project secret Latch was started with
  HIBP_STUB_URL     base URL of tests/src/hibp_stub.rs
  LATCH_MAIL_SOURCE where the reset and magic-link tests (consumer and B2B) read the mail Latch sent:
                    `outbox` (default) or `ses`
  LATCH_OUTBOX_DIR  `<data-dir>/outbox` of that server: one .eml file per message sent
                    (LATCH_MAIL_SOURCE=outbox)
  AWS_ENDPOINT_URL  base URL of the moto server that Latch sends through with LATCH_MAILER=ses;
                    sent mail is read back from its `/moto-api/latch/ses.json` (LATCH_MAIL_SOURCE=ses; scripts/moto_serial.py)
"""
from __future__ import annotations

import email
import email.policy
import html
import html.parser
import json
import os
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import stytch
from stytch.core.response_base import StytchError

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

    def b2b_client(self, project_id: str | None = None, secret: str | None = None) -> stytch.B2BClient:
        return stytch.B2BClient(
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
    """One message Latch sent, with the two links of a reset email."""

    ref: str  # where it came from: the .eml file name, or the SES message id
    to: str
    subject: str
    text: str  # the text/plain part (outbox) or the HTML body (SES)
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


@dataclass
class LinkMail:
    """One message Latch sent, with every link that carries a `stytch_token_type`, grouped by that
    type (B2B mail: `multi_tenant_magic_links`, `multi_tenant_passwords`)."""

    ref: str
    to: str
    subject: str
    text: str
    links: dict[str, list[str]]

    def link(self, kind: str) -> str:
        hits = self.links.get(kind, [])
        assert len(hits) == 1, f"{self.ref}: expected one {kind} link, found {self.links}\n{self.text}"
        return hits[0]

    def token(self, kind: str) -> str:
        return link_token(self.link(kind))


def group_links(candidates: list[str]) -> dict[str, list[str]]:
    """Every http(s) link among `candidates` that carries exactly one stytch_token_type, by type."""
    grouped: dict[str, list[str]] = {}
    for link in candidates:
        if not link.startswith(("http://", "https://")) or "stytch_token_type=" not in link:
            continue
        grouped.setdefault(link_token_type(link), []).append(link)
    return grouped


@dataclass
class RawMail:
    """One message as a MailSource loads it, before its links are picked: `candidates` are where
    its links stand (the text part's lines, or the HTML body's hrefs); `label` names it in
    assertion messages."""

    label: str
    to: str
    subject: str
    text: str
    candidates: list[str]


class MailSource:
    """Where the suites read the mail Latch sent. `messages_to` returns opaque references,
    oldest first, that `read` (a consumer reset email) or `read_links` (any message) turns into
    a `Mail` / `LinkMail`; both build on `_load`, the one part each source implements."""

    where = ""

    def messages_to(self, address: str) -> list[str]:
        raise NotImplementedError

    def _load(self, ref: str) -> RawMail:
        raise NotImplementedError

    def read(self, ref: str) -> Mail:
        raw = self._load(ref)
        links = pick_links(raw.label, raw.candidates, raw.text)
        return Mail(
            ref=ref,
            to=raw.to,
            subject=raw.subject,
            text=raw.text,
            reset_link=links["reset_password"],
            login_link=links["magic_links"],
        )

    def read_links(self, ref: str) -> LinkMail:
        raw = self._load(ref)
        return LinkMail(
            ref=ref, to=raw.to, subject=raw.subject, text=raw.text, links=group_links(raw.candidates)
        )

    def _new_ref(self, address: str, before: list[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            new = [r for r in self.messages_to(address) if r not in before]
            if new or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        assert len(new) == 1, f"expected exactly one new message to {address} in {self.where}, found {new}"
        return new[0]

    def new_message(self, address: str, before: list[str], timeout: float = 5.0) -> Mail:
        """The one message to `address` that was not in `before` (waits up to `timeout` s)."""
        return self.read(self._new_ref(address, before, timeout))

    def new_link_message(self, address: str, before: list[str], timeout: float = 5.0) -> LinkMail:
        """As `new_message`, for any message: its links grouped by stytch_token_type."""
        return self.read_links(self._new_ref(address, before, timeout))


def pick_links(ref: str, candidates: list[str], text: str) -> dict[str, str]:
    """The reset_password and magic_links links among `candidates` (exactly one of each)."""
    links = {}
    for kind in ("reset_password", "magic_links"):
        hits = [
            link
            for link in candidates
            if link.startswith(("http://", "https://")) and f"stytch_token_type={kind}" in link
        ]
        assert len(hits) == 1, f"{ref}: expected one {kind} link, found {hits}\n{text}"
        assert link_token_type(hits[0]) == kind
        links[kind] = hits[0]
    return links


class Outbox(MailSource):
    """Reads the .eml files Latch writes to `<data-dir>/outbox/` (names sort by time)."""

    def __init__(self, path: str) -> None:
        self.dir = Path(path)
        self.where = str(self.dir)

    def _parse(self, name: str) -> email.message.EmailMessage:
        with open(self.dir / name, "rb") as f:
            return email.message_from_binary_file(f, policy=email.policy.default)

    def messages_to(self, address: str) -> list[str]:
        """Every message file addressed to `address`, oldest first."""
        if not self.dir.is_dir():
            return []
        found = []
        for path in sorted(self.dir.glob("*.eml")):
            to = str(self._parse(path.name)["To"] or "").strip()
            if to.lower() == address.lower():
                found.append(path.name)
        return found

    def _load(self, ref: str) -> RawMail:
        msg = self._parse(ref)
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None, f"{ref} has no text/plain part"
        text = body.get_content()
        return RawMail(
            label=ref,
            to=str(msg["To"]).strip(),
            subject=str(msg["Subject"] or ""),
            text=text,
            # In the text part each link stands alone on its line.
            candidates=[line.strip() for line in text.splitlines()],
        )


class _Hrefs(html.parser.HTMLParser):
    """Collects every href attribute (HTMLParser unescapes `&amp;` and other references)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def html_hrefs(body: str) -> list[str]:
    parser = _Hrefs()
    parser.feed(body)
    parser.close()
    return parser.hrefs


class SesMailbox(MailSource):
    """Reads the mail Latch sent through moto's SES (LATCH_MAILER=ses) from moto's
    `/moto-api/latch/ses.json` (scripts/moto_serial.py): `data["ses"]["Message"]`, in send order. moto keeps the HTML part
    only, so the links are taken from its `href` attributes."""

    def __init__(self, endpoint: str) -> None:
        self.url = endpoint.rstrip("/") + "/moto-api/latch/ses.json"
        self.where = self.url
        self._seen: dict[str, dict] = {}

    def _all(self) -> list[dict]:
        # Under load moto sometimes answers with an HTML error page: retry a few times.
        last = None
        for _ in range(10):
            try:
                with urllib.request.urlopen(self.url, timeout=10) as resp:
                    data = json.loads(resp.read())
                break
            except (OSError, ValueError) as e:
                last = e
                time.sleep(0.1)
        else:
            raise AssertionError(f"could not read {self.url}: {last!r}")
        messages = (data.get("ses") or {}).get("Message") or []
        for m in messages:
            self._seen[m["id"]] = m
        return messages

    @staticmethod
    def _to(m: dict) -> list[str]:
        return list((m.get("destinations") or {}).get("ToAddresses") or [])

    def messages_to(self, address: str) -> list[str]:
        """Ids of every message whose ToAddresses holds `address`, oldest first."""
        return [m["id"] for m in self._all() if address.lower() in (a.lower() for a in self._to(m))]

    def _load(self, ref: str) -> RawMail:
        m = self._seen[ref]
        body = m.get("body") or ""
        assert body, f"SES message {ref} has no body: {m!r}"
        to = self._to(m)
        return RawMail(
            label=f"SES message {ref}",
            # More than one recipient shows up as a list, so `mail.to == address` fails.
            to=to[0] if len(to) == 1 else repr(to),
            subject=str(m.get("subject") or ""),
            text=body,
            candidates=html_hrefs(body),
        )


@pytest.fixture(scope="session")
def env() -> Env:
    return Env()


@pytest.fixture(scope="session")
def client(env: Env) -> stytch.Client:
    return env.client()


@pytest.fixture(scope="session")
def b2b(env: Env) -> stytch.B2BClient:
    """The B2B client (`stytch.B2BClient`), on the same project."""
    return env.b2b_client()


@pytest.fixture(scope="session")
def hibp(env: Env) -> HibpStub:
    return HibpStub(env.hibp)


@pytest.fixture(scope="session")
def mailbox() -> MailSource:
    """The mail Latch sent: its outbox directory, or moto's SES when LATCH_MAIL_SOURCE=ses."""
    source = os.environ.get("LATCH_MAIL_SOURCE") or "outbox"
    if source == "ses":
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            pytest.fail("LATCH_MAIL_SOURCE=ses needs AWS_ENDPOINT_URL (the moto server)", pytrace=False)
        return SesMailbox(endpoint)
    if source != "outbox":
        pytest.fail(f"LATCH_MAIL_SOURCE must be outbox or ses, not {source!r}", pytrace=False)
    path = os.environ.get("LATCH_OUTBOX_DIR")
    if not path:
        pytest.fail("missing environment: LATCH_OUTBOX_DIR (run scripts/sdk-tests.sh)", pytrace=False)
    return Outbox(path)


# ------------------------------------------------------------------ shared assertions


def expect_error(call, error_type: str, status: int, hint=None) -> StytchError:
    """Run `call`, require a StytchError with this error_type, this status and a full Stytch
    envelope. `hint`, a function returning text, explains an unexpected success."""
    try:
        resp = call()
    except StytchError as e:
        err = e
    else:
        extra = f" [{hint()}]" if hint else ""
        pytest.fail(f"expected {error_type} ({status}), but the call succeeded{extra}: {resp!r}"[:2000])
    d = err.details
    assert d.error_type == error_type, f"expected {error_type}, got {d!r}"
    assert d.status_code == status, f"expected status {status}, got {d!r}"
    assert d.request_id, f"error envelope has an empty request_id: {d!r}"
    assert d.error_message, f"error envelope has an empty error_message: {d!r}"
    body = d.original_json or {}
    assert body.get("status_code") == status, f"envelope status_code differs from HTTP status: {body!r}"
    assert isinstance(body.get("error_url"), str) and body["error_url"], f"error envelope lacks error_url: {body!r}"
    return err


def assert_meta(resp) -> None:
    """Every success body carries status_code and request_id (docs/reference/stytch-api.md §0.4)."""
    assert resp.status_code == 200
    assert isinstance(resp.request_id, str) and resp.request_id


def assert_weak_strength(resp) -> None:
    """A strength check (consumer or B2B) of a weak password: invalid, zxcvbn score below 3."""
    assert_meta(resp)
    assert resp.valid_password is False
    assert 0 <= resp.score < 3
    assert resp.strength_policy == "zxcvbn"
    assert resp.breach_detection_on_create is True


def assert_member_logged_in(resp, member_id: str) -> None:
    """A B2B primary-auth response that logged `member_id` in: a session, no IST, no MFA step."""
    assert_meta(resp)
    assert resp.member_authenticated is True
    assert resp.member_id == member_id
    assert resp.session_token and resp.session_jwt
    assert resp.intermediate_session_token == ""
    assert resp.mfa_required is None
