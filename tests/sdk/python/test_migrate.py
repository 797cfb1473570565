"""Password-hash migration (`passwords.migrate`, consumer and B2B) driven by the official Stytch
Python SDK.

Contract: docs/migration.md; docs/reference/stytch-api.md §5 C4 and B11, §10.

The hashes come from tests/data/migrate/vectors.json, made by the source ecosystems' own tools
(tests/data/migrate/make_vectors.py): every vector is migrated through the SDK, and the user then
logs in with the original password. Success bodies are parsed by the SDK's pydantic models
(`MigrateResponse`, `User`, `Member`, `Organization`); error cases check the Stytch envelope.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
import stytch
from conftest import assert_member_logged_in, assert_meta, expect_error

VECTORS_FILE = Path(__file__).resolve().parents[2] / "data" / "migrate" / "vectors.json"
VECTORS: list[dict] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
BY_NAME = {v["name"]: v for v in VECTORS}

# One cheap vector per form, for the tests that are about the endpoint rather than the hash.
BCRYPT = BY_NAME["bcrypt $2y$ cost 4, non-ASCII password (passlib bcrypt ident 2y, as PHP password_hash)"]
BCRYPT_LONG = BY_NAME["bcrypt $2b$ cost 4, 97-byte password (only the first 72 bytes count)"]
MD5_SALTED = BY_NAME["md_5 hex digest, prepend and append salt (hashlib.md5)"]
ARGON2ID_PHC = BY_NAME["argon_2id PHC m=8192,t=1,p=4 (argon2-cffi)"]
SCRYPT_RAW = BY_NAME["scrypt raw base64, N=1024,r=8,p=2, key 32, 8-byte salt, non-ASCII password"]
PBKDF2 = BY_NAME["pbkdf_2 sha256, 10000 iterations, key 32"]
PHPASS = BY_NAME["phpass $P$B 2^13 rounds (WordPress's stored hashes)"]


# ---------------------------------------------------------------------------- helpers


def unique_email(kind: str = "mig") -> str:
    return f"sdk-py-{kind}-{uuid.uuid4().hex[:16]}@example.com"


def strong_password() -> str:
    return f"Latch-{uuid.uuid4().hex[:20]}-Mig!"


def uid() -> str:
    return uuid.uuid4().hex[:12]


def wrong_password(vector: dict) -> str:
    # The first wrong password is always the one-character near miss (never empty).
    wrong = vector["wrong_passwords"][0]
    assert wrong
    return wrong


def migrate(client: stytch.Client, email: str, vector: dict, **kwargs):
    """client.passwords.migrate with the vector's request fields (hash, hash_type, *_config)."""
    return client.passwords.migrate(email=email, **vector["migrate"], **kwargs)


def b2b_migrate(b2b: stytch.B2BClient, org_id: str, email: str, vector: dict, **kwargs):
    return b2b.passwords.migrate(organization_id=org_id, email_address=email, **vector["migrate"], **kwargs)


def assert_migrated_user(resp, *, email: str, created: bool, verified: bool) -> None:
    assert_meta(resp)
    assert resp.user_created is created
    assert resp.user_id.startswith("user-"), resp.user_id
    assert resp.user.user_id == resp.user_id
    assert [e.email for e in resp.user.emails] == [email]
    assert resp.user.emails[0].email_id == resp.email_id
    assert resp.user.emails[0].verified is verified
    assert resp.user.status == "active"
    assert resp.user.is_locked is False
    assert resp.user.password is not None and resp.user.password.password_id, "user.password must be set"


def assert_login(client: stytch.Client, email: str, password: str, user_id: str, **kwargs):
    resp = client.passwords.authenticate(email=email, password=password, **kwargs)
    assert_meta(resp)
    assert resp.user_id == user_id
    assert resp.user.user_id == user_id
    return resp


def assert_refused_login(client: stytch.Client, email: str, password: str) -> None:
    expect_error(
        lambda: client.passwords.authenticate(email=email, password=password),
        "unauthorized_credentials",
        401,
    )


def new_org(b2b: stytch.B2BClient):
    tag = uid()
    resp = b2b.organizations.create(organization_name=f"SDK py migrate {tag}", organization_slug=f"sdk-py-mig-{tag}")
    assert_meta(resp)
    return resp.organization


