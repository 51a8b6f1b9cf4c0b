# Shared by vigil's scripts. Source it: `. "$(dirname "$0")/lib.sh"`.

# heartbeat LABEL CMD...: runs CMD, saying on stderr every 30 seconds that
# it is still at work (a compiler without a terminal is silent for minutes,
# and a silent CI log looks hung). Returns CMD's status; its output is
# passed through unchanged.
heartbeat() {
  local label="$1"; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  (
    while sleep 30; do
      kill -0 "$pid" 2>/dev/null || exit 0
      echo "$label: still at work ($(( SECONDS - start ))s)" >&2
    done
  ) &
  local beat=$!
  local status=0
  wait "$pid" || status=$?
  kill "$beat" 2>/dev/null || true
  wait "$beat" 2>/dev/null || true
  return "$status"
}
