"""Latch driven by the official Stytch Python SDK (PyPI `stytch`, pinned in requirements.txt).

Contract: docs/reference/stytch-api.md (§0-§2, §4, §5 C1-C3 and C5-C15, §6, §8, §9, §13, §14).

Every success body is parsed by the SDK's pydantic models; a `pydantic.ValidationError`
escaping a call means Latch sent a body the real SDK cannot read, and the test fails.
Error cases catch `stytch.core.response_base.StytchError` and check the envelope.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import time
import urllib.request
import uuid

import jwt as pyjwt
import pytest
import requests
import stytch
from conftest import assert_meta, assert_weak_strength, expect_error, link_base
from stytch.core.response_base import StytchError

BREACHED_AT_START = "Tr0ub4dour&3-breached-pw"  # listed by tests/src/hibp_stub.rs (count 4211)
PADDING_ONLY = "Padding-Row-Zero-Count-91xq"  # listed by the stub only as a count-0 padding row
WEAK_PASSWORD = "password"
SESSION_CLAIM = "https://stytch.com/session"


# ---------------------------------------------------------------------------- helpers


def unique_email() -> str:
    return f"sdk-py-{uuid.uuid4().hex[:16]}@example.com"


def strong_password() -> str:
    # 20 random hex characters between fixed words: zxcvbn score 4, never in the stub's list.
    return f"Latch-{uuid.uuid4().hex[:20]}-Sdk!"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def create_user(client: stytch.Client, *, session_minutes: int | None = None, password: str | None = None):
    email = unique_email()
    password = password or strong_password()
    kwargs = {}
    if session_minutes is not None:
        kwargs["session_duration_minutes"] = session_minutes
    resp = client.passwords.create(email=email, password=password, **kwargs)
    return email, password, resp


def client_create_with_claims(client, claims):
    email, password = unique_email(), strong_password()
    resp = client.passwords.create(
        email=email, password=password, session_duration_minutes=60, session_custom_claims=claims
    )
    return email, password, resp


def create_user_during_hibp_outage(client: stytch.Client, hibp, *, mode: str = "error"):
    """Create a user while the HIBP stub is down, so Latch cannot have cached its range."""
    hibp.set_mode(mode)
    try:
        return create_user(client)
    finally:
        hibp.set_mode("ok")


def range_requests(hibp, password: str) -> int:
    prefix = hashlib.sha1(password.encode()).hexdigest().upper()[:5]
    return sum(1 for e in hibp.log() if e["path"].upper() == f"/RANGE/{prefix}")


def assert_user(user, *, user_id: str, email: str, requires_reset: bool = False) -> None:
    assert user.user_id == user_id
    assert [e.email for e in user.emails] == [email]
    assert all(e.email_id for e in user.emails)
    assert user.status == "active"
    assert user.is_locked is False
    assert user.password is not None and user.password.password_id, "a password user must expose user.password"
    assert user.password.requires_reset is requires_reset


def assert_session(
    session,
    *,
    user_id: str,
    minutes: int,
    now: dt.datetime | None = None,
    factor: tuple[str, str] | None = ("password", "knowledge"),
) -> None:
    """`factor`: (type, delivery_method) of the session's first factor; None skips that check."""
    now = now or now_utc()
    assert session is not None
    assert session.session_id
    assert session.user_id == user_id
    assert session.authentication_factors, "session must list its authentication factors"
    if factor is not None:
        first = session.authentication_factors[0]
        assert (first.type, first.delivery_method) == factor, f"first factor {first!r}, expected {factor}"
    assert isinstance(session.roles, list)
    assert session.started_at is not None and session.expires_at is not None
    remaining = (session.expires_at - now).total_seconds()
    assert abs(remaining - minutes * 60) < 120, (
        f"session should expire ~{minutes} min from now, expires_at={session.expires_at} now={now}"
    )


def jwt_parts(token: str) -> tuple[dict, dict]:
    assert token.count(".") == 2, f"not a compact JWS: {token!r}"
    return pyjwt.get_unverified_header(token), pyjwt.decode(token, options={"verify_signature": False})


# ---------------------------------------------------------------------------- C1 create


def test_create_without_session_duration_creates_no_session(client):
    email, _, resp = create_user(client)
    assert_meta(resp)
    assert resp.user_id.startswith("user-")
    assert resp.email_id
    assert resp.session_token == ""
    assert resp.session_jwt == ""
    assert resp.session is None
    assert_user(resp.user, user_id=resp.user_id, email=email)
    assert resp.user.emails[0].email_id == resp.email_id


def test_create_with_session_duration_returns_session(client):
    email, _, resp = create_user(client, session_minutes=60)
    assert_meta(resp)
    assert resp.session_token, "session_token must be set when session_duration_minutes is sent"
    assert resp.session_jwt
    assert_user(resp.user, user_id=resp.user_id, email=email)
    assert_session(resp.session, user_id=resp.user_id, minutes=60)


def test_create_duplicate_email(client):
    email, _, _ = create_user(client)
    expect_error(lambda: client.passwords.create(email=email, password=strong_password()), "duplicate_email", 400)


