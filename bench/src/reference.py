# The C reference (libargon2 through argon2-cffi), timed in-process so interpreter start-up is not
# counted. Arguments: m_kib t p iterations password salt_hex. Prints one JSON object.
import json
import sys
import time
from importlib.metadata import version

from argon2.low_level import Type, hash_secret, hash_secret_raw, verify_secret

m, t, p, iterations = (int(a) for a in sys.argv[1:5])
password = sys.argv[5].encode()
salt = bytes.fromhex(sys.argv[6])
encoded = hash_secret(password, salt, t, m, p, 32, Type.ID)


def hash_once():
    hash_secret_raw(password, salt, t, m, p, 32, Type.ID)


def verify_once():
    assert verify_secret(encoded, password, Type.ID)


def timed(f):
    f()  # warm-up, not counted
    out = []
    for _ in range(iterations):
        start = time.perf_counter()
        f()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


print(
    json.dumps(
        {
            "hash_ms": timed(hash_once),
            "verify_ms": timed(verify_once),
            "argon2_cffi": version("argon2-cffi"),
            "argon2_cffi_bindings": version("argon2-cffi-bindings"),
            "python": sys.version.split()[0],
        }
    )
)
