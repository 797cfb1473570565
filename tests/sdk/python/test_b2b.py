"""Latch's B2B half driven by the official Stytch Python SDK's `stytch.B2BClient`.

Contract: docs/b2b.md, and docs/reference/stytch-api.md §5 B1-B21 (B11 migrate excepted), §6,
§7, §8, §14.

Every success body is parsed by the SDK's pydantic models (`Organization`, `Member`,
`MemberSession`, `MfaRequired`, ...); a `pydantic.ValidationError` escaping a call means Latch
sent a body the real SDK cannot read, and the test fails with it. Error cases catch
`stytch.core.response_base.StytchError` and check the envelope.

Flows: seed 004 (email JIT signup by magic link -> password set by session reset -> password
login -> reset by email) and seed 002's MFA step with TOTP (org `REQUIRED_FOR_ALL`: password ->
intermediate session -> TOTP registration -> RFC 6238 code -> member session, its JWT verified
locally with the organization claim); recovery codes (recover, get, rotate) and sessions.exchange.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import struct
import time
import urllib.request
import uuid

import jwt as pyjwt
import pytest
import requests
import stytch
from conftest import assert_member_logged_in, assert_meta, assert_weak_strength, expect_error, link_base

BREACHED_AT_START = "Tr0ub4dour&3-breached-pw"  # listed by tests/src/hibp_stub.rs
WEAK_PASSWORD = "password"
SESSION_CLAIM = "https://stytch.com/session"
ORG_CLAIM = "https://stytch.com/organization"
ML = "multi_tenant_magic_links"
PW = "multi_tenant_passwords"

# Redirect URLs: Stytch's test default, plus the two app URLs scripts/sdk-tests.sh allow-lists.
DEFAULT_REDIRECT_URL = "http://localhost:3000/authenticate"
APP_RESET_URL = "http://localhost:3000/reset-password"
APP_LOGIN_URL = "http://localhost:3000/login"


# ---------------------------------------------------------------------------- helpers


def uid() -> str:
    return uuid.uuid4().hex[:12]


def unique_email(domain: str = "example.com") -> str:
    return f"sdk-py-b2b-{uuid.uuid4().hex[:16]}@{domain}"


def strong_password() -> str:
    return f"Latch-{uuid.uuid4().hex[:20]}-B2b!"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def assert_near(when: dt.datetime | None, minutes: float, what: str, slack: float = 120) -> None:
    assert when is not None, f"{what} is missing"
    remaining = (when - now_utc()).total_seconds()
    assert abs(remaining - minutes * 60) < slack, f"{what} should be ~{minutes} min from now, is {when}"


def new_org(b2b, **kwargs):
    """organizations.create with a unique name and slug (overridable); returns the Organization."""
    tag = uid()
    kwargs.setdefault("organization_name", f"SDK py B2B {tag}")
    kwargs.setdefault("organization_slug", f"sdk-py-{tag}")
    resp = b2b.organizations.create(**kwargs)
    assert_meta(resp)
    org = resp.organization
    assert org.organization_id.startswith("organization-"), org.organization_id
    assert org.organization_slug == kwargs["organization_slug"]
    assert org.organization_name == kwargs["organization_name"]
    return org


def assert_member(member, *, org, email: str, member_id: str | None = None, status: str = "active") -> None:
    assert member.organization_id == org.organization_id
    if member_id is not None:
        assert member.member_id == member_id
    assert member.member_id.startswith("member-"), member.member_id
    assert member.email_address == email
    assert member.status == status
    assert member.is_locked is False
    assert isinstance(member.roles, list)


def assert_member_session(ms, *, member_id: str, org, minutes: float = 60, factors: list[str] | None = None) -> None:
    assert ms is not None, "member_session must be set"
    assert ms.member_session_id
    assert ms.member_id == member_id
    assert ms.organization_id == org.organization_id
    assert ms.organization_slug == org.organization_slug
    assert ms.roles == ["stytch_member"], ms.roles
    assert ms.started_at is not None and ms.last_accessed_at is not None
    assert_near(ms.expires_at, minutes, "member_session.expires_at")
    types = [f.type for f in ms.authentication_factors]
    if factors is not None:
        assert sorted(types) == sorted(factors), f"factors {ms.authentication_factors!r}, expected {factors}"
    for f in ms.authentication_factors:
        if f.type == "password":
            assert f.delivery_method == "knowledge"
        elif f.type == "magic_link":
            assert f.delivery_method == "email"
            assert f.email_factor is not None and f.email_factor.email_id and f.email_factor.email_address
        elif f.type == "totp":
            assert f.delivery_method == "authenticator_app"
            assert f.authenticator_app_factor is not None and f.authenticator_app_factor.totp_id


def assert_authenticated(resp, *, member_id: str, org, minutes: float = 60, factors=None) -> None:
    """A primary-auth response that started (or kept) a member session."""
    assert_member_logged_in(resp, member_id)
    assert resp.organization.organization_id == org.organization_id
    assert resp.member.member_id == member_id
    assert_member_session(resp.member_session, member_id=member_id, org=org, minutes=minutes, factors=factors)


def assert_mfa_required(resp, *, member_id: str, org, totp_registration_id: str = "") -> str:
    """A primary-auth response that stopped at MFA (docs/b2b.md "The MFA rule" 2); returns the IST."""
    assert_meta(resp)
    assert resp.member_authenticated is False
    assert resp.member_id == member_id
    assert resp.member_session is None
    assert resp.session_token == "" and resp.session_jwt == ""
    assert resp.intermediate_session_token, "an intermediate session token is expected"
    assert_near(resp.intermediate_session_token_expires_at, 10, "intermediate_session_token_expires_at")
    assert resp.mfa_required is not None
    assert resp.mfa_required.secondary_auth_initiated is None
    opts = resp.mfa_required.member_options
    assert opts is not None
    assert opts.mfa_phone_number == ""
    assert opts.totp_registration_id == totp_registration_id
    assert resp.organization.organization_id == org.organization_id
    return resp.intermediate_session_token


def jwt_parts(token: str) -> tuple[dict, dict]:
    assert token.count(".") == 2, f"not a compact JWS: {token!r}"
    return pyjwt.get_unverified_header(token), pyjwt.decode(token, options={"verify_signature": False})


def assert_jwt_verifies_locally(b2b, env, session_jwt: str, *, member_id: str, org, session_id: str, factors):
    """The SDK's local verifier accepts the JWT against Latch's B2B JWKS; the claims match."""
    header, claims = jwt_parts(session_jwt)
    assert header["alg"] == "RS256" and header.get("typ") == "JWT" and header.get("kid")
    assert claims["iss"] == f"stytch.com/{env.project_id}"
    assert claims["aud"] == [env.project_id]
    assert claims["sub"] == member_id
    assert claims["exp"] - claims["iat"] == 300
    assert claims[ORG_CLAIM] == {"organization_id": org.organization_id, "slug": org.organization_slug}
    assert claims[SESSION_CLAIM]["id"] == session_id
    local = b2b.sessions.authenticate_jwt_local(session_jwt=session_jwt)
    assert local is not None, "the SDK could not verify Latch's B2B JWT against Latch's B2B JWKS"
    assert local.member_session_id == session_id
    assert local.member_id == member_id
    assert local.organization_id == org.organization_id
    assert local.organization_slug == org.organization_slug
    assert local.roles == ["stytch_member"]
    assert sorted(f.type for f in local.authentication_factors) == sorted(factors)
    return local


def start_reset(b2b, mailbox, org, email: str, **kwargs):
    before = mailbox.messages_to(email)
    resp = b2b.passwords.email.reset_start(organization_id=org.organization_id, email_address=email, **kwargs)
    return resp, mailbox.new_link_message(email, before)


def login_or_signup(b2b, mailbox, org, email: str, **kwargs):
    before = mailbox.messages_to(email)
    resp = b2b.magic_links.email.login_or_signup(organization_id=org.organization_id, email_address=email, **kwargs)
    return resp, mailbox.new_link_message(email, before)


def member_with_password(b2b, mailbox, org, email: str | None = None):
    """A member of `org` (members.create) whose password is set by the emailed reset link.
    Returns (email, password, member_id, the email.reset response)."""
    email = email or unique_email()
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email)
    _, mail = start_reset(b2b, mailbox, org, email)
    password = strong_password()
    reset = b2b.passwords.email.reset(password_reset_token=mail.token(PW), password=password)
    assert_meta(reset)
    return email, password, created.member_id, reset


def assert_session_gone(b2b, token: str) -> None:
    expect_error(lambda: b2b.sessions.authenticate(session_token=token), "session_not_found", 404)


# RFC 6238 (TOTP: HMAC-SHA-1, 6 digits, 30-second steps) from the base32 secret, stdlib only.


def totp_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // 30)


def totp_code(secret: str, step: int) -> str:
    s = secret.strip().replace(" ", "").upper()
    key = base64.b32decode(s + "=" * (-len(s) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def register_totp_with_ist(b2b, org, member_id: str, ist: str):
    """B20 create then B21 authenticate with the current code, both under the IST `ist`: the MFA
    step that turns an intermediate session into a member session. Returns the authenticate
    response."""
    reg = b2b.totps.create(organization_id=org.organization_id, member_id=member_id, intermediate_session_token=ist)
    return b2b.totps.authenticate(
        organization_id=org.organization_id, member_id=member_id, code=totp_code(reg.secret, totp_step()),
        intermediate_session_token=ist,
    )


def test_totp_code_matches_rfc6238_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits) -> 287082 (6 digits).
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_code(secret, 59 // 30) == "287082"


def wrong_code(secret: str) -> str:
    near = {totp_code(secret, totp_step() + d) for d in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 111_111)) if c not in near)


# ---------------------------------------------------------------------------- B1-B4 organizations


def test_organization_create_defaults_get_update_delete(b2b):
    org = new_org(b2b)
    # Defaults (docs/b2b.md "Organizations"): no auth setting sent, so email_invites ALL_ALLOWED.
    assert org.email_jit_provisioning == "NOT_ALLOWED"
    assert org.sso_jit_provisioning == "ALL_ALLOWED"
    assert org.auth_methods == "ALL_ALLOWED"
    assert org.mfa_policy == "OPTIONAL"
    assert org.mfa_methods == "ALL_ALLOWED"
    assert org.email_invites == "ALL_ALLOWED"
    assert org.email_allowed_domains == []
    assert org.organization_logo_url == ""

    for key in (org.organization_id, org.organization_slug):
        got = b2b.organizations.get(organization_id=key)
        assert_meta(got)
        assert got.organization.organization_id == org.organization_id
        assert got.organization.organization_slug == org.organization_slug

    new_name = org.organization_name + " renamed"
    upd = b2b.organizations.update(
        organization_id=org.organization_id,
        organization_name=new_name,
        mfa_policy="REQUIRED_FOR_ALL",
        email_allowed_domains=["Example.COM"],
    )
    assert_meta(upd)
    o = upd.organization
    assert o.organization_name == new_name
    assert o.mfa_policy == "REQUIRED_FOR_ALL"
    assert o.email_allowed_domains == ["example.com"], "allowed domains are lower-cased"
    # Update replaces only the fields it is sent.
    assert o.organization_slug == org.organization_slug
    assert o.email_jit_provisioning == "NOT_ALLOWED"
    assert o.auth_methods == "ALL_ALLOWED"
    assert b2b.organizations.get(organization_id=org.organization_id).organization.organization_name == new_name

    member = b2b.organizations.members.create(organization_id=org.organization_id, email_address=unique_email())
    deleted = b2b.organizations.delete(organization_id=org.organization_id)
    assert_meta(deleted)
    assert deleted.organization_id == org.organization_id
    expect_error(lambda: b2b.organizations.get(organization_id=org.organization_id), "organization_not_found", 404)
    expect_error(
        lambda: b2b.organizations.members.get(organization_id=org.organization_id, member_id=member.member_id),
        "organization_not_found",
        404,
    )
    expect_error(lambda: b2b.organizations.delete(organization_id=org.organization_id), "organization_not_found", 404)


def test_organization_settings_and_slug_from_name(b2b):
    tag = uid()
    resp = b2b.organizations.create(
        organization_name=f"Acme Widgets {tag}",
        email_jit_provisioning="RESTRICTED",
        email_allowed_domains=["example.com"],
    )
    assert_meta(resp)
    org = resp.organization
    assert org.organization_slug == f"acme-widgets-{tag}"
    assert org.email_jit_provisioning == "RESTRICTED"
    assert org.email_allowed_domains == ["example.com"]
    assert org.email_invites == "NOT_ALLOWED", "an auth setting was sent, so email_invites defaults to NOT_ALLOWED"


def test_organization_errors(b2b):
    org = new_org(b2b)
    expect_error(
        lambda: b2b.organizations.create(organization_name="dup", organization_slug=org.organization_slug),
        "organization_slug_already_used",
        400,
    )
    expect_error(
        lambda: b2b.organizations.create(organization_name="bad slug", organization_slug="no spaces allowed"),
        "invalid_organization_slug",
        400,
    )
    expect_error(
        lambda: b2b.organizations.create(organization_name="x" * 129, organization_slug=f"sdk-py-{uid()}"),
        "invalid_organization_name",
        400,
    )
    expect_error(
        lambda: b2b.organizations.update(organization_id=org.organization_id, mfa_policy="SOMETIMES"),
        "bad_request",
        400,
    )
    expect_error(
        lambda: b2b.organizations.get(organization_id="organization-test-" + str(uuid.uuid4())),
        "organization_not_found",
        404,
    )


# ---------------------------------------------------------------------------- B5-B6 members


def test_members_create_and_get(b2b):
    org = new_org(b2b)
    email = unique_email()
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email, name="Bob")
    assert_meta(created)
    assert created.member_id.startswith("member-test-"), created.member_id
    assert_member(created.member, org=org, email=email, member_id=created.member_id)
    assert created.member.name == "Bob"
    assert created.member.totp_registration_id == ""
    assert created.member.member_password_id == ""
    assert created.member.mfa_enrolled is False
    assert created.organization.organization_id == org.organization_id

    pending_email = unique_email()
    pending = b2b.organizations.members.create(
        organization_id=org.organization_id, email_address=pending_email, create_member_as_pending=True
    )
    assert_member(pending.member, org=org, email=pending_email, status="pending")

    by_id = b2b.organizations.members.get(organization_id=org.organization_id, member_id=created.member_id)
    assert_meta(by_id)
    assert by_id.member_id == created.member_id
    assert_member(by_id.member, org=org, email=email, member_id=created.member_id)
    by_email = b2b.organizations.members.get(organization_id=org.organization_slug, email_address=email)
    assert by_email.member_id == created.member_id
    assert by_email.organization.organization_id == org.organization_id

    expect_error(
        lambda: b2b.organizations.members.create(organization_id=org.organization_id, email_address=email),
        "duplicate_member_email",
        400,
    )
    expect_error(
        lambda: b2b.organizations.members.get(organization_id=org.organization_id),
        "invalid_member_get_fields",
        400,
    )
    expect_error(
        lambda: b2b.organizations.members.get(
            organization_id=org.organization_id, member_id=created.member_id, email_address=email
        ),
        "invalid_member_get_fields",
        400,
    )
    expect_error(
        lambda: b2b.organizations.members.get(organization_id=org.organization_id, email_address=unique_email()),
        "member_not_found",
        404,
    )
    # The same email in another organization is another member.
    other = new_org(b2b)
    again = b2b.organizations.members.create(organization_id=other.organization_id, email_address=email)
    assert again.member_id != created.member_id
    assert_member(again.member, org=other, email=email)


# ---------------------------------------------------------------------------- seed 004: JIT signup to reset


def test_seed_004_jit_signup_session_reset_password_login_and_email_reset(b2b, env, mailbox):
    org = new_org(b2b, email_jit_provisioning="RESTRICTED", email_allowed_domains=["example.com"])
    assert org.email_jit_provisioning == "RESTRICTED"
    email = unique_email()

    # 1. login_or_signup with a new address of an allowed domain: JIT, member pending, signup mail.
    signup, mail = login_or_signup(b2b, mailbox, org, email)
    assert_meta(signup)
    assert signup.member_created is True
    assert_member(signup.member, org=org, email=email, member_id=signup.member_id, status="pending")
    assert signup.organization.organization_id == org.organization_id
    assert mail.to == email
    assert list(mail.links) == [ML], f"a signup email carries one magic link: {mail.links}"
    assert mail.link(ML).startswith(f"{DEFAULT_REDIRECT_URL}?stytch_token_type={ML}&token="), mail.link(ML)

    # 2. The signup link authenticates: member active with a verified email, 60-minute session.
    auth = b2b.magic_links.authenticate(magic_links_token=mail.token(ML))
    assert_authenticated(auth, member_id=signup.member_id, org=org, factors=["magic_link"])
    assert auth.organization_id == org.organization_id
    assert isinstance(auth.reset_sessions, bool)
    assert_member(auth.member, org=org, email=email, member_id=signup.member_id, status="active")
    assert auth.member.email_address_verified is True
    factor = auth.member_session.authentication_factors[0]
    assert factor.email_factor.email_address == email
    assert auth.method_id == factor.email_factor.email_id
    assert_jwt_verifies_locally(
        b2b, env, auth.session_jwt, member_id=signup.member_id, org=org,
        session_id=auth.member_session.member_session_id, factors=["magic_link"],
    )
    expect_error(lambda: b2b.magic_links.authenticate(magic_links_token=mail.token(ML)), "unable_to_auth_magic_link", 401)

    # 3. The fresh session sets the first password; it survives the reset.
    password = strong_password()
    reset = b2b.passwords.sessions.reset(
        organization_id=org.organization_id, password=password, session_token=auth.session_token
    )
    assert_meta(reset)
    assert reset.member_authenticated is True
    assert reset.member_id == signup.member_id
    assert reset.member.member_password_id, "the member has a password now"
    assert reset.member_session is not None
    assert reset.member_session.member_session_id == auth.member_session.member_session_id
    assert reset.session_jwt
    still = b2b.sessions.authenticate(session_token=auth.session_token)
    assert_meta(still)
    assert still.member_session.member_session_id == auth.member_session.member_session_id
    assert still.session_token == auth.session_token
    assert still.member.member_id == signup.member_id
    assert still.organization.organization_id == org.organization_id

    # 4. Password login.
    login = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    assert_authenticated(login, member_id=signup.member_id, org=org, factors=["password"])
    assert login.organization_id == org.organization_id
    sessions = b2b.sessions.get(organization_id=org.organization_id, member_id=signup.member_id)
    assert_meta(sessions)
    assert sorted(s.member_session_id for s in sessions.member_sessions) == sorted(
        [auth.member_session.member_session_id, login.member_session.member_session_id]
    )

    # 5. Reset by email: a reset link and a "log in without a password" link.
    started, reset_mail = start_reset(b2b, mailbox, org, email, reset_password_expiration_minutes=10)
    assert_meta(started)
    assert started.member_id == signup.member_id
    assert started.member_email_id == auth.method_id
    assert_member(started.member, org=org, email=email, member_id=signup.member_id)
    assert sorted(reset_mail.links) == sorted([ML, PW]), reset_mail.links
    assert reset_mail.token(ML) != reset_mail.token(PW)
    new_password = strong_password()
    done = b2b.passwords.email.reset(
        password_reset_token=reset_mail.token(PW), password=new_password, session_duration_minutes=30
    )
    assert_authenticated(done, member_id=signup.member_id, org=org, minutes=30)
    assert done.member_email_id == started.member_email_id
    assert done.organization_id == org.organization_id
    # Every earlier session of the member is revoked.
    assert_session_gone(b2b, auth.session_token)
    assert_session_gone(b2b, login.session_token)
    listed = b2b.sessions.get(organization_id=org.organization_id, member_id=signup.member_id).member_sessions
    assert [s.member_session_id for s in listed] == [done.member_session.member_session_id]
    expect_error(
        lambda: b2b.passwords.email.reset(password_reset_token=reset_mail.token(PW), password=strong_password()),
        "unable_to_auth_password_reset_token",
        401,
    )

    # 6. The new password logs in, the old one does not.
    again = b2b.passwords.authenticate(
        organization_id=org.organization_slug, email_address=email, password=new_password, session_duration_minutes=15
    )
    assert_authenticated(again, member_id=signup.member_id, org=org, minutes=15, factors=["password"])
    expect_error(
        lambda: b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password),
        "unauthorized_credentials",
        401,
    )

    # 7. The reset email's magic link died with the password change (docs/security.md R7); the
    #    magic link of a mail sent after it logs in.
    expect_error(
        lambda: b2b.magic_links.authenticate(magic_links_token=reset_mail.token(ML)), "unable_to_auth_magic_link", 401
    )
    _, later_mail = start_reset(b2b, mailbox, org, email)
    ml = b2b.magic_links.authenticate(magic_links_token=later_mail.token(ML), session_duration_minutes=20)
    assert_authenticated(ml, member_id=signup.member_id, org=org, minutes=20, factors=["magic_link"])


def test_login_or_signup_existing_member_gets_a_login_email(b2b, mailbox):
    org = new_org(b2b)  # email_jit_provisioning NOT_ALLOWED: only existing members get a link
    email = unique_email()
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email)
    resp, mail = login_or_signup(b2b, mailbox, org, email, login_redirect_url=APP_LOGIN_URL)
    assert_meta(resp)
    assert resp.member_created is False
    assert resp.member_id == created.member_id
    assert_member(resp.member, org=org, email=email, member_id=created.member_id)
    assert list(mail.links) == [ML], mail.links
    assert link_base(mail.link(ML)) == APP_LOGIN_URL, mail.link(ML)
    auth = b2b.magic_links.authenticate(magic_links_token=mail.token(ML), session_duration_minutes=45)
    assert_authenticated(auth, member_id=created.member_id, org=org, minutes=45, factors=["magic_link"])


def test_login_or_signup_signup_redirect_url(b2b, mailbox):
    org = new_org(b2b, email_jit_provisioning="RESTRICTED", email_allowed_domains=["example.com"])
    email = unique_email()
    resp, mail = login_or_signup(b2b, mailbox, org, email, signup_redirect_url=APP_RESET_URL)
    assert resp.member_created is True
    assert link_base(mail.link(ML)) == APP_RESET_URL, mail.link(ML)


def test_login_or_signup_jit_refusals(b2b, mailbox):
    closed = new_org(b2b)  # NOT_ALLOWED
    email = unique_email()
    expect_error(
        lambda: b2b.magic_links.email.login_or_signup(organization_id=closed.organization_id, email_address=email),
        "email_jit_provisioning_not_allowed",
        403,
    )
    restricted = new_org(b2b, email_jit_provisioning="RESTRICTED", email_allowed_domains=["example.com"])
    other_domain = unique_email("example.org")
    expect_error(
        lambda: b2b.magic_links.email.login_or_signup(
            organization_id=restricted.organization_id, email_address=other_domain
        ),
        "invalid_email_for_jit_provisioning",
        403,
    )
    assert mailbox.messages_to(email) == [] and mailbox.messages_to(other_domain) == []
    expect_error(
        lambda: b2b.organizations.members.get(organization_id=restricted.organization_id, email_address=other_domain),
        "member_not_found",
        404,
    )


def test_magic_link_unknown_token(b2b):
    expect_error(
        lambda: b2b.magic_links.authenticate(magic_links_token="no-such-token-" + uuid.uuid4().hex),
        "unable_to_auth_magic_link",
        401,
    )


# ---------------------------------------------------------------------------- B9-B15 passwords


def test_strength_check(b2b):
    weak = b2b.passwords.strength_check(password=WEAK_PASSWORD)
    assert_weak_strength(weak)
    assert weak.zxcvbn_feedback is not None
    assert weak.zxcvbn_feedback.warning and weak.zxcvbn_feedback.suggestions

    strong = b2b.passwords.strength_check(password=strong_password())
    assert strong.valid_password is True
    assert 3 <= strong.score <= 4
    assert strong.breached_password is False

    breached = b2b.passwords.strength_check(password=BREACHED_AT_START, email_address=unique_email())
    assert breached.breached_password is True
    assert breached.valid_password is False


def test_password_authenticate_errors(b2b, mailbox):
    org = new_org(b2b)
    email, password, member_id, _ = member_with_password(b2b, mailbox, org)
    expect_error(
        lambda: b2b.passwords.authenticate(
            organization_id=org.organization_id, email_address=email, password=password + "x"
        ),
        "unauthorized_credentials",
        401,
    )
    expect_error(
        lambda: b2b.passwords.authenticate(
            organization_id=org.organization_id, email_address=unique_email(), password=password
        ),
        "member_not_found",
        404,
    )
    expect_error(
        lambda: b2b.passwords.email.reset_start(organization_id=org.organization_id, email_address=unique_email()),
        "member_not_found",
        404,
    )
    # The refusals changed nothing.
    ok = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    assert_authenticated(ok, member_id=member_id, org=org, factors=["password"])


def test_password_breached_after_it_was_set_requires_reset(b2b, mailbox, hibp):
    org = new_org(b2b)
    email, password, member_id, reset = member_with_password(b2b, mailbox, org)
    hibp.breach(password)
    expect_error(
        lambda: b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password),
        "member_reset_password",
        401,
    )
    # No session was started by the refused login: only the reset's own session exists.
    listed = b2b.sessions.get(organization_id=org.organization_id, member_id=member_id).member_sessions
    assert [s.member_session_id for s in listed] == [reset.member_session.member_session_id]


def test_email_reset_verifies_and_activates_a_pending_member(b2b, mailbox):
    org = new_org(b2b)
    email = unique_email()
    created = b2b.organizations.members.create(
        organization_id=org.organization_id, email_address=email, create_member_as_pending=True
    )
    _, mail = start_reset(b2b, mailbox, org, email, reset_password_redirect_url=APP_RESET_URL, login_redirect_url=APP_LOGIN_URL)
    assert link_base(mail.link(PW)) == APP_RESET_URL, mail.link(PW)
    assert link_base(mail.link(ML)) == APP_LOGIN_URL, mail.link(ML)
    done = b2b.passwords.email.reset(password_reset_token=mail.token(PW), password=strong_password())
    assert_authenticated(done, member_id=created.member_id, org=org)
    assert done.member.status == "active"
    assert done.member.email_address_verified is True


def test_existing_password_reset(b2b, mailbox):
    org = new_org(b2b)
    email, old, member_id, first = member_with_password(b2b, mailbox, org)
    other = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=old)
    new = strong_password()
    resp = b2b.passwords.existing_password.reset(
        organization_id=org.organization_id,
        email_address=email,
        existing_password=old,
        new_password=new,
        session_duration_minutes=45,
    )
    assert_authenticated(resp, member_id=member_id, org=org, minutes=45, factors=["password"])
    # Every session from before is revoked; the new one works.
    assert_session_gone(b2b, first.session_token)
    assert_session_gone(b2b, other.session_token)
    assert b2b.sessions.authenticate(session_token=resp.session_token).member_session.member_session_id == (
        resp.member_session.member_session_id
    )
    expect_error(
        lambda: b2b.passwords.existing_password.reset(
            organization_id=org.organization_id, email_address=email, existing_password=old, new_password=strong_password()
        ),
        "unauthorized_credentials",
        401,
    )
    b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=new)


# ---------------------------------------------------------------------------- B16-B19 sessions and JWTs


@pytest.mark.parametrize("by", ["member_session_id", "session_token", "session_jwt", "member_id"])
def test_sessions_revoke(b2b, mailbox, by):
    org = new_org(b2b)
    email, password, member_id, first = member_with_password(b2b, mailbox, org)
    second = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    arg = {
        "member_session_id": first.member_session.member_session_id,
        "session_token": first.session_token,
        "session_jwt": first.session_jwt,
        "member_id": member_id,
    }[by]
    resp = b2b.sessions.revoke(**{by: arg})
    assert_meta(resp)
    assert_session_gone(b2b, first.session_token)
    expect_error(lambda: b2b.sessions.authenticate(session_jwt=first.session_jwt), "session_not_found", 404)
    left = [s.member_session_id for s in b2b.sessions.get(organization_id=org.organization_id, member_id=member_id).member_sessions]
    if by == "member_id":
        assert left == []
        assert_session_gone(b2b, second.session_token)
    else:
        assert left == [second.member_session.member_session_id]


def test_sessions_authenticate_by_jwt_and_extend(b2b, env, mailbox):
    org = new_org(b2b)
    _, _, member_id, first = member_with_password(b2b, mailbox, org)
    by_jwt = b2b.sessions.authenticate(session_jwt=first.session_jwt, session_duration_minutes=240)
    assert_meta(by_jwt)
    assert by_jwt.member_session.member_session_id == first.member_session.member_session_id
    assert_member_session(by_jwt.member_session, member_id=member_id, org=org, minutes=240)
    assert by_jwt.session_jwt
    expect_error(lambda: b2b.sessions.authenticate(), "no_session_arguments", 400)
    expect_error(
        lambda: b2b.sessions.authenticate(session_token="no-such-token-" + uuid.uuid4().hex), "session_not_found", 404
    )


def test_b2b_jwks_and_local_jwt_verification(b2b, env, mailbox):
    jwks = b2b.sessions.get_jwks(project_id=env.project_id)
    assert_meta(jwks)
    assert jwks.keys
    for key in jwks.keys:
        assert key.kty == "RSA" and key.alg == "RS256" and key.use == "sig" and key.kid and key.n and key.e
    # The SDK's local verifier fetches the B2B JWKS without credentials (§8.4).
    with urllib.request.urlopen(f"{env.url}/v1/b2b/sessions/jwks/{env.project_id}", timeout=10) as r:
        assert r.status == 200
        assert json.loads(r.read())["keys"]

    org = new_org(b2b)
    _, _, member_id, first = member_with_password(b2b, mailbox, org)
    header, _ = jwt_parts(first.session_jwt)
    assert header["kid"] in {k.kid for k in jwks.keys}
    local = assert_jwt_verifies_locally(
        b2b, env, first.session_jwt, member_id=member_id, org=org,
        session_id=first.member_session.member_session_id, factors=[f.type for f in first.member_session.authentication_factors],
    )
    assert local.expires_at is not None

    via = b2b.sessions.authenticate_jwt(session_jwt=first.session_jwt)
    assert via.request_id == "", "authenticate_jwt fell back to the API: local verification failed"
    assert via.member_session.member_session_id == first.member_session.member_session_id
    remote = b2b.sessions.authenticate_jwt(session_jwt=first.session_jwt, max_token_age_seconds=0)
    assert remote.request_id, "max_token_age_seconds=0 must force the remote call"
    assert remote.member_session.organization_id == org.organization_id

    head, payload, sig = first.session_jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[ORG_CLAIM]["organization_id"] = "organization-test-" + str(uuid.uuid4())
    forged = f"{head}.{base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()}.{sig}"
    assert b2b.sessions.authenticate_jwt_local(session_jwt=forged) is None


def test_member_and_consumer_sessions_do_not_mix(b2b, client, mailbox):
    org = new_org(b2b)
    _, _, _, first = member_with_password(b2b, mailbox, org)
    expect_error(lambda: client.sessions.authenticate(session_token=first.session_token), "session_not_found", 404)
    user = client.passwords.create(email=unique_email(), password=strong_password(), session_duration_minutes=60)
    expect_error(lambda: b2b.sessions.authenticate(session_token=user.session_token), "session_not_found", 404)


# ---------------------------------------------------------------------------- seed 002: MFA with TOTP (B20-B21)


def test_seed_002_mfa_required_for_all_with_totp(b2b, env, mailbox):
    org = new_org(b2b, mfa_policy="REQUIRED_FOR_ALL")
    assert org.mfa_policy == "REQUIRED_FOR_ALL"
    email = unique_email()
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email)
    member_id = created.member_id

    # The emailed reset sets the password, but the org requires MFA: no session, an IST.
    _, mail = start_reset(b2b, mailbox, org, email)
    password = strong_password()
    reset = b2b.passwords.email.reset(password_reset_token=mail.token(PW), password=password)
    assert_mfa_required(reset, member_id=member_id, org=org)
    assert reset.member.member_password_id

    # Password login: member_authenticated False and an intermediate session token.
    login = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    ist = assert_mfa_required(login, member_id=member_id, org=org)
    assert b2b.sessions.get(organization_id=org.organization_id, member_id=member_id).member_sessions == []

    # TOTP registration under the IST.
    reg = b2b.totps.create(organization_id=org.organization_id, member_id=member_id, intermediate_session_token=ist)
    assert_meta(reg)
    assert reg.member_id == member_id
    assert reg.totp_registration_id
    assert reg.secret and base64.b32decode(reg.secret + "=" * (-len(reg.secret) % 8))
    assert reg.qr_code.startswith("data:image/svg+xml;base64,"), reg.qr_code[:60]
    svg = base64.b64decode(reg.qr_code.split(",", 1)[1]).decode()
    assert "<svg" in svg
    assert len(reg.recovery_codes) == 10 and len(set(reg.recovery_codes)) == 10
    assert reg.member.totp_registration_id == "", "a pending registration is not the member's yet"
    assert reg.organization.organization_id == org.organization_id

    step = totp_step()
    code = totp_code(reg.secret, step)
    done = b2b.totps.authenticate(
        organization_id=org.organization_id,
        member_id=member_id,
        code=code,
        intermediate_session_token=ist,
        set_mfa_enrollment="enroll",
    )
    assert_meta(done)
    assert done.member_id == member_id
    assert done.session_token and done.session_jwt
    assert done.member.totp_registration_id == reg.totp_registration_id
    assert done.member.mfa_enrolled is True
    assert done.organization.organization_id == org.organization_id
    assert_member_session(done.member_session, member_id=member_id, org=org, factors=["password", "totp"])
    totp_factor = next(f for f in done.member_session.authentication_factors if f.type == "totp")
    assert totp_factor.authenticator_app_factor.totp_id == reg.totp_registration_id
    assert_jwt_verifies_locally(
        b2b, env, done.session_jwt, member_id=member_id, org=org,
        session_id=done.member_session.member_session_id, factors=["password", "totp"],
    )
    full = b2b.sessions.authenticate(session_token=done.session_token)
    assert full.member_session.member_session_id == done.member_session.member_session_id

    # MFA rule 1: a valid session of the member sent with the password adds the factor, no MFA.
    more = b2b.passwords.authenticate(
        organization_id=org.organization_id, email_address=email, password=password, session_token=done.session_token
    )
    assert_authenticated(more, member_id=member_id, org=org)
    assert more.member_session.member_session_id == done.member_session.member_session_id

    # A second login needs the (now verified) TOTP again.
    login2 = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    ist2 = assert_mfa_required(login2, member_id=member_id, org=org, totp_registration_id=reg.totp_registration_id)
    assert ist2 != ist
    expect_error(
        lambda: b2b.totps.create(organization_id=org.organization_id, member_id=member_id, intermediate_session_token=ist2),
        "active_totp_exists",
        400,
    )
    fresh_step = max(totp_step(), step + 1)
    fresh = totp_code(reg.secret, fresh_step)
    expect_error(
        lambda: b2b.totps.authenticate(
            organization_id=org.organization_id, member_id=member_id, code=fresh,
            intermediate_session_token="no-such-ist-" + uuid.uuid4().hex,
        ),
        "intermediate_session_not_found",
        404,
    )
    expect_error(
        lambda: b2b.totps.authenticate(organization_id=org.organization_id, member_id=member_id, code=fresh),
        "no_session_arguments",
        400,
    )
    expect_error(
        lambda: b2b.totps.authenticate(
            organization_id=org.organization_id, member_id=member_id, code=wrong_code(reg.secret),
            intermediate_session_token=ist2,
        ),
        "unable_to_authenticate_totp",
        401,
    )
    if totp_step() <= step + 1:  # the first code is still inside the ±1 step window
        expect_error(
            lambda: b2b.totps.authenticate(
                organization_id=org.organization_id, member_id=member_id, code=code, intermediate_session_token=ist2
            ),
            "totp_code_already_authenticated",
            401,
        )
    done2 = b2b.totps.authenticate(
        organization_id=org.organization_id, member_id=member_id, code=fresh, intermediate_session_token=ist2,
        session_duration_minutes=30,
    )
    assert_meta(done2)
    assert_member_session(done2.member_session, member_id=member_id, org=org, minutes=30, factors=["password", "totp"])
    assert done2.member_session.member_session_id != done.member_session.member_session_id


def test_totp_enrollment_with_a_session_makes_mfa_required(b2b, env, mailbox):
    org = new_org(b2b)  # mfa_policy OPTIONAL
    email, password, member_id, first = member_with_password(b2b, mailbox, org)
    assert first.member_authenticated is True
    expect_error(
        lambda: b2b.totps.authenticate(organization_id=org.organization_id, member_id=member_id, code="123456",
                                       session_token=first.session_token),
        "totp_not_found",
        404,
    )
    reg = b2b.totps.create(organization_id=org.organization_id, member_id=member_id, session_token=first.session_token)
    assert_meta(reg)
    done = b2b.totps.authenticate(
        organization_id=org.organization_id,
        member_id=member_id,
        code=totp_code(reg.secret, totp_step()),
        session_token=first.session_token,
        set_mfa_enrollment="enroll",
    )
    assert_meta(done)
    assert done.member.mfa_enrolled is True
    # The factor is added to the session sent.
    factors = [f.type for f in first.member_session.authentication_factors] + ["totp"]
    assert done.member_session.member_session_id == first.member_session.member_session_id
    assert_member_session(done.member_session, member_id=member_id, org=org, factors=factors)
    assert_jwt_verifies_locally(
        b2b, env, done.session_jwt, member_id=member_id, org=org,
        session_id=first.member_session.member_session_id, factors=factors,
    )
    # Enrolled: the next password login stops at MFA although the org's policy is OPTIONAL.
    login = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    assert_mfa_required(login, member_id=member_id, org=org, totp_registration_id=reg.totp_registration_id)
    got = b2b.organizations.members.get(organization_id=org.organization_id, member_id=member_id)
    assert got.member.totp_registration_id == reg.totp_registration_id
    assert got.member.mfa_enrolled is True


def test_magic_link_and_existing_password_reset_stop_at_mfa_then_totp(b2b, env, mailbox):
    """The MFA branch of magic_links.authenticate and existing_password.reset parses too; an IST
    sent back with a primary factor is kept; TOTP consumes it into a session of all the factors."""
    org = new_org(
        b2b, mfa_policy="REQUIRED_FOR_ALL", email_jit_provisioning="RESTRICTED", email_allowed_domains=["example.com"]
    )
    email = unique_email()
    signup, mail = login_or_signup(b2b, mailbox, org, email)
    ml = b2b.magic_links.authenticate(magic_links_token=mail.token(ML))
    ist = assert_mfa_required(ml, member_id=signup.member_id, org=org)
    assert ml.organization_id == org.organization_id
    assert ml.method_id
    assert ml.member.status == "active" and ml.member.email_address_verified is True

    # Set a password through the reset email (also MFA-gated), then the existing-password reset.
    _, reset_mail = start_reset(b2b, mailbox, org, email)
    password = strong_password()
    assert_mfa_required(
        b2b.passwords.email.reset(password_reset_token=reset_mail.token(PW), password=password),
        member_id=signup.member_id, org=org,
    )
    new_password = strong_password()
    epr = b2b.passwords.existing_password.reset(
        organization_id=org.organization_id, email_address=email, existing_password=password, new_password=new_password
    )
    assert_mfa_required(epr, member_id=signup.member_id, org=org)

    # A primary factor sent with a live IST keeps that IST.
    pw = b2b.passwords.authenticate(
        organization_id=org.organization_id, email_address=email, password=new_password, intermediate_session_token=ist
    )
    assert assert_mfa_required(pw, member_id=signup.member_id, org=org) == ist

    done = register_totp_with_ist(b2b, org, signup.member_id, ist)
    assert_meta(done)
    assert_member_session(done.member_session, member_id=signup.member_id, org=org)
    factors = [f.type for f in done.member_session.authentication_factors]
    assert {"magic_link", "totp"} <= set(factors), factors  # "password": see the next test
    assert_jwt_verifies_locally(
        b2b, env, done.session_jwt, member_id=signup.member_id, org=org,
        session_id=done.member_session.member_session_id, factors=factors,
    )
    # The IST was used up.
    expect_error(
        lambda: b2b.passwords.authenticate(
            organization_id=org.organization_id, email_address=email, password=new_password,
            intermediate_session_token=ist,
        ),
        "intermediate_session_not_found",
        404,
    )


def test_primary_factor_sent_with_an_ist_is_added_to_it(b2b, mailbox):
    """Reference §7 / B9 `intermediate_session_token`: a primary factor sent with an IST adds its
    factor to it, so the session the IST becomes holds both primary factors and the TOTP."""
    org = new_org(b2b, mfa_policy="REQUIRED_FOR_ALL")
    email = unique_email()
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email)
    _, reset_mail = start_reset(b2b, mailbox, org, email)
    password = strong_password()
    b2b.passwords.email.reset(password_reset_token=reset_mail.token(PW), password=password)
    _, login_mail = login_or_signup(b2b, mailbox, org, email)
    ist = assert_mfa_required(
        b2b.magic_links.authenticate(magic_links_token=login_mail.token(ML)), member_id=created.member_id, org=org
    )
    pw = b2b.passwords.authenticate(
        organization_id=org.organization_id, email_address=email, password=password, intermediate_session_token=ist
    )
    assert assert_mfa_required(pw, member_id=created.member_id, org=org) == ist
    done = register_totp_with_ist(b2b, org, created.member_id, ist)
    assert_member_session(
        done.member_session, member_id=created.member_id, org=org, factors=["magic_link", "password", "totp"]
    )


def test_magic_link_pkce(b2b, mailbox):
    org = new_org(b2b)
    email = unique_email()
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email)
    verifier = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    _, mail = login_or_signup(b2b, mailbox, org, email, pkce_code_challenge=challenge)
    expect_error(
        lambda: b2b.magic_links.authenticate(magic_links_token=mail.token(ML), pkce_code_verifier=verifier + "x"),
        "pkce_mismatch",
        401,
    )
    expect_error(
        lambda: b2b.magic_links.authenticate(magic_links_token=mail.token(ML)), "pkce_expected_code_verifier", 400
    )
    ok = b2b.magic_links.authenticate(magic_links_token=mail.token(ML), pkce_code_verifier=verifier)
    assert_authenticated(ok, member_id=created.member_id, org=org, factors=["magic_link"])


def test_login_or_signup_invalid_expiration_and_redirect(b2b, mailbox):
    org = new_org(b2b, email_jit_provisioning="RESTRICTED", email_allowed_domains=["example.com"])
    email = unique_email()
    expect_error(
        lambda: b2b.magic_links.email.login_or_signup(
            organization_id=org.organization_id, email_address=email, signup_expiration_minutes=4
        ),
        "invalid_expiration",
        400,
    )
    expect_error(
        lambda: b2b.magic_links.email.login_or_signup(
            organization_id=org.organization_id, email_address=email,
            signup_redirect_url="https://evil.example.com/authenticate",
        ),
        "invalid_signup_redirect_url",
        400,
    )
    assert mailbox.messages_to(email) == []


def test_session_custom_claims_reach_the_b2b_jwt(b2b, env, mailbox):
    org = new_org(b2b)
    email, password, member_id, _ = member_with_password(b2b, mailbox, org)
    resp = b2b.passwords.authenticate(
        organization_id=org.organization_id, email_address=email, password=password,
        session_custom_claims={"plan": "pro", "seats": 3},
    )
    assert resp.member_session.custom_claims == {"plan": "pro", "seats": 3}
    _, claims = jwt_parts(resp.session_jwt)
    assert claims["plan"] == "pro" and claims["seats"] == 3
    local = b2b.sessions.authenticate_jwt_local(session_jwt=resp.session_jwt)
    assert local is not None
    assert local.custom_claims.get("plan") == "pro" and local.custom_claims.get("seats") == 3
    assert local.organization_id == org.organization_id


def test_sessions_revoke_argument_errors(b2b, mailbox):
    org = new_org(b2b)
    _, _, member_id, first = member_with_password(b2b, mailbox, org)
    expect_error(lambda: b2b.sessions.revoke(), "no_session_revoke_arguments", 400)
    expect_error(
        lambda: b2b.sessions.revoke(session_token=first.session_token, member_id=member_id),
        "too_many_session_revoke_arguments",
        400,
    )
    b2b.sessions.authenticate(session_token=first.session_token)


def test_organization_delete_ends_member_sessions(b2b, mailbox):
    org = new_org(b2b)
    email, password, member_id, first = member_with_password(b2b, mailbox, org)
    b2b.organizations.delete(organization_id=org.organization_id)
    assert_session_gone(b2b, first.session_token)
    # The slug is free again, and the new organization does not know the old member.
    again = new_org(b2b, organization_slug=org.organization_slug)
    assert again.organization_id != org.organization_id
    expect_error(
        lambda: b2b.passwords.authenticate(organization_id=again.organization_id, email_address=email, password=password),
        "member_not_found",
        404,
    )


# ---------------------------------------------------------------------------- organization isolation


def test_cross_organization_password_and_session_do_not_work(b2b, mailbox):
    org_a = new_org(b2b)
    org_b = new_org(b2b)
    email, password_a, member_a, session_a = member_with_password(b2b, mailbox, org_a)

    # The address is no member of B: B's password login does not know it.
    expect_error(
        lambda: b2b.passwords.authenticate(organization_id=org_b.organization_id, email_address=email, password=password_a),
        "member_not_found",
        404,
    )
    # A's member is found only through A.
    expect_error(
        lambda: b2b.organizations.members.get(organization_id=org_b.organization_id, member_id=member_a),
        "member_not_found",
        404,
    )
    # A's session is not a session of B.
    expect_error(
        lambda: b2b.passwords.sessions.reset(
            organization_id=org_b.organization_id, password=strong_password(), session_token=session_a.session_token
        ),
        "session_not_found",
        404,
    )

    # The same address as a member of B has B's own password: A's does not open B.
    _, password_b, member_b, _ = member_with_password(b2b, mailbox, org_b, email=email)
    assert member_b != member_a
    expect_error(
        lambda: b2b.passwords.authenticate(organization_id=org_b.organization_id, email_address=email, password=password_a),
        "unauthorized_credentials",
        401,
    )
    in_b = b2b.passwords.authenticate(organization_id=org_b.organization_id, email_address=email, password=password_b)
    assert_authenticated(in_b, member_id=member_b, org=org_b, factors=["password"])
    in_a = b2b.passwords.authenticate(organization_id=org_a.organization_id, email_address=email, password=password_a)
    assert_authenticated(in_a, member_id=member_a, org=org_a, factors=["password"])
    # Still A's session only in A.
    expect_error(
        lambda: b2b.passwords.sessions.reset(
            organization_id=org_b.organization_id, password=strong_password(), session_token=in_a.session_token
        ),
        "session_not_found",
        404,
    )


def test_cross_organization_intermediate_session_does_not_work(b2b, mailbox):
    """An IST of org A's member is not one of org B's member with the same address."""
    org_a = new_org(b2b, mfa_policy="REQUIRED_FOR_ALL")
    org_b = new_org(b2b, mfa_policy="REQUIRED_FOR_ALL")
    email = unique_email()
    istA = mfa_login(b2b, mailbox, org_a, email)
    member_b, istB = mfa_login(b2b, mailbox, org_b, email, return_member=True)
    reg = b2b.totps.create(organization_id=org_b.organization_id, member_id=member_b, intermediate_session_token=istB)
    code = totp_code(reg.secret, totp_step())
    expect_error(
        lambda: b2b.totps.authenticate(
            organization_id=org_b.organization_id, member_id=member_b, code=code, intermediate_session_token=istA
        ),
        "intermediate_session_not_found",
        404,
    )
    expect_error(
        lambda: b2b.totps.create(organization_id=org_b.organization_id, member_id=member_b, intermediate_session_token=istA),
        "intermediate_session_not_found",
        404,
    )
    # The refusals used up neither B's IST nor the code.
    done = b2b.totps.authenticate(
        organization_id=org_b.organization_id, member_id=member_b, code=code, intermediate_session_token=istB
    )
    assert done.member_session.organization_id == org_b.organization_id


def mfa_login(b2b, mailbox, org, email, return_member=False):
    """A member of an MFA-requiring `org` with a password; returns the IST of a password login."""
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email)
    _, mail = start_reset(b2b, mailbox, org, email)
    password = strong_password()
    b2b.passwords.email.reset(password_reset_token=mail.token(PW), password=password)
    login = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    ist = assert_mfa_required(login, member_id=created.member_id, org=org)
    return (created.member_id, ist) if return_member else ist


# ---------------------------------------------------------------------------- error path and credentials


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.organizations.create(organization_name="x", organization_slug=f"sdk-py-{uid()}"), id="org_create"),
        pytest.param(lambda c: c.passwords.strength_check(password=strong_password()), id="strength_check"),
        pytest.param(lambda c: c.sessions.authenticate(session_token="x" * 44), id="sessions_authenticate"),
        pytest.param(lambda c: c.magic_links.authenticate(magic_links_token="x" * 43), id="magic_links_authenticate"),
    ],
)
def test_wrong_project_secret_is_unauthorized(env, call):
    bad = env.b2b_client(secret=env.secret + "-wrong")
    expect_error(lambda: call(bad), "unauthorized_credentials", 401)


def test_error_envelope_over_the_wire(env, b2b):
    org = new_org(b2b)
    r = requests.get(
        f"{env.url}/v1/b2b/organizations/{org.organization_id}/member",
        params={"organization_id": org.organization_id, "email_address": unique_email()},
        auth=(env.project_id, env.secret),
        timeout=30,
    )
    assert r.status_code == 404
    body = r.json()
    assert body["status_code"] == 404 and body["error_type"] == "member_not_found"
    for key in ("request_id", "error_message", "error_url"):
        assert isinstance(body.get(key), str) and body[key], f"envelope field {key}: {body!r}"


def enrolled_in_totp(b2b, mailbox, org):
    """A member of an MFA-required `org` enrolled in TOTP; returns (email, password, member_id, registration)."""
    email, password, member_id, _ = member_with_password(b2b, mailbox, org)
    login = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    ist = assert_mfa_required(login, member_id=member_id, org=org)
    reg = b2b.totps.create(organization_id=org.organization_id, member_id=member_id, intermediate_session_token=ist)
    b2b.totps.authenticate(
        organization_id=org.organization_id, member_id=member_id,
        code=totp_code(reg.secret, totp_step()), intermediate_session_token=ist,
    )
    return email, password, member_id, reg


def test_recovery_codes_recover_get_rotate(b2b, env, mailbox):
    org = new_org(b2b, mfa_policy="REQUIRED_FOR_ALL")
    email, password, member_id, reg = enrolled_in_totp(b2b, mailbox, org)

    shown = b2b.recovery_codes.get(organization_id=org.organization_id, member_id=member_id)
    assert_meta(shown)
    assert shown.recovery_codes == reg.recovery_codes
    assert shown.member.member_id == member_id and shown.organization.organization_id == org.organization_id

    login = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    ist = assert_mfa_required(login, member_id=member_id, org=org, totp_registration_id=reg.totp_registration_id)
    expect_error(lambda: b2b.recovery_codes.recover(
        organization_id=org.organization_id, member_id=member_id,
        recovery_code="aaaa-bbbb-cccc", intermediate_session_token=ist,
    ), "unable_to_authenticate_recovery_code", 401)

    done = b2b.recovery_codes.recover(
        organization_id=org.organization_id, member_id=member_id,
        recovery_code=reg.recovery_codes[0], intermediate_session_token=ist, session_duration_minutes=30,
    )
    assert_meta(done)
    assert done.recovery_codes_remaining == 9
    assert done.session_token and done.session_jwt
    assert_member_session(done.member_session, member_id=member_id, org=org, minutes=30,
                          factors=["password", "recovery_codes"])
    code_factor = next(f for f in done.member_session.authentication_factors if f.type == "recovery_codes")
    assert code_factor.delivery_method == "recovery_code"
    assert b2b.sessions.authenticate(session_token=done.session_token).member.member_id == member_id
    assert b2b.recovery_codes.get(organization_id=org.organization_id, member_id=member_id).recovery_codes \
        == reg.recovery_codes[1:]

    rotated = b2b.recovery_codes.rotate(organization_id=org.organization_id, member_id=member_id)
    assert_meta(rotated)
    assert len(rotated.recovery_codes) == 10 and not set(rotated.recovery_codes) & set(reg.recovery_codes)
    again = assert_mfa_required(
        b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password),
        member_id=member_id, org=org, totp_registration_id=reg.totp_registration_id,
    )
    expect_error(lambda: b2b.recovery_codes.recover(
        organization_id=org.organization_id, member_id=member_id,
        recovery_code=reg.recovery_codes[1], intermediate_session_token=again,
    ), "unable_to_authenticate_recovery_code", 401)


def test_sessions_exchange(b2b, mailbox):
    home = new_org(b2b)
    mfa = new_org(b2b, mfa_policy="REQUIRED_FOR_ALL")
    passwords_only = new_org(b2b, auth_methods="RESTRICTED", allowed_auth_methods=["password"])
    email = unique_email()
    b2b.organizations.members.create(organization_id=home.organization_id, email_address=email)
    in_mfa = b2b.organizations.members.create(organization_id=mfa.organization_id, email_address=email)
    b2b.organizations.members.create(organization_id=passwords_only.organization_id, email_address=email)
    _, mail = login_or_signup(b2b, mailbox, home, email)
    linked = b2b.magic_links.authenticate(magic_links_token=mail.token(ML),
                                          session_duration_minutes=60)

    # Into an organization that requires MFA: the email carries over, MFA is owed there.
    step = b2b.sessions.exchange(organization_id=mfa.organization_id, session_token=linked.session_token)
    assert_mfa_required(step, member_id=in_mfa.member_id, org=mfa)
    assert step.primary_required is None

    # Into one that allows only passwords: nothing issued, the methods to log in with named.
    asked = b2b.sessions.exchange(organization_id=passwords_only.organization_id, session_token=linked.session_token)
    assert_meta(asked)
    assert asked.member_authenticated is False and asked.member_session is None
    assert asked.session_token == "" and asked.intermediate_session_token == ""
    assert asked.primary_required is not None and asked.primary_required.allowed_auth_methods == ["password"]

    stranger = new_org(b2b)
    expect_error(lambda: b2b.sessions.exchange(organization_id=stranger.organization_id,
                                               session_token=linked.session_token), "member_not_found", 404)
