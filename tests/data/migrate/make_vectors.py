#!/usr/bin/env python3
"""Known-answer vectors for Latch's password-hash migration (docs/migration.md).

Every hash in vectors.json is made by the SOURCE ECOSYSTEM'S OWN TOOL, not by Latch:
the `bcrypt` package (pyca, Rust inside), passlib 1.7.4 (bcrypt $2a$/$2y$, scrypt PHC,
phpass, Django pbkdf2_sha256), argon2-cffi (libargon2) and the standard library's hashlib
(md5, sha1, sha512, scrypt, pbkdf2_hmac, backed by OpenSSL). Latch's verifiers are then
tested against what those tools wrote.

Each vector holds a `password` that must verify, `wrong_passwords` that must not, optional
`also_accepts` (other passwords that must verify too: bcrypt ignores bytes after the 72nd),
and `migrate`: exactly the JSON body of a migrate request minus email / email_address /
organization_id.

Rerun (output is deterministic: every salt is fixed, so the same file comes out again):

    python3 -m venv /tmp/vec-venv
    /tmp/vec-venv/bin/pip install -r tests/data/migrate/requirements.txt
    /tmp/vec-venv/bin/python tests/data/migrate/make_vectors.py > tests/data/migrate/vectors.json

Before printing, the script checks every vector with the source tools (the password and
`also_accepts` verify, every wrong password does not) and reports on stderr how long those
checks took, as an estimate of what verifying the whole file costs (the tools are native code,
like an optimised Rust build). Keep that total around one second.

bcrypt is pinned to 4.x on purpose: bcrypt >= 5 refuses passwords longer than 72 bytes, and
the >72-byte vectors need 4.x's silent truncation (the behaviour every deployed bcrypt hash
was made with).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import platform
import sys
import time
from importlib.metadata import version as pkg_version

import argon2
import bcrypt
from argon2 import PasswordHasher, low_level
from passlib.hash import bcrypt as passlib_bcrypt
from passlib.hash import django_pbkdf2_sha256, phpass
from passlib.hash import scrypt as passlib_scrypt
from passlib.utils.binary import bcrypt64

# passlib 1.7.4 looks for bcrypt.__about__, which bcrypt 4.1+ no longer has; it logs a trapped
# error and works on. Keep stderr for our own report.
logging.getLogger("passlib").setLevel(logging.CRITICAL)

PASSLIB = pkg_version("passlib")
BCRYPT = pkg_version("bcrypt")
ARGON2 = pkg_version("argon2-cffi")

NON_ASCII = "pässwörd 密码 🔑"

VECTORS: list[dict] = []


def b64(data: bytes) -> str:
    """Standard base64 with padding (what the migrate API takes for scrypt/pbkdf2)."""
    return base64.b64encode(data).decode("ascii")


def fixed_bytes(label: str, n: int) -> bytes:
    """Deterministic pseudo-random bytes for a salt."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"latch-migrate-vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def bcrypt_salt(label: str) -> bytes:
    """22 bcrypt-base64 characters encoding 16 fixed bytes (canonical final character)."""
    salt = bcrypt64.encode_bytes(fixed_bytes(label, 16))
    assert len(salt) == 22, salt
    return salt


def near_miss(password: str) -> str:
    """The password with one character changed: its last ASCII letter or digit becomes the next
    one (z -> a, Z -> A, 9 -> 0)."""
    chars = list(password)
    for i in range(len(chars) - 1, -1, -1):
        c = chars[i]
        for lo, hi in (("a", "z"), ("A", "Z"), ("0", "9")):
            if lo <= c <= hi:
                chars[i] = lo if c == hi else chr(ord(c) + 1)
                out = "".join(chars)
                assert out != password and len(out) == len(password)
                return out
    raise ValueError(f"no ASCII letter or digit in {password!r}")


def add(name: str, tool: str, password: str, wrong: list[str], migrate: dict, verify,
        also_accepts: list[str] | None = None) -> None:
    assert len(wrong) >= 2, name
    assert password not in wrong, name
    v = {"name": name, "tool": tool, "password": password, "wrong_passwords": wrong}
    if also_accepts:
        v["also_accepts"] = also_accepts
    v["migrate"] = migrate
    VECTORS.append((v, verify))


