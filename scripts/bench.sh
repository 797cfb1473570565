#!/usr/bin/env bash
# The benchmark (issue 9), one command from a fresh clone:
#   scripts/bench.sh [latch-bench options]
# Installs argon2-cffi (the C reference implementation, pinned) into .venv-bench/, builds
# `latch-bench`, `latch` and the Lambda functions in the `bench-release` profile (release without
# LTO), the functions also for arm64 with cargo-lambda (pinned, in .venv-lambda/ as
# scripts/lambda-checks.sh installs it; zig is the cross linker), runs the benchmark from the
# repository root and writes bench/RESULTS.md, bench/results.json and bench/login.svg. Extra
# arguments go to latch-bench (`--quick` for a smoke run, `--help`).
# Honours CARGO_TARGET_DIR and RUSTFLAGS (recorded in the report), and LATCH_ARGON2_* /
# LATCH_HASH_CONCURRENCY (the parameters measured, on both the bench and the server).
# The deployed `release` profile (fat LTO, one codegen unit) is built too, for the login function
# and the three largest arm64 functions (~10 min per architecture from cold, a minute or two of
# linking per function when warm), so the report judges the size of binaries as deployed;
# LATCH_BENCH_DEPLOYED=0 skips it.
# It runs scripts/arm64-tests.sh too (latch-argon2's tests on aarch64 under qemu-aarch64) for the
# NEON backend's equality row.
# Without Python or PyPI the C reference is skipped with a note in the report, and without
# cargo-lambda the arm64 sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$ROOT/.venv-bench"
ARGON2_CFFI_VERSION="25.1.0"
ARGON2_CFFI_BINDINGS_VERSION="26.2.0"
LAMBDA_VENV="$ROOT/.venv-lambda"
CARGO_LAMBDA_VERSION="1.9.2"
DEPLOYED_FUNCTION="passwords-authenticate"
# How many of the largest arm64 functions are also built in the deployed profile.
DEPLOYED_LARGEST=3

log() { printf '[bench] %s\n' "$*" >&2; }

PYTHON_ARGS=()
if { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } &&
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "argon2-cffi==$ARGON2_CFFI_VERSION" "argon2-cffi-bindings==$ARGON2_CFFI_BINDINGS_VERSION"; then
  PYTHON_ARGS=(--python "$VENV/bin/python")
else
  log "could not install argon2-cffi $ARGON2_CFFI_VERSION; the C reference will be skipped"
fi

# The fastest C argon2 available here: the reference library's optimised implementation (opt.c)
# built for this CPU, from the sources argon2-cffi-bindings vendors (its sdist, pinned), with the
# harness bench/src/native.c. Skipped with a note without a C compiler or PyPI.
NATIVE_ARGS=()
NATIVE_SRC="$VENV/src/argon2_cffi_bindings-$ARGON2_CFFI_BINDINGS_VERSION/extras/libargon2"
NATIVE_BIN="$VENV/native-argon2"
NATIVE_FLAGS="-O3 -march=native -pthread"
if command -v cc >/dev/null && [ -x "$VENV/bin/python" ] && {
  [ -d "$NATIVE_SRC" ] || {
    "$VENV/bin/python" -m pip download --disable-pip-version-check -q --no-deps --no-binary argon2-cffi-bindings \
      "argon2-cffi-bindings==$ARGON2_CFFI_BINDINGS_VERSION" -d "$VENV/src" &&
      tar -xzf "$VENV/src/argon2_cffi_bindings-$ARGON2_CFFI_BINDINGS_VERSION.tar.gz" -C "$VENV/src"
  }
} && cc $NATIVE_FLAGS -I"$NATIVE_SRC/include" -I"$NATIVE_SRC/src" \
  "$NATIVE_SRC"/src/{argon2.c,core.c,blake2/blake2b.c,thread.c,encoding.c,opt.c} bench/src/native.c -o "$NATIVE_BIN"; then
  NATIVE_ARGS=(--native-c "$NATIVE_BIN")
  export LATCH_BENCH_NATIVE_C_INFO="libargon2 from argon2-cffi-bindings $ARGON2_CFFI_BINDINGS_VERSION, $(cc --version | head -n1), $NATIVE_FLAGS"
else
  log "could not build the optimised C argon2; it will be skipped"
fi

log "building latch-bench, latch and the Lambda functions (profile bench-release)"
start=$(date +%s)
# One invocation, so the three packages share one feature resolution (building them apart
# rebuilds the latch crate).
# The functions with the embedded store, which their cold starts below run on; the arm64 builds
# measured for size leave it out, as deployed ones do.
cargo build --profile bench-release -p latch-bench -p latch-cli -p latch-functions --features latch-functions/embedded-store
log "built in $(($(date +%s) - start)) s"
LAMBDA_ARGS=(--functions "$TARGET_DIR/bench-release")