def test_create_weak_password(client):
    email = unique_email()
    expect_error(lambda: client.passwords.create(email=email, password=WEAK_PASSWORD), "weak_password", 400)
    # Nothing was created: the email is still unknown.
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=WEAK_PASSWORD), "email_not_found", 404
    )


def test_create_breached_password(client):
    email = unique_email()
    expect_error(
        lambda: client.passwords.create(email=email, password=BREACHED_AT_START), "breached_password", 400
    )
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=BREACHED_AT_START), "email_not_found", 404
    )


def test_hibp_padding_rows_are_not_breaches(client):
    # The stub lists this password's SHA-1 suffix only with count 0 (a padding row).
    check = client.passwords.strength_check(password=PADDING_ONLY, email=unique_email())
    assert check.breached_password is False
    email, _, resp = create_user(client, password=PADDING_ONLY)
    assert_meta(resp)


@pytest.mark.parametrize("bad_email", ["not-an-email", "two@at@example.com"])
def test_create_invalid_email(client, bad_email):
    expect_error(lambda: client.passwords.create(email=bad_email, password=strong_password()), "invalid_email", 400)


@pytest.mark.parametrize("minutes", [1, 527041])
def test_create_invalid_session_duration(client, minutes):
    email, password = unique_email(), strong_password()
    expect_error(
        lambda: client.passwords.create(email=email, password=password, session_duration_minutes=minutes),
        "invalid_session_duration_minutes",
        400,
    )
    # The rejected call left nothing behind: the same email can still sign up.
    resp = client.passwords.create(email=email, password=password)
    assert_meta(resp)


# ---------------------------------------------------------------------------- C2 authenticate


def test_authenticate_without_session_duration(client):
    email, password, created = create_user(client)
    resp = client.passwords.authenticate(email=email, password=password)
    assert_meta(resp)
    assert resp.user_id == created.user_id
    assert resp.session_token == ""
    assert resp.session_jwt == ""
    assert resp.session is None
    assert_user(resp.user, user_id=created.user_id, email=email)


def test_authenticate_with_session_duration(client):
    email, password, created = create_user(client)
    resp = client.passwords.authenticate(email=email, password=password, session_duration_minutes=30)
    assert_meta(resp)
    assert resp.user_id == created.user_id
    assert resp.session_token and resp.session_jwt
    assert_session(resp.session, user_id=created.user_id, minutes=30)
    assert_user(resp.user, user_id=created.user_id, email=email)


def test_authenticate_wrong_password(client):
    email, password, _ = create_user(client)
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=password + "x"), "unauthorized_credentials", 401
    )


def test_authenticate_unknown_email(client):
    expect_error(
        lambda: client.passwords.authenticate(email=unique_email(), password=strong_password()),
        "email_not_found",
        404,
    )


def test_authenticate_invalid_email(client):
    expect_error(
        lambda: client.passwords.authenticate(email="not-an-email", password=strong_password()), "invalid_email", 400
    )


def test_authenticate_breached_password_requires_reset(client, hibp):
    # The password becomes known-breached only after the user signed up with it: breach
    # detection at login is for exactly this case (§4 C2, docs/security.md B2).
    email, password, created = create_user(client)
    hibp.breach(password)
    asked_before = range_requests(hibp, password)
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=password, session_duration_minutes=60),
        "reset_password",
        401,
        hint=lambda: "HIBP range requests for this password at login: "
        f"{range_requests(hibp, password) - asked_before} (0 = answer reused from signup)",
    )
    # No session was issued by the refused login.
    assert client.sessions.get(user_id=created.user_id).sessions == []


def test_authenticate_breached_password_first_seen_at_login(client, hibp):
    # Same rule, with a password Latch has never looked up while HIBP was healthy: the user is
    # created during an HIBP outage (fail-open, docs/security.md B3), so nothing about its range can
    # be cached, and the first successful range answer comes at login.
    email, password, created = create_user_during_hibp_outage(client, hibp)
    hibp.breach(password)
    # A wrong password stays a plain 401: breach status is only revealed to the right password.
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=password + "x"), "unauthorized_credentials", 401
    )
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=password, session_duration_minutes=60),
        "reset_password",
        401,
    )
    assert client.sessions.get(user_id=created.user_id).sessions == []


# ---------------------------------------------------------------------------- C3 strength check


def test_strength_check_weak(client):
    resp = client.passwords.strength_check(password=WEAK_PASSWORD)
    assert_weak_strength(resp)
    assert resp.feedback is not None, "a weak zxcvbn password should come with feedback"
    assert isinstance(resp.feedback.warning, str) and resp.feedback.warning
    assert resp.feedback.suggestions and all(isinstance(s, str) and s for s in resp.feedback.suggestions)


def test_strength_check_strong(client):
    resp = client.passwords.strength_check(password=strong_password())
    assert_meta(resp)
    assert resp.valid_password is True
    assert resp.score >= 3
    assert resp.score <= 4
    assert resp.breached_password is False
    assert resp.strength_policy == "zxcvbn"
    assert resp.breach_detection_on_create is True
    if resp.feedback is not None:
        assert resp.feedback.warning == ""
        assert resp.feedback.suggestions == []