def wrongs(password: str, *extra: str) -> list[str]:
    out = [near_miss(password)]
    for e in extra:
        if e not in out and e != password:
            out.append(e)
    return out


# --------------------------------------------------------------------------- bcrypt

def bcrypt_vectors() -> None:
    # $2b$ with the bcrypt package itself.
    pw = "Gr33n-Tea-At-Noon!"
    h = bcrypt.hashpw(pw.encode(), b"$2b$10$" + bcrypt_salt("bcrypt-2b-10")).decode()
    add("bcrypt $2b$ cost 10 (bcrypt.hashpw)", f"bcrypt {BCRYPT}", pw,
        wrongs(pw, ""),
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: bcrypt.checkpw(p.encode(), h.encode()))

    pw = NON_ASCII
    h = bcrypt.hashpw(pw.encode(), b"$2b$04$" + bcrypt_salt("bcrypt-2b-4")).decode()
    add("bcrypt $2b$ cost 4, non-ASCII password (bcrypt.hashpw)", f"bcrypt {BCRYPT}", pw,
        wrongs(pw, "passwörd 密码 🔑", "pässwörd 密码"),
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: bcrypt.checkpw(p.encode(), h.encode()))

    # $2a$ and $2y$ as passlib writes them (the idents of older OpenBSD and PHP crypt_blowfish).
    pw = "Sunflower-Harbor-1987"
    h = passlib_bcrypt.using(ident="2a", rounds=4, salt=bcrypt_salt("bcrypt-2a-4").decode()).hash(pw)
    add("bcrypt $2a$ cost 4 (passlib bcrypt ident 2a)", f"passlib {PASSLIB} bcrypt (backend bcrypt {BCRYPT})", pw,
        wrongs(pw, "Sunflower-Harbor-198", ""),
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: passlib_bcrypt.verify(p, h))

    pw = "Ünïcödé-Ørchard-€42"
    h = passlib_bcrypt.using(ident="2y", rounds=4, salt=bcrypt_salt("bcrypt-2y-4").decode()).hash(pw)
    add("bcrypt $2y$ cost 4, non-ASCII password (passlib bcrypt ident 2y, as PHP password_hash)",
        f"passlib {PASSLIB} bcrypt (backend bcrypt {BCRYPT})", pw,
        wrongs(pw, "Unicode-Orchard-€42", "ünïcödé-ørchard-€42"),
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: passlib_bcrypt.verify(p, h))

    pw = "Violet-Canyon-Echo-55"
    h = passlib_bcrypt.using(ident="2y", rounds=5, salt=bcrypt_salt("bcrypt-2y-5").decode()).hash(pw)
    add("bcrypt $2y$ cost 5 (passlib bcrypt ident 2y)", f"passlib {PASSLIB} bcrypt (backend bcrypt {BCRYPT})", pw,
        wrongs(pw, "Violet-Canyon-Echo-55 ", ""),
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: passlib_bcrypt.verify(p, h))

    # Longer than 72 bytes: bcrypt only uses the first 72.
    head = "The-quick-brown-fox-jumps-over-the-lazy-dog-while-72-bytes-run-out-here!"
    assert len(head.encode()) == 72, len(head.encode())
    pw = head + "-and-this-tail-is-ignored"
    h = bcrypt.hashpw(pw.encode(), b"$2b$04$" + bcrypt_salt("bcrypt-long-ascii")).decode()
    add("bcrypt $2b$ cost 4, 97-byte password (only the first 72 bytes count)",
        f"bcrypt {BCRYPT} hashpw (4.x truncates silently at 72 bytes; bcrypt>=5 raises)", pw,
        [head[:-1] + "?" + "-and-this-tail-is-ignored", head[:-1], "The-quick-brown-fox"],
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: bcrypt.checkpw(p.encode(), h.encode()),
        also_accepts=[head, head + "-a-completely-different-tail"])

    # The 72-byte cut falls inside a two-byte UTF-8 character (é = C3 A9): byte 72 is C3.
    # Another character with the same lead byte (ö = C3 B6) after the same 71 bytes is accepted.
    prefix = "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. 12"
    nb = len(prefix.encode())
    assert nb == 71, nb
    pw = prefix + "é-noch mehr Text"
    assert pw.encode()[71:72] == b"\xc3"
    h = bcrypt.hashpw(pw.encode(), b"$2b$05$" + bcrypt_salt("bcrypt-long-utf8")).decode()
    add("bcrypt $2b$ cost 5, >72-byte UTF-8 password cut inside a character",
        f"bcrypt {BCRYPT} hashpw (4.x truncates silently at 72 bytes; bcrypt>=5 raises)", pw,
        [prefix.replace("Viktor", "Viktar") + "é-noch mehr Text", prefix + "a-noch mehr Text", prefix],
        {"hash_type": "bcrypt", "hash": h},
        lambda p, h=h: bcrypt.checkpw(p.encode(), h.encode()),
        also_accepts=[prefix + "ö", prefix + "é", prefix + "Ã-ganz anders"])