if { [ -x "$LAMBDA_VENV/bin/python" ] || python3 -m venv "$LAMBDA_VENV"; } &&
  "$LAMBDA_VENV/bin/python" -m pip install --disable-pip-version-check -q "cargo-lambda==$CARGO_LAMBDA_VERSION" &&
  rustup target add aarch64-unknown-linux-gnu >/dev/null; then
  log "building the Lambda functions for arm64 (cargo lambda build --profile bench-release --arm64)"
  start=$(date +%s)
  # cargo-lambda moves each binary to <lambda-dir>/<name>/bootstrap: one directory per build here,
  # so the release build below cannot overwrite these (nor scripts/lambda-checks.sh's).
  if PATH="$LAMBDA_VENV/bin:$PATH" cargo lambda build --profile bench-release --arm64 -p latch-functions \
    --lambda-dir "$TARGET_DIR/lambda-bench/arm64-bench-release"; then
    log "built in $(($(date +%s) - start)) s"
    LAMBDA_ARGS+=(--functions-arm64 "$TARGET_DIR/lambda-bench/arm64-bench-release")
  else
    log "the arm64 build failed; the arm64 sizes will be skipped"
  fi
  if [ "${LATCH_BENCH_DEPLOYED:-1}" = 1 ]; then
    # The deployed profile (fat LTO) links each binary on its own, a minute or two apiece: for
    # arm64 the largest functions of the build above (all share everything but their handler)
    # and the login; for x86_64 the login.
    # awk reads to the end, where `head` would close the pipe early: sort's output passes 4 KiB
    # once there are ~45 functions, and under pipefail its SIGPIPE (141) ended the whole run.
    largest="$(find "$TARGET_DIR/lambda-bench/arm64-bench-release" -name bootstrap -printf '%s %h\n' 2>/dev/null |
      sort -rn | awk -v n="$DEPLOYED_LARGEST" 'NR <= n {print $2}' | xargs -r -n1 basename)"
    for arch in arm64 x86-64; do
      if [ "$arch" = arm64 ]; then
        functions="$(printf '%s\n' "$DEPLOYED_FUNCTION" $largest | sort -u)"
      else
        functions="$DEPLOYED_FUNCTION"
      fi
      bins=()
      for f in $functions; do bins+=(--bin "$f"); done
      log "building $(echo $functions) for $arch in the deployed release profile (cargo lambda build --release)"
      start=$(date +%s)
      if PATH="$LAMBDA_VENV/bin:$PATH" cargo lambda build --release "--$arch" -p latch-functions \
        "${bins[@]}" --lambda-dir "$TARGET_DIR/lambda-bench/$arch-release"; then
        log "built in $(($(date +%s) - start)) s"
        for f in $functions; do
          LAMBDA_ARGS+=(--deployed "$TARGET_DIR/lambda-bench/$arch-release/$f/bootstrap")
        done
      else
        log "the $arch release build failed; its deployed size will be skipped"
      fi
    done
  fi
else
  log "could not install cargo-lambda $CARGO_LAMBDA_VERSION; the arm64 sizes will be skipped"
fi

# The store round trips are counted on moto's DynamoDB (PyPI moto[server], as the test command
# starts it), stopped by its PID when the bench ends.
MOTO_ARGS=()
# shellcheck source=scripts/emulator.sh
source "$ROOT/scripts/emulator.sh"
if start_emulator; then
  trap stop_emulator EXIT
  MOTO_ARGS=(--moto "$AWS_ENDPOINT_URL")
else
  log "could not start moto; the store round trips will be skipped"
fi

# latch-argon2's NEON backend against RFC 9106 and the crate, on aarch64 (under qemu-aarch64 on an
# x86_64 machine: correctness only). The log goes to the report; a failure is a MISS there.
ARM64_LOG="$TARGET_DIR/bench-arm64-tests.log"
log "latch-argon2's tests on aarch64 (scripts/arm64-tests.sh)"
scripts/arm64-tests.sh >"$ARM64_LOG" 2>&1 || log "the arm64 tests failed; see $ARM64_LOG"

export LATCH_BENCH_RUSTFLAGS="${RUSTFLAGS:-}"
export LATCH_BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
"$TARGET_DIR/bench-release/latch-bench" \
  --out "$ROOT/bench" \
  --latch "$TARGET_DIR/bench-release/latch" \
  --corpus ../shared/data/zxcvbn-reference.jsonl \
  "${PYTHON_ARGS[@]}" "${NATIVE_ARGS[@]}" "${LAMBDA_ARGS[@]}" "${MOTO_ARGS[@]}" --arm64-tests "$ARM64_LOG" "$@"