def test_strength_check_with_email_reports_breach(client):
    resp = client.passwords.strength_check(password=BREACHED_AT_START, email=unique_email())
    assert_meta(resp)
    assert resp.breached_password is True
    assert resp.valid_password is False
    assert resp.score >= 3, "the stub's breached password is strong by zxcvbn; only the breach makes it invalid"


def test_strength_check_invalid_email(client):
    expect_error(
        lambda: client.passwords.strength_check(password=strong_password(), email="not-an-email"),
        "invalid_email",
        400,
    )


# ---------------------------------------------------------------------------- C9 sessions.authenticate


def test_sessions_authenticate_by_token(client):
    email, _, created = create_user(client, session_minutes=60)
    resp = client.sessions.authenticate(session_token=created.session_token)
    assert_meta(resp)
    assert resp.session.session_id == created.session.session_id
    assert resp.session_token == created.session_token
    assert resp.session_jwt
    assert_session(resp.session, user_id=created.user_id, minutes=60)
    assert_user(resp.user, user_id=created.user_id, email=email)


def test_sessions_authenticate_by_jwt(client):
    email, _, created = create_user(client, session_minutes=60)
    resp = client.sessions.authenticate(session_jwt=created.session_jwt)
    assert_meta(resp)
    assert resp.session.session_id == created.session.session_id
    assert resp.session_jwt
    assert_session(resp.session, user_id=created.user_id, minutes=60)
    assert_user(resp.user, user_id=created.user_id, email=email)


def test_sessions_authenticate_extends_duration(client):
    _, _, created = create_user(client, session_minutes=10)
    resp = client.sessions.authenticate(session_token=created.session_token, session_duration_minutes=240)
    assert resp.session.session_id == created.session.session_id
    assert_session(resp.session, user_id=created.user_id, minutes=240)


def test_sessions_authenticate_unknown_token(client):
    expect_error(
        lambda: client.sessions.authenticate(session_token="no-such-token-" + uuid.uuid4().hex),
        "session_not_found",
        404,
    )


def test_sessions_authenticate_with_token_and_jwt_is_refused(client):
    _, _, created = create_user(client, session_minutes=60)
    expect_error(
        lambda: client.sessions.authenticate(session_token=created.session_token, session_jwt=created.session_jwt),
        "too_many_session_arguments",
        400,
    )


def test_session_custom_claims_reach_session_and_jwt(client):
    claims = {"plan": "pro", "seats": 3, "iss": "evil.example"}  # reserved names are ignored (§8.1)
    _, _, created = client_create_with_claims(client, claims)
    assert created.session.custom_claims == {"plan": "pro", "seats": 3}
    _, jwt_claims = jwt_parts(created.session_jwt)
    assert jwt_claims["plan"] == "pro" and jwt_claims["seats"] == 3
    assert jwt_claims["iss"] != "evil.example"
    local = client.sessions.authenticate_jwt_local(created.session_jwt)
    assert local is not None
    assert local.custom_claims.get("plan") == "pro" and local.custom_claims.get("seats") == 3
    remote = client.sessions.authenticate(session_token=created.session_token)
    assert remote.session.custom_claims == {"plan": "pro", "seats": 3}


# ---------------------------------------------------------------------------- C11 sessions.get


def test_sessions_get_lists_active_sessions(client):
    email, password, created = create_user(client, session_minutes=60)
    second = client.passwords.authenticate(email=email, password=password, session_duration_minutes=60)
    resp = client.sessions.get(user_id=created.user_id)
    assert_meta(resp)
    ids = sorted(s.session_id for s in resp.sessions)
    assert ids == sorted([created.session.session_id, second.session.session_id])
    for s in resp.sessions:
        assert_session(s, user_id=created.user_id, minutes=60)


def test_sessions_get_empty_for_user_without_sessions(client):
    _, _, created = create_user(client)
    resp = client.sessions.get(user_id=created.user_id)
    assert_meta(resp)
    assert resp.sessions == []


# ---------------------------------------------------------------------------- C10 sessions.revoke


@pytest.mark.parametrize("by", ["session_id", "session_token", "session_jwt"])
def test_sessions_revoke(client, by):
    _, _, created = create_user(client, session_minutes=60)
    arg = {
        "session_id": created.session.session_id,
        "session_token": created.session_token,
        "session_jwt": created.session_jwt,
    }[by]
    resp = client.sessions.revoke(**{by: arg})
    assert_meta(resp)
    expect_error(
        lambda: client.sessions.authenticate(session_token=created.session_token), "session_not_found", 404
    )
    # Server-side JWT authentication consults the session, so the revoked one is refused too.
    expect_error(lambda: client.sessions.authenticate(session_jwt=created.session_jwt), "session_not_found", 404)
    assert client.sessions.get(user_id=created.user_id).sessions == []


