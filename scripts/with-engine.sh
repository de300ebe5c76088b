#!/usr/bin/env bash
# Runs CMD with everything a private engine needs installed, and stops afterwards any engine the tests
# started but did not stop (the harness appends each engine or cluster dir to $LW_ENGINE_LIST).
#   with-engine.sh CMD [ARGS...]        exits with CMD's exit code
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
engine_script="$here/private-engine.sh"

(($# > 0)) || {
  echo "usage: with-engine.sh CMD [ARGS...]" >&2
  exit 2
}
bash "$engine_script" install || exit 1

list=$(mktemp "${TMPDIR:-/tmp}/layerwarden-engines.XXXXXX") || exit 1
export LW_ENGINE_SCRIPT="$engine_script" LW_CLUSTER_SCRIPT="$here/private-cluster.sh" LW_ENGINE_LIST="$list"

cleanup() {
  local dir
  while IFS= read -r dir; do
    [[ -n "$dir" && -d "$dir" ]] || continue
    if [[ -e "$dir/.layerwarden-cluster" ]]; then
      echo "with-engine: stopping leftover cluster $dir" >&2
      bash "$here/private-cluster.sh" stop "$dir" || echo "with-engine: could not stop $dir" >&2
      continue
    fi
    echo "with-engine: stopping leftover engine $dir" >&2
    bash "$engine_script" stop "$dir" || echo "with-engine: could not stop $dir" >&2
  done < <(sort -u "$list")
  rm -f "$list"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$@"