def assert_migrated_member(resp, *, org, email: str, created: bool) -> None:
    assert_meta(resp)
    assert resp.member_created is created
    assert resp.member_id.startswith("member-"), resp.member_id
    m = resp.member
    assert m.member_id == resp.member_id
    assert m.organization_id == org.organization_id
    assert m.email_address == email
    assert m.status == "active"
    assert m.email_address_verified is True, "a migrated member's email is always verified"
    assert m.member_password_id, "member_password_id must be set after migrate"
    assert m.is_locked is False
    assert resp.organization.organization_id == org.organization_id


def assert_member_login(b2b, org, email: str, password: str, member_id: str):
    resp = b2b.passwords.authenticate(organization_id=org.organization_id, email_address=email, password=password)
    assert_member_logged_in(resp, member_id)
    ms = resp.member_session
    assert ms is not None and ms.member_id == member_id
    assert [f.type for f in ms.authentication_factors] == ["password"]
    remaining = (ms.expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert abs(remaining - 3600) < 120, f"the default B2B session lasts 60 minutes: {ms.expires_at}"
    return resp


def with_cost(bcrypt_hash: str, cost: int) -> str:
    """The same bcrypt string with another cost field (its digest then no longer matches)."""
    ident, _, rest = bcrypt_hash[1:].split("$", 2)
    return f"${ident}${cost:02d}${rest}"


# ---------------------------------------------------------------------------- consumer C4


def test_vectors_file_is_there():
    assert len(VECTORS) >= 30, VECTORS_FILE
    assert {v["migrate"]["hash_type"] for v in VECTORS} == {
        "bcrypt", "md_5", "sha_1", "sha_512", "argon_2i", "argon_2id", "scrypt", "pbkdf_2", "phpass",
    }


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_migrate_vector_then_login(client, vector):
    """Every known-answer vector: migrate a new email, log in with the original password (the
    first login upgrades the hash), a wrong password is refused, and the login works again."""
    email = unique_email()
    # Alternate the verified flag by vector, so both values are covered.
    verified = VECTORS.index(vector) % 2 == 0
    resp = migrate(client, email, vector, set_email_verified=verified)
    assert_migrated_user(resp, email=email, created=True, verified=verified)
    user_id = resp.user_id

    assert_login(client, email, vector["password"], user_id)
    assert_refused_login(client, email, wrong_password(vector))
    # After the upgrade to argon2id the same password still works, the wrong one still does not.
    assert_login(client, email, vector["password"], user_id)
    assert_refused_login(client, email, wrong_password(vector))


def test_migrate_without_set_email_verified_leaves_the_email_unverified(client):
    email = unique_email()
    resp = migrate(client, email, PBKDF2)
    assert_migrated_user(resp, email=email, created=True, verified=False)
    got = client.users.get(user_id=resp.user_id)
    assert got.emails[0].verified is False
    assert got.password is not None and got.password.password_id


def test_migrate_login_with_a_session(client):
    email = unique_email()
    resp = migrate(client, email, ARGON2ID_PHC, set_email_verified=True)
    assert_migrated_user(resp, email=email, created=True, verified=True)
    login = assert_login(client, email, ARGON2ID_PHC["password"], resp.user_id, session_duration_minutes=30)
    assert login.session_token and login.session_jwt
    assert login.session is not None and login.session.user_id == resp.user_id
    assert login.session.authentication_factors[0].type == "password"


def test_migrate_name_and_metadata_on_a_new_user(client):
    email = unique_email()
    resp = migrate(
        client,
        email,
        MD5_SALTED,
        name={"first_name": "Ada", "last_name": "Lovelace"},
        trusted_metadata={"imported_from": "legacy", "plan": 3},
        untrusted_metadata={"theme": "dark"},
    )
    assert_migrated_user(resp, email=email, created=True, verified=False)
    assert resp.user.name is not None
    assert resp.user.name.first_name == "Ada" and resp.user.name.last_name == "Lovelace"
    assert resp.user.trusted_metadata == {"imported_from": "legacy", "plan": 3}
    assert resp.user.untrusted_metadata == {"theme": "dark"}


def test_migrate_retry_is_harmless_until_the_first_login_upgrades_the_hash(client):
    email = unique_email()
    first = migrate(client, email, BCRYPT)
    assert_migrated_user(first, email=email, created=True, verified=False)
    # The same hash again (a retried import row): the same success, nothing created.
    again = migrate(client, email, BCRYPT)
    assert_migrated_user(again, email=email, created=False, verified=False)
    assert again.user_id == first.user_id
    assert again.email_id == first.email_id
    assert_login(client, email, BCRYPT["password"], first.user_id)
    # The login replaced the stored hash with argon2id: the imported hash is now another password.
    expect_error(lambda: migrate(client, email, BCRYPT), "password_already_exists", 400)
    assert_login(client, email, BCRYPT["password"], first.user_id)


def test_migrate_a_different_hash_onto_a_migrated_user_is_password_already_exists(client):
    email = unique_email()
    first = migrate(client, email, SCRYPT_RAW)
    assert_migrated_user(first, email=email, created=True, verified=False)
    expect_error(lambda: migrate(client, email, PHPASS), "password_already_exists", 400)
    # The refusal changed nothing.
    assert_login(client, email, SCRYPT_RAW["password"], first.user_id)
    assert_refused_login(client, email, PHPASS["password"])


def test_migrate_onto_a_user_created_with_a_password_is_password_already_exists(client):
    email, password = unique_email(), strong_password()
    created = client.passwords.create(email=email, password=password)
    assert_meta(created)
    expect_error(lambda: migrate(client, email, BCRYPT, set_email_verified=True), "password_already_exists", 400)
    # The password the user created is still the one that works.
    assert_login(client, email, password, created.user_id)
    assert_refused_login(client, email, BCRYPT["password"])


ALSO_ACCEPTED = [(v, other) for v in VECTORS for other in v.get("also_accepts", [])]


@pytest.mark.parametrize(
    "vector,other", ALSO_ACCEPTED, ids=[f"{v['name']} / also_accepts[{v['also_accepts'].index(o)}]" for v, o in ALSO_ACCEPTED]
)
def test_migrate_bcrypt_only_the_first_72_bytes_count(client, vector, other):
    """Before the first login replaces it, a bcrypt hash takes any password with the same first
    72 bytes (the login is then the upgrade, so each case gets its own user)."""
    email = unique_email()
    resp = migrate(client, email, vector)
    assert_migrated_user(resp, email=email, created=True, verified=False)
    assert_login(client, email, other, resp.user_id)


def _valid_bcrypt() -> str:
    return BY_NAME["bcrypt $2b$ cost 10 (bcrypt.hashpw)"]["migrate"]["hash"]


HASH_ERRORS = [
    # (id, request fields, error_type): names from docs/reference/stytch-api.md §5 C4 / §10.
    ("bcrypt-short", {"hash_type": "bcrypt", "hash": "$2b$10$short"}, "invalid_bcrypt_hash"),
    ("bcrypt-not-modular-crypt", {"hash_type": "bcrypt", "hash": "not a bcrypt hash"}, "invalid_bcrypt_hash"),
    ("bcrypt-cost-31", {"hash_type": "bcrypt", "hash": with_cost(_valid_bcrypt(), 31)}, "invalid_bcrypt_cost"),
    ("bcrypt-cost-14", {"hash_type": "bcrypt", "hash": with_cost(_valid_bcrypt(), 14)}, "invalid_bcrypt_cost"),
    ("bcrypt-cost-3", {"hash_type": "bcrypt", "hash": with_cost(_valid_bcrypt(), 3)}, "invalid_bcrypt_cost"),
    ("unknown-hash-type", {"hash_type": "md4", "hash": "31d6cfe0d16ae931b73c59d7e0c089c0"}, "invalid_hash_type"),
    ("md5-not-hex", {"hash_type": "md_5", "hash": "zz" * 16}, "invalid_md_5_hash"),
    ("md5-wrong-length", {"hash_type": "md_5", "hash": "ab" * 15}, "invalid_md_5_hash"),
    ("sha1-wrong-length", {"hash_type": "sha_1", "hash": "ab" * 16}, "invalid_sha_1_hash"),
    (
        "scrypt-n-not-power-of-two",
        {**SCRYPT_RAW["migrate"], "scrypt_config": {**SCRYPT_RAW["migrate"]["scrypt_config"], "n_parameter": 1000}},
        "invalid_scrypt_n_parameter",
    ),
    (
        "scrypt-key-length-mismatch",
        {**SCRYPT_RAW["migrate"], "scrypt_config": {**SCRYPT_RAW["migrate"]["scrypt_config"], "key_length": 64}},
        "scrypt_key_length_mismatch",
    ),
    (
        "scrypt-salt-not-base64",
        {**SCRYPT_RAW["migrate"], "scrypt_config": {**SCRYPT_RAW["migrate"]["scrypt_config"], "salt": "%%%not base64%%%"}},
        "invalid_base64_scrypt_salt",
    ),
    (
        "pbkdf2-too-many-iterations",
        {**PBKDF2["migrate"], "pbkdf_2_config": {**PBKDF2["migrate"]["pbkdf_2_config"], "iteration_amount": 100_000_000}},
        "invalid_pbkdf_2_iteration_amount",
    ),
    (
        "pbkdf2-key-length-mismatch",
        {**PBKDF2["migrate"], "pbkdf_2_config": {**PBKDF2["migrate"]["pbkdf_2_config"], "key_length": 64}},
        "pbkdf_2_key_length_mismatch",
    ),
    (
        "argon2-hex-key-length-mismatch",
        {
            **BY_NAME["argon_2id raw hex, salt string, m=19456,t=2,p=1,key 32"]["migrate"],
            "argon_2_config": {
                **BY_NAME["argon_2id raw hex, salt string, m=19456,t=2,p=1,key 32"]["migrate"]["argon_2_config"],
                "key_length": 64,
            },
        },
        "argon_2_key_length_mismatch",
    ),
    (
        "argon2-memory-too-high",
        {
            **BY_NAME["argon_2id raw hex, salt string, m=19456,t=2,p=1,key 32"]["migrate"],
            "argon_2_config": {
                **BY_NAME["argon_2id raw hex, salt string, m=19456,t=2,p=1,key 32"]["migrate"]["argon_2_config"],
                "memory": 262144,
            },
        },
        "invalid_argon_2_memory",
    ),
    ("phpass-prefix", {"hash_type": "phpass", "hash": "$X$" + PHPASS["migrate"]["hash"][3:]}, "invalid_phpass_hash_prefix"),
    ("phpass-format", {"hash_type": "phpass", "hash": PHPASS["migrate"]["hash"][:-5]}, "invalid_phpass_hash_format"),
]


@pytest.mark.parametrize("fields,error_type", [(f, e) for _, f, e in HASH_ERRORS], ids=[i for i, _, _ in HASH_ERRORS])
def test_migrate_refuses_bad_hashes(client, fields, error_type):
    email = unique_email()
    expect_error(lambda: client.passwords.migrate(email=email, **fields), error_type, 400)
    # Nothing was created.
    expect_error(lambda: client.passwords.authenticate(email=email, password="whatever-Pass-123"), "email_not_found", 404)


@pytest.mark.parametrize(
    "extra",
    [{"phone_number": "+12025550123"}, {"external_id": "legacy-42"}, {"roles": ["admin"]}],
    ids=["phone_number", "external_id", "roles"],
)
def test_migrate_refuses_consumer_fields_latch_cannot_store(client, extra):
    email = unique_email()
    expect_error(lambda: migrate(client, email, BCRYPT, **extra), "bad_request", 400)
    expect_error(lambda: client.passwords.authenticate(email=email, password=BCRYPT["password"]), "email_not_found", 404)


def test_migrate_invalid_email(client):
    expect_error(lambda: migrate(client, "not-an-email", BCRYPT), "invalid_email", 400)


# ---------------------------------------------------------------------------- B2B B11


@pytest.mark.parametrize(
    "vector", [BCRYPT, MD5_SALTED, ARGON2ID_PHC, SCRYPT_RAW, PBKDF2, PHPASS], ids=lambda v: v["migrate"]["hash_type"]
)
def test_b2b_migrate_creates_an_active_verified_member_who_can_log_in(b2b, vector):
    org = new_org(b2b)
    email = unique_email("b2b-mig")
    resp = b2b_migrate(b2b, org.organization_id, email, vector)
    assert_migrated_member(resp, org=org, email=email, created=True)
    member_id = resp.member_id

    assert_member_login(b2b, org, email, vector["password"], member_id)
    expect_error(
        lambda: b2b.passwords.authenticate(
            organization_id=org.organization_id, email_address=email, password=wrong_password(vector)
        ),
        "unauthorized_credentials",
        401,
    )
    assert_member_login(b2b, org, email, vector["password"], member_id)
    got = b2b.organizations.members.get(organization_id=org.organization_id, member_id=member_id)
    assert got.member.status == "active" and got.member.email_address_verified is True


def test_b2b_migrate_again_same_hash_then_different_hash(b2b):
    org = new_org(b2b)
    email = unique_email("b2b-mig")
    first = b2b_migrate(b2b, org.organization_id, email, PBKDF2)
    assert_migrated_member(first, org=org, email=email, created=True)
    # A retried import row: the same success, no second member.
    again = b2b_migrate(b2b, org.organization_id, email, PBKDF2)
    assert_migrated_member(again, org=org, email=email, created=False)
    assert again.member_id == first.member_id
    # Another hash for the same email: refused, the first password stays.
    expect_error(lambda: b2b_migrate(b2b, org.organization_id, email, BCRYPT), "password_already_exists", 400)
    assert_member_login(b2b, org, email, PBKDF2["password"], first.member_id)
    # After the login upgraded the hash, even the original hash is another password.
    expect_error(lambda: b2b_migrate(b2b, org.organization_id, email, PBKDF2), "password_already_exists", 400)


def test_b2b_migrate_onto_an_existing_member_without_a_password(b2b):
    org = new_org(b2b)
    email = unique_email("b2b-mig")
    created = b2b.organizations.members.create(organization_id=org.organization_id, email_address=email, name="Grace")
    assert_meta(created)
    resp = b2b_migrate(b2b, org.organization_id, email, PHPASS, name="Not Applied")
    assert_migrated_member(resp, org=org, email=email, created=False)
    assert resp.member_id == created.member_id
    assert resp.member.name == "Grace", "name is applied to new members only"
    assert_member_login(b2b, org, email, PHPASS["password"], created.member_id)


def test_b2b_migrate_by_organization_slug_with_name_and_metadata(b2b):
    org = new_org(b2b)
    email = unique_email("b2b-mig")
    resp = b2b_migrate(
        b2b,
        org.organization_slug,
        email,
        ARGON2ID_PHC,
        name="Ada Lovelace",
        trusted_metadata={"imported_from": "legacy"},
        untrusted_metadata={"theme": "dark"},
    )
    assert_migrated_member(resp, org=org, email=email, created=True)
    assert resp.member.name == "Ada Lovelace"
    assert resp.member.trusted_metadata == {"imported_from": "legacy"}
    assert resp.member.untrusted_metadata == {"theme": "dark"}
    assert_member_login(b2b, org, email, ARGON2ID_PHC["password"], resp.member_id)


def test_b2b_migrate_organization_not_found(b2b):
    expect_error(
        lambda: b2b_migrate(
            b2b, "organization-test-00000000-0000-4000-8000-000000000000", unique_email("b2b-mig"), BCRYPT
        ),
        "organization_not_found",
        404,
    )


def test_b2b_migrate_refuses_bad_hashes(b2b):
    org = new_org(b2b)
    email = unique_email("b2b-mig")
    expect_error(
        lambda: b2b.passwords.migrate(
            organization_id=org.organization_id, email_address=email, hash_type="bcrypt", hash="$2b$10$short"
        ),
        "invalid_bcrypt_hash",
        400,
    )
    expect_error(
        lambda: b2b.passwords.migrate(
            organization_id=org.organization_id, email_address=email, hash_type="md4", hash="00" * 16
        ),
        "invalid_hash_type",
        400,
    )
    # Nothing was created.
    expect_error(
        lambda: b2b.organizations.members.get(organization_id=org.organization_id, email_address=email),
        "member_not_found",
        404,
    )