def test_sessions_revoke_keeps_other_sessions(client):
    email, password, created = create_user(client, session_minutes=60)
    other = client.passwords.authenticate(email=email, password=password, session_duration_minutes=60)
    client.sessions.revoke(session_token=created.session_token)
    still = client.sessions.authenticate(session_token=other.session_token)
    assert still.session.session_id == other.session.session_id
    assert [s.session_id for s in client.sessions.get(user_id=created.user_id).sessions] == [
        other.session.session_id
    ]


def test_sessions_revoke_unknown(client):
    expect_error(
        lambda: client.sessions.revoke(session_id="session-test-" + str(uuid.uuid4())), "session_not_found", 404
    )


# ---------------------------------------------------------------------------- C12 JWKS and JWTs


def test_sessions_get_jwks_api_method(client, env):
    resp = client.sessions.get_jwks(project_id=env.project_id)
    assert_meta(resp)
    assert resp.keys, "JWKS must list at least one key"
    for key in resp.keys:
        assert key.kty == "RSA"
        assert key.alg == "RS256"
        assert key.use == "sig"
        assert key.kid
        assert key.n and key.e


def test_jwks_is_public(env):
    # The SDKs' local verifiers fetch the JWKS with no Authorization header (§8.4).
    with urllib.request.urlopen(f"{env.url}/v1/sessions/jwks/{env.project_id}", timeout=10) as r:
        assert r.status == 200
        body = json.loads(r.read())
    assert body["keys"]


def test_session_jwt_format(client, env):
    _, _, created = create_user(client, session_minutes=60)
    header, claims = jwt_parts(created.session_jwt)
    assert header["alg"] == "RS256"
    assert header.get("typ") == "JWT"
    kids = {k.kid for k in client.sessions.get_jwks(project_id=env.project_id).keys}
    assert header.get("kid") in kids
    assert claims["iss"] == f"stytch.com/{env.project_id}"
    assert claims["aud"] == [env.project_id]
    assert claims["sub"] == created.user_id
    now = time.time()
    assert claims["iat"] <= now + 5 and claims["nbf"] <= now + 5
    assert claims["exp"] - claims["iat"] == 300, "session JWTs live 5 minutes"
    session = claims[SESSION_CLAIM]
    assert session["id"] == created.session.session_id
    for key in ("started_at", "last_accessed_at", "expires_at", "attributes", "authentication_factors", "roles"):
        assert key in session, f"session claim lacks {key}"


def test_sessions_authenticate_jwt_local(client):
    _, _, created = create_user(client, session_minutes=60)
    session = client.sessions.authenticate_jwt_local(created.session_jwt)
    assert session is not None, "the SDK could not verify Latch's JWT against Latch's JWKS"
    assert session.session_id == created.session.session_id
    assert session.user_id == created.user_id
    assert session.authentication_factors[0].type == "password"
    assert isinstance(session.roles, list)
    assert session.expires_at is not None


def test_sessions_authenticate_jwt_prefers_local(client):
    _, _, created = create_user(client, session_minutes=60)
    resp = client.sessions.authenticate_jwt(created.session_jwt)
    # The SDK's local path answers with request_id ""; a remote fallback would carry Latch's.
    assert resp.request_id == "", "authenticate_jwt fell back to the API: local verification failed"
    assert resp.session.session_id == created.session.session_id
    assert resp.session.user_id == created.user_id


def test_sessions_authenticate_jwt_remote(client):
    _, _, created = create_user(client, session_minutes=60)
    resp = client.sessions.authenticate_jwt(created.session_jwt, max_token_age_seconds=0)
    assert resp.request_id, "max_token_age_seconds=0 must force the remote call"
    assert resp.session.session_id == created.session.session_id
    assert resp.session.user_id == created.user_id


def test_tampered_jwt_rejected(client):
    _, _, created = create_user(client, session_minutes=60)
    head, payload, sig = created.session_jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "user-test-" + str(uuid.uuid4())
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{forged_payload}.{sig}"
    assert client.sessions.authenticate_jwt_local(forged) is None
    with pytest.raises(StytchError) as info:
        client.sessions.authenticate(session_jwt=forged)
    assert info.value.details.status_code in (400, 401, 404), info.value.details
    assert info.value.details.error_type, info.value.details


# ---------------------------------------------------------------------------- C14/C15 users


def test_users_get(client):
    email, _, created = create_user(client)
    resp = client.users.get(user_id=created.user_id)
    assert_meta(resp)
    assert resp.user_id == created.user_id
    assert [e.email for e in resp.emails] == [email]
    assert resp.emails[0].email_id == created.email_id
    assert resp.is_locked is False
    assert resp.status == "active"
    assert resp.password is not None and resp.password.password_id
    assert resp.created_at is None or abs((now_utc() - resp.created_at).total_seconds()) < 600


def test_users_get_unknown(client):
    expect_error(lambda: client.users.get(user_id="user-test-" + str(uuid.uuid4())), "user_not_found", 404)