# --------------------------------------------------------------------------- md5 / sha1 / sha512

def digest_vectors() -> None:
    cases = [
        # (hash_type, hashlib name, config key)
        ("md_5", "md5", "md_5_config"),
        ("sha_1", "sha1", "sha_1_config"),
        ("sha_512", "sha512", "sha_512_config"),
    ]
    for hash_type, algo, cfg_key in cases:
        def mk(password, prepend="", append=""):
            return hashlib.new(algo, (prepend + password + append).encode()).hexdigest()

        def ver(prepend="", append="", algo=algo):
            def f(p, h):
                return hashlib.new(algo, (prepend + p + append).encode()).hexdigest() == h.lower()
            return f

        # No config.
        pw = f"Plain-{algo}-Password-2016"
        h = mk(pw)
        add(f"{hash_type} hex digest, no salt (hashlib.{algo})", f"python hashlib {algo}", pw,
            wrongs(pw, pw.lower(), ""),
            {"hash_type": hash_type, "hash": h},
            lambda p, h=h, f=ver(): f(p, h))

        # Prepend salt only.
        pw = f"Prepended-{algo}!"
        pre = f"{algo}-site-salt:"
        h = mk(pw, prepend=pre)
        if hash_type == "md_5":
            cfg = {"prepend_salt": pre}  # append_salt omitted (Node / raw HTTP may omit it)
        else:
            cfg = {"prepend_salt": pre, "append_salt": ""}  # the Python SDK sends both
        add(f"{hash_type} hex digest, prepend salt only (hashlib.{algo})", f"python hashlib {algo}", pw,
            wrongs(pw, pre + pw, ""),
            {"hash_type": hash_type, "hash": h, cfg_key: cfg},
            lambda p, h=h, f=ver(prepend=pre): f(p, h))

        # Append salt only.
        pw = NON_ASCII if hash_type == "sha_1" else f"Appended-{algo}?"
        app = "::pepper-ß-🧂" if hash_type == "sha_1" else f"#{algo}-suffix"
        h = mk(pw, append=app)
        if hash_type == "sha_512":
            cfg = {"append_salt": app}
        else:
            cfg = {"prepend_salt": "", "append_salt": app}
        add(f"{hash_type} hex digest, append salt only (hashlib.{algo})", f"python hashlib {algo}", pw,
            wrongs(pw, pw + app, ""),
            {"hash_type": hash_type, "hash": h, cfg_key: cfg},
            lambda p, h=h, f=ver(append=app): f(p, h))

        # Both.
        pw = NON_ASCII if hash_type != "sha_1" else "Both-Sides-Salted-77"
        pre, app = f"{algo}前", f"後{algo}"
        h = mk(pw, prepend=pre, append=app)
        add(f"{hash_type} hex digest, prepend and append salt (hashlib.{algo})", f"python hashlib {algo}", pw,
            wrongs(pw, pre + pw + app, pw[:-1]),
            {"hash_type": hash_type, "hash": h, cfg_key: {"prepend_salt": pre, "append_salt": app}},
            lambda p, h=h, f=ver(prepend=pre, append=app): f(p, h))

    # Uppercase hex digest.
    pw = "UPPER-case-Digest-42"
    h = hashlib.md5(pw.encode()).hexdigest().upper()
    add("md_5 hex digest in UPPERCASE, no salt (hashlib.md5, .upper())", "python hashlib md5", pw,
        wrongs(pw, "upper-case-digest-42", ""),
        {"hash_type": "md_5", "hash": h},
        lambda p, h=h: hashlib.md5(p.encode()).hexdigest() == h.lower())


