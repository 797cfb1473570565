#!/usr/bin/env bash
# The benchmark (issue 9), one command from a fresh clone:
#   scripts/bench.sh [latch-bench options]
# Installs argon2-cffi (the C reference implementation, pinned) into .venv-bench/, builds
# `latch-bench` and `latch` in the `bench-release` profile (release without LTO), runs the
# benchmark from the repository root and writes bench/RESULTS.md, bench/results.json and
# bench/login.svg. Extra arguments go to latch-bench (`--quick` for a smoke run, `--help`).
# Honours CARGO_TARGET_DIR and RUSTFLAGS (recorded in the report), and LATCH_ARGON2_* /
# LATCH_HASH_CONCURRENCY (the parameters measured, on both the bench and the server).
# Without Python or PyPI the C reference is skipped with a note in the report.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$ROOT/.venv-bench"
ARGON2_CFFI_VERSION="25.1.0"

log() { printf '[bench] %s\n' "$*" >&2; }

PYTHON_ARGS=()
if { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } &&
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "argon2-cffi==$ARGON2_CFFI_VERSION" "argon2-cffi-bindings==26.2.0"; then
  PYTHON_ARGS=(--python "$VENV/bin/python")
else
  log "could not install argon2-cffi $ARGON2_CFFI_VERSION; the C reference will be skipped"
fi

log "building latch-bench and latch (profile bench-release)"
start=$(date +%s)
cargo build --profile bench-release -p latch-bench -p latch-cli
log "built in $(($(date +%s) - start)) s"

export LATCH_BENCH_RUSTFLAGS="${RUSTFLAGS:-}"
export LATCH_BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
"$TARGET_DIR/bench-release/latch-bench" \
  --out "$ROOT/bench" \
  --latch "$TARGET_DIR/bench-release/latch" \
  --corpus ../shared/data/zxcvbn-reference.jsonl \
  "${PYTHON_ARGS[@]}" "$@"