def test_users_delete(client):
    email, password, created = create_user(client, session_minutes=60)
    resp = client.users.delete(user_id=created.user_id)
    assert_meta(resp)
    assert resp.user_id == created.user_id
    expect_error(lambda: client.users.get(user_id=created.user_id), "user_not_found", 404)
    expect_error(lambda: client.passwords.authenticate(email=email, password=password), "email_not_found", 404)
    # The deleted user's session is gone with it.
    with pytest.raises(StytchError) as info:
        client.sessions.authenticate(session_token=created.session_token)
    assert info.value.details.error_type in ("session_not_found", "user_not_found"), info.value.details
    # Deleting again: the user no longer exists.
    expect_error(lambda: client.users.delete(user_id=created.user_id), "user_not_found", 404)
    # The email is free again.
    again = client.passwords.create(email=email, password=strong_password())
    assert again.user_id != created.user_id


# ---------------------------------------------------------------------------- project credentials


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.passwords.create(email=unique_email(), password=strong_password()), id="create"),
        pytest.param(
            lambda c: c.passwords.authenticate(email=unique_email(), password=strong_password()), id="authenticate"
        ),
        pytest.param(lambda c: c.passwords.strength_check(password=strong_password()), id="strength_check"),
        pytest.param(lambda c: c.sessions.authenticate(session_token="x" * 44), id="sessions_authenticate"),
        pytest.param(lambda c: c.sessions.get(user_id="user-test-" + str(uuid.uuid4())), id="sessions_get"),
        pytest.param(lambda c: c.users.get(user_id="user-test-" + str(uuid.uuid4())), id="users_get"),
        pytest.param(lambda c: c.users.delete(user_id="user-test-" + str(uuid.uuid4())), id="users_delete"),
        pytest.param(lambda c: c.passwords.email.reset_start(email=unique_email()), id="email_reset_start"),
        pytest.param(
            lambda c: c.passwords.email.reset(token="x" * 43, password=strong_password()), id="email_reset"
        ),
        pytest.param(
            lambda c: c.passwords.existing_password.reset(
                email=unique_email(), existing_password=strong_password(), new_password=strong_password()
            ),
            id="existing_password_reset",
        ),
        pytest.param(
            lambda c: c.passwords.sessions.reset(password=strong_password(), session_token="x" * 44),
            id="session_reset",
        ),
        pytest.param(lambda c: c.magic_links.authenticate(token="x" * 43), id="magic_links_authenticate"),
    ],
)
def test_wrong_project_secret_is_unauthorized(env, call):
    bad = env.client(secret=env.secret + "-wrong")
    expect_error(lambda: call(bad), "unauthorized_credentials", 401)


def test_unknown_project_id_is_unauthorized(env):
    bad = env.client(project_id="project-test-00000000-0000-4000-8000-000000000000")
    expect_error(lambda: bad.passwords.strength_check(password=strong_password()), "unauthorized_credentials", 401)


def test_wrong_secret_creates_nothing(client, env):
    email, password = unique_email(), strong_password()
    bad = env.client(secret=env.secret + "-wrong")
    expect_error(lambda: bad.passwords.create(email=email, password=password), "unauthorized_credentials", 401)
    created = client.passwords.create(email=email, password=password)
    assert_meta(created)


# ---------------------------------------------------------------------------- wire facts the SDKs rely on


def test_error_http_status_matches_envelope(client, env):
    email, password, _ = create_user(client)
    r = requests.post(
        f"{env.url}/v1/passwords/authenticate",
        json={"email": email, "password": password + "x"},
        auth=(env.project_id, env.secret),
        timeout=30,
    )
    assert r.status_code == 401
    body = r.json()
    assert body["status_code"] == 401
    assert body["error_type"] == "unauthorized_credentials"
    for key in ("request_id", "error_message", "error_url"):
        assert isinstance(body.get(key), str) and body[key], f"envelope field {key}: {body!r}"


def test_missing_basic_auth_is_unauthorized(env):
    r = requests.post(f"{env.url}/v1/passwords/strength_check", json={"password": strong_password()}, timeout=30)
    assert r.status_code == 401
    assert r.json().get("error_type") == "unauthorized_credentials"


# ---------------------------------------------------------------------------- HIBP client behaviour


def test_hibp_requests_are_k_anonymous(client, hibp):
    password = strong_password()
    full = hashlib.sha1(password.encode()).hexdigest().upper()
    before = len(hibp.log())
    create_user(client, password=password)
    seen = hibp.log()[before:]
    assert any(e["path"].upper() == f"/RANGE/{full[:5]}" for e in seen), (
        f"Latch did not query the range of the new password ({full[:5]}): {seen}"
    )
    for e in seen:
        assert re.fullmatch(r"/range/[0-9A-Fa-f]{5}", e["path"]), f"range request leaks more than 5 hex: {e}"
        assert full[5:] not in e["path"].upper()