# --------------------------------------------------------------------------- argon2

def argon2_vectors() -> None:
    ph_verify = PasswordHasher()

    def phc(label, pw, type_, t, m, p, hash_len, salt_len, name, wrong):
        ph = PasswordHasher(time_cost=t, memory_cost=m, parallelism=p, hash_len=hash_len,
                            salt_len=salt_len, type=type_)
        h = ph.hash(pw, salt=fixed_bytes(label, salt_len))
        hash_type = {low_level.Type.ID: "argon_2id", low_level.Type.I: "argon_2i"}[type_]
        add(name, f"argon2-cffi {ARGON2} PasswordHasher", pw, wrong,
            {"hash_type": hash_type, "hash": h},
            lambda p_, h=h: _ok(lambda: ph_verify.verify(h, p_)))

    pw = NON_ASCII
    phc("argon2id-owasp", pw, low_level.Type.ID, 2, 19456, 1, 32, 16,
        "argon_2id PHC m=19456,t=2,p=1 (OWASP), non-ASCII password (argon2-cffi)",
        wrongs(pw, ""))
    pw = "Lantern-Glacier-Moss-9"
    phc("argon2id-p4", pw, low_level.Type.ID, 1, 8192, 4, 32, 16,
        "argon_2id PHC m=8192,t=1,p=4 (argon2-cffi)",
        wrongs(pw, "Lantern-Glacier-Moss-", ""))
    pw = "short-salt-short-key"
    phc("argon2id-min", pw, low_level.Type.ID, 1, 8192, 2, 16, 8,
        "argon_2id PHC m=8192,t=1,p=2, 8-byte salt, 16-byte key (argon2-cffi)",
        wrongs(pw, "Short-salt-short-key"))
    pw = "Old-Argon2i-Hash-Ω"
    phc("argon2i-v19", pw, low_level.Type.I, 2, 8192, 1, 32, 16,
        "argon_2i PHC v=19 m=8192,t=2,p=1 (argon2-cffi)",
        wrongs(pw, ""))

    # Argon2 version 1.0 (0x10): argon2-cffi writes `v=16`; releases of libargon2 before the
    # version field existed wrote no `v=` at all, which still means 0x10 (argon2-cffi and
    # libargon2 decode it so).
    pw = "Version-Sixteen-2015"
    salt = fixed_bytes("argon2i-v16", 16)
    h = low_level.hash_secret(pw.encode(), salt, time_cost=2, memory_cost=8192, parallelism=1,
                              hash_len=32, type=low_level.Type.I, version=16).decode()
    assert h.startswith("$argon2i$v=16$"), h
    add("argon_2i PHC v=16 (Argon2 1.0) m=8192,t=2,p=1 (argon2-cffi low_level, version=16)",
        f"argon2-cffi {ARGON2} low_level.hash_secret(version=16)", pw,
        wrongs(pw, ""),
        {"hash_type": "argon_2i", "hash": h},
        lambda p, h=h: _ok(lambda: low_level.verify_secret(h.encode(), p.encode(), low_level.Type.I)))
    h_nov = h.replace("$v=16$", "$", 1)
    assert h_nov.startswith("$argon2i$m=8192,"), h_nov
    # argon2-cffi must read the same hash without `v=` as version 0x10.
    assert low_level.verify_secret(h_nov.encode(), pw.encode(), low_level.Type.I)
    add("argon_2i PHC without v= (pre-1.3 encoding, means v=16) m=8192,t=2,p=1",
        f"argon2-cffi {ARGON2} low_level.hash_secret(version=16), `v=16$` removed as libargon2 "
        "before 20160406 wrote it; argon2-cffi verifies it", pw,
        wrongs(pw, "version-sixteen-2015"),
        {"hash_type": "argon_2i", "hash": h_nov},
        lambda p, h=h_nov: _ok(lambda: low_level.verify_secret(h.encode(), p.encode(), low_level.Type.I)))

    # Raw output in hex with argon_2_config; the salt string's UTF-8 bytes are the salt (argon2 CLI).
    def raw(name, pw, type_, salt_str, t, m, p, key_len, wrong):
        hash_type = {low_level.Type.ID: "argon_2id", low_level.Type.I: "argon_2i"}[type_]
        out = low_level.hash_secret_raw(pw.encode(), salt_str.encode(), time_cost=t, memory_cost=m,
                                        parallelism=p, hash_len=key_len, type=type_)
        h = out.hex()

        def verify(p_, h=h):
            return low_level.hash_secret_raw(p_.encode(), salt_str.encode(), time_cost=t, memory_cost=m,
                                             parallelism=p, hash_len=key_len, type=type_).hex() == h
        add(name, f"argon2-cffi {ARGON2} low_level.hash_secret_raw (version 0x13), .hex()", pw, wrong,
            {"hash_type": hash_type, "hash": h,
             "argon_2_config": {"salt": salt_str, "iteration_amount": t, "memory": m,
                                "threads": p, "key_length": key_len}},
            verify)

    pw = "Raw-Hex-Argon2id-Out"
    raw("argon_2id raw hex, salt string, m=19456,t=2,p=1,key 32", pw, low_level.Type.ID,
        "latch-argon2-salt", 2, 19456, 1, 32, wrongs(pw, ""))
    pw = NON_ASCII
    raw("argon_2i raw hex, non-ASCII salt string, m=8192,t=2,p=2,key 64, non-ASCII password", pw,
        low_level.Type.I, "sél 盐 salt", 2, 8192, 2, 64, wrongs(pw, "pässwörd 密码 🔒"))
    pw = "Four-Lanes-Argon"
    raw("argon_2id raw hex, m=8192,t=1,p=4,key 16", pw, low_level.Type.ID,
        "saltsalt", 1, 8192, 4, 16, wrongs(pw, "four-lanes-argon", ""))


