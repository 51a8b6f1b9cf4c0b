#!/usr/bin/env bash
# The steps of the vigil GitHub Action (action.yml at the repository root), kept
# in a script so that they run, and are tested, outside GitHub. Usage:
#   action.sh install   # vigil into $VIGIL_HOME/bin (cached by the action), put on $GITHUB_PATH
#   action.sh start     # before the e2e step: start `vigil watch` (vigil-step.sh start)
#   action.sh stop      # after it: stop, judge, write JUnit; exits like `vigil run`
#   action.sh run       # judge once: `vigil run` with $VIGIL_ARGS
#   action.sh lint      # lint $VIGIL_EXCEPTIONS; SARIF in $OUT/vigil-lint.sarif
# Environment (the action sets it): VIGIL_HOME, VIGIL_VERSION, VIGIL_REPOSITORY (install);
# OUT (results directory, default vigil-results), VIGIL_EXCEPTIONS, VIGIL_ARGS;
# GITHUB_PATH (where GitHub reads PATH additions).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-vigil-results}"
export OUT

install() {
  local home="${VIGIL_HOME:?VIGIL_HOME is not set}" version="${VIGIL_VERSION:-}"
  mkdir -p "$home/bin"
  if [[ ! -x "$home/bin/vigil" ]]; then
    local arch asset
    arch="$(uname -m)"
    asset="https://github.com/${VIGIL_REPOSITORY:-vigil-ci/vigil}/releases/download/${version}/vigil-${arch}-unknown-linux-musl.tar.gz"
    # A released static binary when the release has one, else built from source.
    if [[ -n "$version" ]] && curl -fsSL --retry 3 "$asset" -o "$home/vigil.tar.gz" 2>/dev/null; then
      tar -xzf "$home/vigil.tar.gz" -C "$home/bin" vigil
      rm -f "$home/vigil.tar.gz"
    else
      echo "action.sh: no released binary for '${version:-?}'; building vigil from source (cached afterwards)" >&2
      local rev=()
      [[ -n "$version" ]] && rev=(--rev "$version")
      cargo install --locked --root "$home" --git "https://github.com/${VIGIL_REPOSITORY:-vigil-ci/vigil}" "${rev[@]}" vigil
    fi
  fi
  "$home/bin/vigil" --version
  if [[ -n "${GITHUB_PATH:-}" ]]; then
    echo "$home/bin" >> "$GITHUB_PATH"
  fi
}

# Extra arguments, split as a shell would (the input is one string).
read -r -a extra <<< "${VIGIL_ARGS:-}"

case "${1:-}" in
  install) install ;;
  start|stop) exec bash "$here/vigil-step.sh" "$1" ;;
  run)
    mkdir -p "$OUT/junit"
    args=(run --junit-dir "$OUT/junit")
    [[ -n "${VIGIL_EXCEPTIONS:-}" ]] && args+=(--exceptions "$VIGIL_EXCEPTIONS")
    exec "${VIGIL:-vigil}" "${args[@]}" "${extra[@]}"
    ;;
  lint)
    mkdir -p "$OUT"
    dir="${VIGIL_EXCEPTIONS:-exceptions}"
    status=0
    "${VIGIL:-vigil}" exceptions lint --format sarif "$dir" "${extra[@]}" > "$OUT/vigil-lint.sarif" || status=$?
    # The same findings for the log, readable.
    "${VIGIL:-vigil}" exceptions lint "$dir" "${extra[@]}" || true
    exit "$status"
    ;;
  *) echo "usage: action.sh install|start|stop|run|lint" >&2; exit 2 ;;
esac
