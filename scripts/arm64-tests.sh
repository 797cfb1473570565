#!/usr/bin/env bash
# latch-argon2's tests on aarch64, under qemu user-mode emulation: the NEON backend
# (argon2-engine/src/neon.rs) held byte-equal to the argon2 crate and RFC 9106's test vectors
# (argon2-engine/tests/equivalence.rs), as on the arm64 Lambda functions, from an x86_64 machine.
#
#   scripts/arm64-tests.sh
#
# Installs with apt-get, when missing: Debian's qemu-user (qemu-aarch64) and the aarch64 cross
# linker with its C library (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross); the aarch64 standard
# library with `rustup target add`. Then `cargo test -p latch-argon2` for aarch64-unknown-linux-gnu,
# every test binary run through qemu-aarch64, and checks that the test asserting
# `Backend::detect() == Backend::Neon` ran and passed (so the NEON backend, not the portable
# fallback, is what was compared).
#
# Under qemu only correctness counts: each instruction is translated, so timings say nothing
# about an arm64 CPU (bench/ measures speed on real hardware). The run stays short anyway: the
# tests build at opt-level 3 (the root Cargo.toml's dev profile) and the property test's case
# count is fixed in the test (64, `ProptestConfig::with_cases`, which PROPTEST_CASES does not
# override), with costs of at most a few hundred KiB; the whole stage took seconds once built.
#
# Honours CARGO_TARGET_DIR (the aarch64 build goes to its aarch64-unknown-linux-gnu/ subdirectory).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LIB_TAG=arm64-tests
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
log() { lib_log "$@"; }
die() { lib_die "$@"; }

TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
# The test that fails on aarch64 unless the NEON backend is the one detected.
NEON_TEST=neon_is_the_backend_on_aarch64

lib_require_tools cargo rustup

# ------------------------------------------------------------------ qemu and the cross linker
missing=()
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
[ -e "$SYSROOT/lib/libc.so" ] || missing+=(libc6-dev-arm64-cross)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} with apt-get"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing ${missing[*]}, and not root (no sudo) to install them"
    SUDO=(sudo)
  fi
  # This stage runs in the background beside the others (scripts/test.sh), one of which may
  # install Chromium with apt-get: wait for dpkg's lock rather than fail on it.
  APT=(apt-get -o DPkg::Lock::Timeout=300)
  if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" "${APT[@]}" install -y --no-install-recommends "${missing[@]}"; then
    "${SUDO[@]}" "${APT[@]}" update
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" "${APT[@]}" install -y --no-install-recommends "${missing[@]}"
  fi
fi
lib_require_tools qemu-aarch64 aarch64-linux-gnu-gcc

log "adding the $TARGET standard library (rustup)"
rustup target add "$TARGET"

# ------------------------------------------------------------------ the tests
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT"

OUT="$(mktemp "${TMPDIR:-/tmp}/latch-arm64-tests.XXXXXX")"
trap 'rm -f "$OUT"' EXIT

log "cargo test -p latch-argon2 --target $TARGET under $(qemu-aarch64 --version | head -n 1)"
start=$SECONDS
set +e
cargo test -p latch-argon2 --target "$TARGET" 2>&1 | tee "$OUT"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || die "latch-argon2's tests failed on $TARGET (exit $rc)"
grep -q "^test $NEON_TEST \.\.\. ok$" "$OUT" ||
  die "the test $NEON_TEST did not run and pass: the NEON backend was not the one tested"
log "latch-argon2's tests passed on $TARGET with the NEON backend ($((SECONDS - start)) s)"