def _ok(fn) -> bool:
    try:
        return bool(fn())
    except (argon2.exceptions.VerifyMismatchError, argon2.exceptions.VerificationError):
        return False


# --------------------------------------------------------------------------- scrypt

def scrypt_vectors() -> None:
    # PHC strings from passlib: salt and hash in standard base64 without padding (passlib's
    # `$scrypt$` handler uses b64s, not its `./` adapted base64). b"\xfb\xef\xbe" encodes to
    # "++++", so these salts contain characters that differ between the two alphabets.
    def phc(label, pw, ln, r, p, name, wrong):
        salt = b"\xfb\xef\xbe" + fixed_bytes(label, 13)
        h = passlib_scrypt.using(salt=salt, rounds=ln, block_size=r, parallelism=p).hash(pw)
        assert h.split("$")[3].startswith("++++"), h
        add(name, f"passlib {PASSLIB} scrypt (stdlib backend)", pw, wrong,
            {"hash_type": "scrypt", "hash": h},
            lambda p_, h=h: passlib_scrypt.verify(p_, h))

    pw = "Scrypt-PHC-Passlib-12"
    phc("scrypt-phc-12", pw, 12, 8, 1, "scrypt PHC ln=12,r=8,p=1, salt with '+' (passlib)",
        wrongs(pw, ""))
    pw = NON_ASCII
    phc("scrypt-phc-10", pw, 10, 4, 2, "scrypt PHC ln=10,r=4,p=2, non-ASCII password (passlib)",
        wrongs(pw, "pässwörd 密码 ", ""))

    # Raw output in base64 with scrypt_config (salt base64 too).
    def raw(label, name, pw, n, r, p, key_len, salt_len, wrong, salt_prefix=b""):
        salt = salt_prefix + fixed_bytes(label, salt_len - len(salt_prefix))
        out = hashlib.scrypt(pw.encode(), salt=salt, n=n, r=r, p=p, dklen=key_len, maxmem=2**28)

        def verify(p_, h=out):
            return hashlib.scrypt(p_.encode(), salt=salt, n=n, r=r, p=p, dklen=key_len, maxmem=2**28) == h
        add(name, "python hashlib.scrypt (OpenSSL), base64.b64encode", pw, wrong,
            {"hash_type": "scrypt", "hash": b64(out),
             "scrypt_config": {"salt": b64(salt), "n_parameter": n, "r_parameter": r,
                               "p_parameter": p, "key_length": key_len}},
            verify)

    pw = "Raw-Scrypt-8192-Key64"
    raw("scrypt-raw-8192", "scrypt raw base64, N=8192,r=8,p=1, key 64, 16-byte salt", pw,
        8192, 8, 1, 64, 16, wrongs(pw, ""), salt_prefix=b"\xfb\xff")
    pw = NON_ASCII
    raw("scrypt-raw-1024", "scrypt raw base64, N=1024,r=8,p=2, key 32, 8-byte salt, non-ASCII password", pw,
        1024, 8, 2, 32, 8, wrongs(pw, "pässwörd 密 🔑", ""))
    pw = "Firebase-Style-Scrypt"
    raw("scrypt-raw-256", "scrypt raw base64, N=256,r=16,p=1, key 32, 32-byte salt", pw,
        256, 16, 1, 32, 32, wrongs(pw, "Firebase-Style-Scrypt!", ""))