def test_hibp_requests_ask_for_padding(client, hibp):
    before = len(hibp.log())
    create_user(client)
    seen = hibp.log()[before:]
    assert seen, "no range request was made"
    assert all((e["add_padding"] or "").lower() == "true" for e in seen), (
        f"range requests should send Add-Padding: true (docs/security.md B1): {seen}"
    )


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_login_survives_hibp_outage(client, hibp, mode):
    # docs/security.md B3: an outage adds bounded latency and fails open; login never fails because of it.
    email, password, _ = create_user(client)
    t0 = time.monotonic()
    client.passwords.authenticate(email=email, password=password)
    baseline = time.monotonic() - t0

    # A user whose range Latch has never received, so the login below really asks the stub.
    email, password, created = create_user_during_hibp_outage(client, hibp, mode=mode)
    hibp.set_mode(mode)
    try:
        asked_before = range_requests(hibp, password)
        t0 = time.monotonic()
        resp = client.passwords.authenticate(email=email, password=password, session_duration_minutes=15)
        elapsed = time.monotonic() - t0
        asked_after = range_requests(hibp, password)
    finally:
        hibp.set_mode("ok")
    assert resp.user_id == created.user_id
    assert resp.session_token
    assert asked_after > asked_before, "the login did not consult the breach service, so no outage was exercised"
    assert elapsed - baseline < 4.0, f"HIBP outage ({mode}) added {elapsed - baseline:.2f}s to a login"


# ---------------------------------------------------------------------------- C5-C8, C13 resets and the magic link
#
# The reset email is read the way a user would (conftest `mailbox`): from the server's outbox
# (LATCH_OUTBOX_DIR, one .eml per message), or with LATCH_MAIL_SOURCE=ses from the moto server
# Latch sent it through (LATCH_MAILER=ses).
# Redirect URLs: Stytch's test default, plus two more that scripts/sdk-tests.sh puts on the
# allow-list (LATCH_REDIRECT_URLS).

DEFAULT_REDIRECT_URL = "http://localhost:3000/authenticate"
APP_RESET_URL = "http://localhost:3000/reset-password"
APP_LOGIN_URL = "http://localhost:3000/login"


def start_reset(client, mailbox, email: str, **kwargs):
    """passwords.email.reset_start, then the one new message it wrote for `email`."""
    before = mailbox.messages_to(email)
    resp = client.passwords.email.reset_start(email=email, **kwargs)
    return resp, mailbox.new_message(email, before)


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def assert_session_gone(client, token: str) -> None:
    expect_error(lambda: client.sessions.authenticate(session_token=token), "session_not_found", 404)


def assert_reset_response(resp, *, user_id: str, email: str, minutes: int | None, factor=None) -> None:
    assert_meta(resp)
    assert resp.user_id == user_id
    assert_user(resp.user, user_id=user_id, email=email)
    if minutes is None:
        assert resp.session_token == "" and resp.session_jwt == "" and resp.session is None
    else:
        assert resp.session_token and resp.session_jwt
        assert_session(resp.session, user_id=user_id, minutes=minutes, factor=factor)


def test_reset_by_email_end_to_end(client, mailbox):
    email, old_password, created = create_user(client, session_minutes=60)
    other = client.passwords.authenticate(email=email, password=old_password, session_duration_minutes=60)

    started, mail = start_reset(client, mailbox, email)
    assert_meta(started)
    assert started.user_id == created.user_id
    assert started.email_id == created.email_id
    assert mail.to == email
    # Both redirect URLs default to Stytch's test default (§13).
    assert mail.reset_link.startswith(f"{DEFAULT_REDIRECT_URL}?stytch_token_type=reset_password&token="), mail.reset_link
    assert mail.login_link.startswith(f"{DEFAULT_REDIRECT_URL}?stytch_token_type=magic_links&token="), mail.login_link
    assert mail.reset_token != mail.login_token

    new_password = strong_password()
    resp = client.passwords.email.reset(token=mail.reset_token, password=new_password, session_duration_minutes=30)
    assert_reset_response(resp, user_id=created.user_id, email=email, minutes=30, factor=None)
    assert resp.user.emails[0].verified is True, "redeeming the emailed token proves the email"

    # Every session that existed before the reset is revoked (§4 C6); the new one works.
    assert_session_gone(client, created.session_token)
    assert_session_gone(client, other.session_token)
    fresh = client.sessions.authenticate(session_token=resp.session_token)
    assert fresh.session.session_id == resp.session.session_id
    assert [s.session_id for s in client.sessions.get(user_id=created.user_id).sessions] == [resp.session.session_id]

    login = client.passwords.authenticate(email=email, password=new_password)
    assert login.user_id == created.user_id
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=old_password), "unauthorized_credentials", 401
    )


def test_reset_by_email_without_session_duration_creates_no_session(client, mailbox):
    email, _, created = create_user(client)
    _, mail = start_reset(client, mailbox, email)
    resp = client.passwords.email.reset(token=mail.reset_token, password=strong_password())
    assert_reset_response(resp, user_id=created.user_id, email=email, minutes=None)
    assert client.sessions.get(user_id=created.user_id).sessions == []


