#!/usr/bin/env bash
# Runs `layerwarden ARGS...` against a private engine started for the purpose (never the host's own),
# then stops that engine. Needs root (dockerd) and the packages that private-engine.sh installs.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
[[ -f "$root/dist/src/cli/bin.js" ]] || { echo "run-private: build first (npm run build)" >&2; exit 2; }
bash "$here/private-engine.sh" install || exit 1
dir=$(mktemp -d "${TMPDIR:-/tmp}/layerwarden-run.XXXXXX")
trap 'bash "$here/private-engine.sh" stop "$dir" >/dev/null' EXIT
bash "$here/private-engine.sh" start "$dir" >/dev/null || exit 1
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
node "$root/dist/src/cli/bin.js" "$@" --state-file "$dir/state.json"