# --------------------------------------------------------------------------- pbkdf2

def pbkdf2_vectors() -> None:
    def raw(label, name, pw, algo, iters, key_len, salt_len, wrong, cfg_algo=None):
        salt = fixed_bytes(label, salt_len)
        out = hashlib.pbkdf2_hmac(algo, pw.encode(), salt, iters, key_len)

        def verify(p_, h=out):
            return hashlib.pbkdf2_hmac(algo, p_.encode(), salt, iters, key_len) == h
        add(name, f"python hashlib.pbkdf2_hmac('{algo}') (OpenSSL), base64.b64encode", pw, wrong,
            {"hash_type": "pbkdf_2", "hash": b64(out),
             "pbkdf_2_config": {"salt": b64(salt), "iteration_amount": iters, "key_length": key_len,
                                "algorithm": algo if cfg_algo is None else cfg_algo}},
            verify)

    pw = "Pbkdf2-Sha256-10k"
    raw("pbkdf2-256-10k", "pbkdf_2 sha256, 10000 iterations, key 32", pw, "sha256", 10000, 32, 16,
        wrongs(pw, "pbkdf2-sha256-10k", ""))
    pw = NON_ASCII
    raw("pbkdf2-256-50k", "pbkdf_2 sha256, 50000 iterations, key 32, non-ASCII password", pw, "sha256",
        50000, 32, 16, wrongs(pw, "pässwörd 密码 🗝"))
    pw = "Pbkdf2-Sha512-Key64"
    raw("pbkdf2-512-1k", "pbkdf_2 sha512, 1000 iterations, key 64", pw, "sha512", 1000, 64, 24,
        wrongs(pw, "Pbkdf2-Sha512-Key6", ""))
    pw = "Two-Blocks-Of-Sha256"
    raw("pbkdf2-256-2blocks", "pbkdf_2 sha256, 1000 iterations, key 64 (two sha256 blocks)", pw, "sha256",
        1000, 64, 8, wrongs(pw, "Two-Blocks-Of-Sha25", ""))
    pw = "Empty-Algorithm-Default"
    raw("pbkdf2-default", "pbkdf_2 algorithm \"\" (empty = default sha256), 1000 iterations, key 32", pw,
        "sha256", 1000, 32, 16, wrongs(pw, "Empty-Algorithm-Defaul", ""), cfg_algo="")

    # Django's PBKDF2PasswordHasher format, as passlib writes it.
    pw = "Django-Pbkdf2-Import"
    django_salt = "p9aXQm2VfK4r"
    dj = django_pbkdf2_sha256.using(salt=django_salt, rounds=20000).hash(pw)
    algo_name, iters, salt_s, hash_b64 = dj.split("$")
    assert algo_name == "pbkdf2_sha256" and salt_s == django_salt, dj
    add("pbkdf_2 from Django pbkdf2_sha256 (hash part as is, salt = base64 of the salt's ASCII)",
        f"passlib {PASSLIB} django_pbkdf2_sha256 -> {dj}", pw,
        wrongs(pw, "django-pbkdf2-import", ""),
        {"hash_type": "pbkdf_2", "hash": hash_b64,
         "pbkdf_2_config": {"salt": b64(salt_s.encode("ascii")), "iteration_amount": int(iters),
                            "key_length": len(base64.b64decode(hash_b64)), "algorithm": "sha256"}},
        lambda p, dj=dj: django_pbkdf2_sha256.verify(p, dj))