def test_reset_by_email_uses_the_requested_redirect_urls(client, mailbox):
    email, _, _ = create_user(client)
    _, mail = start_reset(
        client, mailbox, email, reset_password_redirect_url=APP_RESET_URL, login_redirect_url=APP_LOGIN_URL
    )
    assert link_base(mail.reset_link) == APP_RESET_URL, mail.reset_link
    assert link_base(mail.login_link) == APP_LOGIN_URL, mail.login_link


def test_reset_token_is_single_use(client, mailbox):
    email, _, created = create_user(client)
    _, mail = start_reset(client, mailbox, email)
    second_password = strong_password()
    client.passwords.email.reset(token=mail.reset_token, password=second_password)
    expect_error(
        lambda: client.passwords.email.reset(token=mail.reset_token, password=strong_password()),
        "unable_to_auth_password_reset_token",
        401,
    )
    # The refused second use changed nothing.
    assert client.passwords.authenticate(email=email, password=second_password).user_id == created.user_id


def test_reset_with_unknown_token(client):
    expect_error(
        lambda: client.passwords.email.reset(token="no-such-token-" + uuid.uuid4().hex, password=strong_password()),
        "unable_to_auth_password_reset_token",
        401,
    )


def test_magic_link_token_is_not_a_reset_token(client, mailbox):
    email, _, _ = create_user(client)
    _, mail = start_reset(client, mailbox, email)
    expect_error(
        lambda: client.passwords.email.reset(token=mail.login_token, password=strong_password()),
        "unable_to_auth_password_reset_token",
        401,
    )
    expect_error(lambda: client.magic_links.authenticate(token=mail.reset_token), "unable_to_auth_magic_link", 401)


def test_reset_by_email_weak_password(client, mailbox):
    email, password, _ = create_user(client)
    _, mail = start_reset(client, mailbox, email)
    expect_error(
        lambda: client.passwords.email.reset(token=mail.reset_token, password=WEAK_PASSWORD), "weak_password", 400
    )
    client.passwords.authenticate(email=email, password=password)


def test_reset_by_email_breached_password(client, mailbox):
    email, password, _ = create_user(client)
    _, mail = start_reset(client, mailbox, email)
    expect_error(
        lambda: client.passwords.email.reset(token=mail.reset_token, password=BREACHED_AT_START),
        "breached_password",
        400,
    )
    client.passwords.authenticate(email=email, password=password)


def test_reset_start_unknown_email(client, mailbox):
    email = unique_email()
    expect_error(lambda: client.passwords.email.reset_start(email=email), "email_not_found", 404)
    assert mailbox.messages_to(email) == []


@pytest.mark.parametrize(
    "field,error_type",
    [
        ("reset_password_redirect_url", "invalid_password_reset_redirect_url"),
        ("login_redirect_url", "invalid_login_redirect_url"),
    ],
)
def test_reset_start_unlisted_redirect_url(client, mailbox, field, error_type):
    email, _, _ = create_user(client)
    expect_error(
        lambda: client.passwords.email.reset_start(email=email, **{field: "https://evil.example.com/authenticate"}),
        error_type,
        400,
    )
    assert mailbox.messages_to(email) == [], "a refused reset_start must not send an email"


def test_reset_by_email_with_pkce(client, mailbox):
    email, _, created = create_user(client, session_minutes=60)
    verifier, challenge = pkce_pair()
    _, mail = start_reset(client, mailbox, email, code_challenge=challenge)
    new_password = strong_password()

    wrong_verifier, _ = pkce_pair()
    expect_error(
        lambda: client.passwords.email.reset(token=mail.reset_token, password=new_password, code_verifier=wrong_verifier),
        "pkce_mismatch",
        401,
    )
    expect_error(
        lambda: client.passwords.email.reset(token=mail.reset_token, password=new_password),
        "pkce_expected_code_verifier",
        400,
    )
    # Neither refusal used the token up or changed anything.
    client.sessions.authenticate(session_token=created.session_token)

    resp = client.passwords.email.reset(
        token=mail.reset_token, password=new_password, code_verifier=verifier, session_duration_minutes=30
    )
    assert_reset_response(resp, user_id=created.user_id, email=email, minutes=30, factor=None)
    assert_session_gone(client, created.session_token)
    client.passwords.authenticate(email=email, password=new_password)


def test_magic_link_login(client, mailbox):
    email, password, created = create_user(client)
    _, mail = start_reset(client, mailbox, email)
    resp = client.magic_links.authenticate(token=mail.login_token, session_duration_minutes=60)
    assert_meta(resp)
    assert resp.user_id == created.user_id
    assert resp.method_id == created.email_id
    assert isinstance(resp.reset_sessions, bool)
    assert resp.session_token and resp.session_jwt
    assert_session(resp.session, user_id=created.user_id, minutes=60, factor=("magic_link", "email"))
    email_factor = resp.session.authentication_factors[0].email_factor
    assert email_factor is not None and email_factor.email_address == email
    assert email_factor.email_id == created.email_id
    # The email's first proof flags the password set before it (account pre-hijacking).
    assert_user(resp.user, user_id=created.user_id, email=email, requires_reset=True)
    assert resp.user.emails[0].verified is True
    assert client.sessions.authenticate(session_token=resp.session_token).session.session_id == resp.session.session_id

    # Single use.
    expect_error(
        lambda: client.magic_links.authenticate(token=mail.login_token, session_duration_minutes=60),
        "unable_to_auth_magic_link",
        401,
    )
    # The link was the email's first proof and the password predates it (account pre-hijacking):
    # the password now needs a reset.
    expect_error(lambda: client.passwords.authenticate(email=email, password=password), "reset_password", 401)


