#!/bin/bash
# The vigil step: judge the cluster under test, JUnit into $ARTIFACT_DIR/junit.
set -o nounset -o pipefail

export KUBECONFIG="${KUBECONFIG:-${SHARED_DIR}/kubeconfig}"
mkdir -p "${ARTIFACT_DIR}/junit"

args=(run
  --junit-dir "${ARTIFACT_DIR}/junit"
  --save-snapshot "${ARTIFACT_DIR}/vigil-state.json.gz"
  --profile "${VIGIL_PROFILE:-openshift}"
  --deadline "${VIGIL_DEADLINE:-900}")
if [[ -d "${VIGIL_EXCEPTIONS:-}" ]]; then
  args+=(--exceptions "${VIGIL_EXCEPTIONS}")
fi

# The text summary goes to the step log; the JUnit is written whatever happens.
exec vigil "${args[@]}"