# --------------------------------------------------------------------------- phpass

def phpass_vectors() -> None:
    def one(name, pw, ident, rounds, salt, wrong):
        h = phpass.using(ident=ident, rounds=rounds, salt=salt).hash(pw)
        assert h.startswith(f"${ident}$"), h
        add(name, f"passlib {PASSLIB} phpass (ident {ident}, rounds 2^{rounds})", pw, wrong,
            {"hash_type": "phpass", "hash": h},
            lambda p, h=h: phpass.verify(p, h))

    # WordPress's PasswordHash(8, true) and phpBB3 add 5 to the log2 count they are given, so
    # their stored hashes say $P$B (2^13) and $H$9 (2^11); 2^8 and 2^10 are other phpass users'.
    pw = "WordPress-Admin-2012"
    one("phpass $P$B 2^13 rounds (WordPress's stored hashes)", pw, "P", 13, "LatchWP1",
        wrongs(pw, "wordpress-admin-2012", ""))
    pw = NON_ASCII
    one("phpass $P$ 2^8 rounds, non-ASCII password", pw, "P", 8, "u7.Kq/Z0",
        wrongs(pw, "passwörd 密码 🔑", ""))
    pw = "phpBB3-Forum-Member"
    one("phpass $H$9 2^11 rounds (phpBB3's stored hashes)", pw, "H", 11, "phpBB3xy",
        wrongs(pw, "phpBB3-Forum-Membe", ""))
    pw = "Hashed-Ten-Rounds"
    one("phpass $H$ 2^10 rounds", pw, "H", 10, "Q0/zz.9a", wrongs(pw, ""))
    # passlib's own default (its `phpass.default_rounds`): the costliest phpass setting in use.
    pw = "Passlib-Default-Rounds-19"
    one("phpass $P$H 2^19 rounds (passlib's default)", pw, "P", 19, "LatchPL1",
        wrongs(pw, "passlib-default-rounds-19"))


# --------------------------------------------------------------------------- main

def main() -> None:
    bcrypt_vectors()
    digest_vectors()
    argon2_vectors()
    scrypt_vectors()
    pbkdf2_vectors()
    phpass_vectors()

    names = [v["name"] for v, _ in VECTORS]
    assert len(names) == len(set(names)), "vector names must be unique"

    total = 0.0
    slow = []
    for v, verify in VECTORS:
        t0 = time.perf_counter()
        assert verify(v["password"]), f"{v['name']}: password does not verify"
        for p in v.get("also_accepts", []):
            assert verify(p), f"{v['name']}: also_accepts {p!r} does not verify"
        for p in v["wrong_passwords"]:
            assert not verify(p), f"{v['name']}: wrong password {p!r} verifies"
        dt = time.perf_counter() - t0
        total += dt
        slow.append((dt, v["name"]))
    counts: dict[str, int] = {}
    for v, _ in VECTORS:
        counts[v["migrate"]["hash_type"]] = counts.get(v["migrate"]["hash_type"], 0) + 1
    print(f"{len(VECTORS)} vectors checked with the source tools in {total * 1000:.0f} ms "
          f"(every password, also_accepts and wrong password); per hash_type: {counts}", file=sys.stderr)
    for dt, name in sorted(slow, reverse=True)[:12]:
        print(f"  {dt * 1000:7.1f} ms  {name}", file=sys.stderr)

    doc = {
        "generated_by": "python3 tests/data/migrate/make_vectors.py > tests/data/migrate/vectors.json "
                        "(with tests/data/migrate/requirements.txt installed)",
        "tools": {"python": platform.python_version(), "passlib": PASSLIB, "bcrypt": BCRYPT,
                  "argon2-cffi": ARGON2},
        "vectors": [v for v, _ in VECTORS],
    }
    sys.stdout.buffer.write((json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