def test_magic_link_keeps_pending_reset_and_email_reset_clears_it(client, mailbox, hibp):
    email, password, created = create_user(client)
    hibp.breach(password)
    expect_error(lambda: client.passwords.authenticate(email=email, password=password), "reset_password", 401)
    _, mail = start_reset(client, mailbox, email)

    ml = client.magic_links.authenticate(token=mail.login_token, session_duration_minutes=60)
    assert ml.user_id == created.user_id
    # With HIBP down Latch fails open, so only the stored pending reset can refuse this login.
    hibp.set_mode("error")
    try:
        expect_error(
            lambda: client.passwords.authenticate(email=email, password=password),
            "reset_password",
            401,
            hint=lambda: "the magic link login cleared the pending password reset",
        )
    finally:
        hibp.set_mode("ok")

    new_password = strong_password()
    client.passwords.email.reset(token=mail.reset_token, password=new_password)
    resp = client.passwords.authenticate(email=email, password=new_password, session_duration_minutes=30)
    assert resp.user.password.requires_reset is False
    # The email reset revoked the magic link's session too.
    assert_session_gone(client, ml.session_token)


def test_existing_password_reset(client):
    email, old_password, created = create_user(client, session_minutes=60)
    other = client.passwords.authenticate(email=email, password=old_password, session_duration_minutes=60)
    new_password = strong_password()
    resp = client.passwords.existing_password.reset(
        email=email, existing_password=old_password, new_password=new_password, session_duration_minutes=45
    )
    assert_reset_response(resp, user_id=created.user_id, email=email, minutes=45)
    # All sessions from before are revoked (§4 C7); the new one works.
    assert_session_gone(client, created.session_token)
    assert_session_gone(client, other.session_token)
    assert client.sessions.authenticate(session_token=resp.session_token).session.session_id == resp.session.session_id
    assert [s.session_id for s in client.sessions.get(user_id=created.user_id).sessions] == [resp.session.session_id]
    client.passwords.authenticate(email=email, password=new_password)
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=old_password), "unauthorized_credentials", 401
    )


def test_existing_password_reset_wrong_existing_password(client):
    email, password, created = create_user(client, session_minutes=60)
    new_password = strong_password()
    expect_error(
        lambda: client.passwords.existing_password.reset(
            email=email, existing_password=password + "x", new_password=new_password
        ),
        "unauthorized_credentials",
        401,
    )
    # Nothing changed: the password and the session are as before.
    client.passwords.authenticate(email=email, password=password)
    client.sessions.authenticate(session_token=created.session_token)
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=new_password), "unauthorized_credentials", 401
    )


@pytest.mark.parametrize("by", ["session_token", "session_jwt"])
def test_session_reset_keeps_the_session_and_revokes_the_others(client, by):
    email, old_password, created = create_user(client, session_minutes=60)
    other = client.passwords.authenticate(email=email, password=old_password, session_duration_minutes=60)
    new_password = strong_password()
    kept = {"session_token": created.session_token, "session_jwt": created.session_jwt}[by]
    resp = client.passwords.sessions.reset(password=new_password, session_duration_minutes=120, **{by: kept})
    assert_meta(resp)
    assert resp.user_id == created.user_id
    assert_user(resp.user, user_id=created.user_id, email=email)
    assert resp.session_jwt
    assert_session(resp.session, user_id=created.user_id, minutes=120)
    assert resp.session.session_id == created.session.session_id, "session reset keeps the session it was given"
    if by == "session_token":
        assert resp.session_token == created.session_token
    else:
        # Latch stores session tokens only as digests, so a session named by its JWT alone is
        # answered with session_token "" (a documented deviation, README "Sessions").
        assert resp.session_token in ("", created.session_token)
    jwt_session = client.sessions.authenticate(session_jwt=resp.session_jwt)
    assert jwt_session.session.session_id == created.session.session_id

    still = client.sessions.authenticate(session_token=created.session_token)
    assert still.session.session_id == created.session.session_id
    assert_session_gone(client, other.session_token)
    assert [s.session_id for s in client.sessions.get(user_id=created.user_id).sessions] == [
        created.session.session_id
    ]
    client.passwords.authenticate(email=email, password=new_password)
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=old_password), "unauthorized_credentials", 401
    )


def test_session_reset_with_unknown_session(client):
    expect_error(
        lambda: client.passwords.sessions.reset(
            password=strong_password(), session_token="no-such-token-" + uuid.uuid4().hex
        ),
        "session_not_found",
        404,
    )
