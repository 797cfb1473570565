#!/usr/bin/env bash
# The whole test suite: Rust unit and black-box tests, then the official Stytch SDKs (Python and
# Node) against `latch serve`. Installs what it needs (the SDKs into .venv-sdk/ and
# tests/sdk/node/node_modules). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"

echo "== cargo test (unit + black-box HTTP)"
cargo test --workspace --no-fail-fast

echo "== official SDKs against latch serve"
cargo build -p latch-cli
scripts/sdk-tests.sh "$target_dir/debug/latch"
