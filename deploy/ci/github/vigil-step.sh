#!/usr/bin/env bash
# The vigil steps of the GitHub Actions workflow (vigil-kind.yaml), kept here so that they
# can be run and tested outside GitHub. Usage:
#   vigil-step.sh start    # before the e2e tests: start watching the kind cluster
#   vigil-step.sh stop     # after them: stop, judge, write JUnit; exits like `vigil run`
# Environment: VIGIL (the binary, default vigil), OUT (results directory, default vigil-results),
# VIGIL_EXCEPTIONS (optional exceptions directory).
set -euo pipefail
VIGIL="${VIGIL:-vigil}"
OUT="${OUT:-vigil-results}"
mkdir -p "${OUT}/junit"
case "${1:-}" in
  start)
    args=(watch --stop-file "${OUT}/e2e-done"
      --intervals-out "${OUT}/vigil-intervals.jsonl"
      --junit-dir "${OUT}/junit"
      --save-snapshot "${OUT}/vigil-state.json.gz")
    [[ -n "${VIGIL_EXCEPTIONS:-}" ]] && args+=(--exceptions "${VIGIL_EXCEPTIONS}")
    rm -f "${OUT}/vigil.status" "${OUT}/e2e-done"
    # Detached, so the step can end; the exit status is kept for `stop`.
    nohup bash -c '"$0" "$@" > "'"${OUT}"'/vigil.log" 2>&1; echo $? > "'"${OUT}"'/vigil.status"' \
      "${VIGIL}" "${args[@]}" > /dev/null 2>&1 &
    echo $! > "${OUT}/vigil.pid"
    # Started once it says so (or failed: the log says why).
    for _ in $(seq 60); do
      grep -q "watching pods and nodes" "${OUT}/vigil.log" 2>/dev/null && exit 0
      kill -0 "$(cat "${OUT}/vigil.pid")" 2>/dev/null || { cat "${OUT}/vigil.log" >&2; exit 3; }
      sleep 1
    done
    echo "vigil-step: vigil watch did not start within 60 s" >&2; cat "${OUT}/vigil.log" >&2; exit 3
    ;;
  stop)
    pid="$(cat "${OUT}/vigil.pid")"
    touch "${OUT}/e2e-done"
    # Not a child of this shell: poll until vigil has written its status.
    while kill -0 "${pid}" 2>/dev/null; do sleep 1; done
    cat "${OUT}/vigil.log"
    exit "$(cat "${OUT}/vigil.status" 2>/dev/null || echo 4)"
    ;;
  *)
    echo "usage: vigil-step.sh start|stop" >&2; exit 2 ;;
esac
