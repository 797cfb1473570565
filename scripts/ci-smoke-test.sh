#!/usr/bin/env bash
# The pipeline's smoke-test step: scripts/smoke-test against a deployed stack, with the URL from
# the stack's outputs and the credentials read from its ProjectSecret (the pipeline execution role
# may read that one secret of its own stack; infra/pipeline-bootstrap.yaml). The secret reaches
# the smoke test in its environment only, and is masked in the job's log.
#
#   scripts/ci-smoke-test.sh STACK_NAME      (AWS credentials and region from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:?usage: scripts/ci-smoke-test.sh STACK_NAME}"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
url="$(output ApiUrl)"
secret_arn="$(output ProjectSecretArn)"
if [ -z "$url" ] || [ "$url" = None ]; then
  echo "stack $stack has no ApiUrl output" >&2
  exit 1
fi
credentials="$(aws secretsmanager get-secret-value --secret-id "$secret_arn" --query SecretString --output text)"
field() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1" <<<"$credentials"; }
LATCH_PROJECT_ID="$(field project_id)"
LATCH_SECRET="$(field secret)"
if [ "${GITHUB_ACTIONS:-}" = true ]; then
  echo "::add-mask::$LATCH_SECRET"
fi
export LATCH_PROJECT_ID LATCH_SECRET
exec scripts/smoke-test "$url"
