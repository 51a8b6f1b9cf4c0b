#!/bin/bash
# The vigil-watch observer: watch the cluster under test until SIGTERM.
set -o nounset -o pipefail

kubeconfig="${KUBECONFIG:-${SHARED_DIR}/kubeconfig}"
stopped=0
trap 'stopped=1' TERM INT
# The observer starts before the cluster exists: wait for its kubeconfig.
while [[ ! -s "${kubeconfig}" ]]; do
  if (( stopped )); then
    echo "vigil-watch: stopped before ${kubeconfig} appeared; nothing to watch" >&2
    exit 0
  fi
  sleep 5 & wait $! 2>/dev/null || true
done
export KUBECONFIG="${kubeconfig}"
mkdir -p "${ARTIFACT_DIR}/junit"

args=(watch
  --intervals-out "${ARTIFACT_DIR}/vigil-intervals.jsonl"
  --junit-dir "${ARTIFACT_DIR}/junit"
  --save-snapshot "${ARTIFACT_DIR}/vigil-state.json.gz"
  --profile "${VIGIL_PROFILE:-openshift}")
if [[ -d "${VIGIL_EXCEPTIONS:-}" ]]; then
  args+=(--exceptions "${VIGIL_EXCEPTIONS}")
fi
if (( stopped )); then
  args+=(--duration 0)
fi

# vigil stops watching on SIGTERM, judges, writes the JUnit and exits like `vigil run`.
vigil "${args[@]}" &
pid=$!
trap 'kill -TERM "${pid}" 2>/dev/null' TERM INT
# A trapped signal interrupts `wait`; wait again until vigil has finished.
while kill -0 "${pid}" 2>/dev/null; do
  wait "${pid}"
done
wait "${pid}"
