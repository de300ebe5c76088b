#!/usr/bin/env bash
# A private Docker engine for tests: its own data-root, exec-root, socket, local registry and network
# namespace, so it never touches the host's engine and can send no packet off the machine.
# See docs/private-engine.md.
#
#   private-engine.sh install                 apt-get the packages (only when something is missing)
#   private-engine.sh start DIR               start dockerd + registry, print/write DIR/env
#   private-engine.sh daemon-stop DIR [TERM|KILL]
#   private-engine.sh daemon-start DIR
#   private-engine.sh freeze DIR | thaw DIR   SIGSTOP / SIGCONT dockerd
#   private-engine.sh stop DIR                stop everything, unmount, remove DIR (idempotent)
#
# LW_ENGINE_REGISTRY=HOST:PORT at start: no registry of its own; the engine uses that one (plain HTTP,
# passed to dockerd as --insecure-registry). LW_ENGINE_OWN_ID=1 at start: the engine's ID comes from a
# key of its own, DIR/key.json, not the host's /etc/docker/key.json that every engine here would share
# (dockerd 20.10's `deprecated-key-path`, a daemon.json key only: DIR/daemon.json). scripts/private-cluster.sh starts its nodes both ways.
set -uo pipefail

# openssl: test/engine/endpoints.test.ts makes its certificates. prometheus: promtool for the rules
# tests, and the cluster test's aggregator (deploy/prometheus/).
# shellcheck source=registry-config.sh
source "$(dirname "${BASH_SOURCE[0]}")/registry-config.sh"
# shellcheck source=remove-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/remove-dir.sh"

readonly PACKAGES=(docker.io docker-registry busybox-static faketime curl iproute2 prometheus openssl tzdata)
readonly REGISTRY_PORT=5000 # inside the engine's own network namespace, so always free
readonly START_TIMEOUT_S=${LW_ENGINE_START_TIMEOUT:-60}
readonly STOP_TIMEOUT_S=${LW_ENGINE_STOP_TIMEOUT:-30}
readonly MARKER=.layerwarden-engine

die() {
  echo "private-engine: $*" >&2
  exit 1
}

# A pid is alive when its /proc entry exists and it is not a zombie (init reaps those late here).
alive() {
  local pid=$1 state
  [[ -n "$pid" && -r /proc/$pid/stat ]] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# True when the live process PID mentions DIR on its command line (guards against pid reuse).
ours() {
  local pid=$1 dir=$2 cmdline
  alive "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"$dir/"* ]]
}

read_pid() { [[ -f "$1" ]] && tr -dc '0-9' <"$1"; }

# Waits up to $2 seconds for pid $1 to be gone. Returns 1 on timeout.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while alive "$pid"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.05
  done
  return 0
}

abs_dir() {
  [[ -n "${1:-}" ]] || die "missing DIR argument"
  case "$1" in
  /*) printf '%s\n' "${1%/}" ;;
  *) printf '%s\n' "$PWD/${1%/}" ;;
  esac
}

docker_cli() {
  local dir=$1
  shift
  DOCKER_CONFIG="$dir/cli" DOCKER_HOST="unix://$dir/docker.sock" timeout 20 docker -H "unix://$dir/docker.sock" "$@"
}

engine_answers() { docker_cli "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

registry_answers() {
  local dir=$1
  nsenter --net="$dir/netns" curl -fsS -m 2 -o /dev/null "http://${LW_ENGINE_REGISTRY:-127.0.0.1:$REGISTRY_PORT}/v2/" 2>/dev/null
}

cmd_install() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# Runs CMD in the engine's network namespace, in its own session, with no pipe inherited from the
# caller, its pid in PIDFILE. A small sh stays its parent and reaps it at once, so a stopped dockerd
# or registry does not linger as a zombie until init gets round to it.
spawn_detached() {
  local dir=$1 pidfile=$2 log=$3
  shift 3
  rm -f "$pidfile"
  nsenter --net="$dir/netns" setsid sh -c '"$@" & echo $! >"$0"; wait $!' "$pidfile" "$@" \
    >>"$log" 2>&1 </dev/null &
}

# Launches dockerd in the engine's network namespace, detached from the caller (own session, no
# inherited pipes), with the arguments kept in DIR/dockerd.args.
launch_dockerd() {
  local dir=$1 args=()
  mapfile -t args <"$dir/dockerd.args"
  # The pid file of a containerd killed with its dockerd makes the next dockerd wait on a dead socket
  # forever (ENGINE-FACTS 23).
  # dockerd's own pid file likewise, when a zombie (reaped late here) still holds its pid.
  local f pid
  for f in "$dir/exec/containerd/containerd.pid" "$dir/dockerd.pid"; do
    pid=$(read_pid "$f")
    if [[ -n "$pid" ]] && ! ours "$pid" "$dir"; then rm -f "$f"; fi
  done
  spawn_detached "$dir" "$dir/dockerd.launch.pid" "$dir/dockerd.log" dockerd "${args[@]}"
}

wait_dockerd() {
  local dir=$1 deadline=$((SECONDS + START_TIMEOUT_S)) pid
  sleep 0.1
  while ! engine_answers "$dir"; do
    pid=$(read_pid "$dir/dockerd.launch.pid")
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      echo "dockerd exited: $(grep -E 'level=(fatal|error)|failed to start' "$dir/dockerd.log" | tail -1 | cut -c1-300)"
      return 1
    fi
    ((SECONDS >= deadline)) && {
      echo "dockerd did not answer within ${START_TIMEOUT_S}s (see $dir/dockerd.log)"
      return 1
    }
    sleep 0.1
  done
}

cmd_start() {
  local dir
  dir=$(abs_dir "${1:-}")
  [[ $EUID -eq 0 ]] || die "must run as root"
  [[ -e /run/containerd/containerd.sock ]] &&
    die "a system containerd is running (/run/containerd/containerd.sock); dockerd would share it"
  mkdir -p "$dir" || die "cannot create $dir"
  [[ -e "$dir/docker.sock" || -e "$dir/dockerd.pid" ]] && die "$dir already holds an engine"
  touch "$dir/$MARKER"
  mkdir -p "$dir/data" "$dir/exec" "$dir/registry" "$dir/cli" || die "cannot create $dir subdirectories"

  # Own network namespace: docker_gwbridge, veths and overlay sandboxes stay in it, two engines can
  # run swarm side by side, and nothing (a mistyped image ref) can reach past loopback.
  touch "$dir/netns"
  if ! unshare --net="$dir/netns" true; then
    (cmd_stop "$dir") >/dev/null 2>&1
    die "cannot create a network namespace (unshare --net)"
  fi
  nsenter --net="$dir/netns" ip link set lo up

  printf '%s\n' --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    >"$dir/dockerd.args"
  if [[ "${LW_ENGINE_OWN_ID:-}" == 1 ]]; then
    printf '{"deprecated-key-path": "%s"}\n' "$dir/key.json" >"$dir/daemon.json"
    printf '%s\n' --config-file "$dir/daemon.json" >>"$dir/dockerd.args"
  fi
  local registry=127.0.0.1:$REGISTRY_PORT
  if [[ -n "${LW_ENGINE_REGISTRY:-}" ]]; then
    registry=$LW_ENGINE_REGISTRY
    printf '%s\n' --insecure-registry "$registry" >>"$dir/dockerd.args"
  fi

  write_registry_config "$dir" "127.0.0.1:$REGISTRY_PORT"
  [[ -z "${LW_ENGINE_REGISTRY:-}" ]] &&
    spawn_detached "$dir" "$dir/registry.pid" "$dir/registry.log" docker-registry serve "$dir/registry.yml"

  launch_dockerd "$dir"
  local why
  if ! why=$(wait_dockerd "$dir"); then
    (cmd_stop "$dir") >/dev/null 2>&1
    die "start failed: $why"
  fi
  local deadline=$((SECONDS + START_TIMEOUT_S))
  local rpid
  # An outside registry may be reached only once the caller has wired the network: not waited for.
  until [[ -n "${LW_ENGINE_REGISTRY:-}" ]] || registry_answers "$dir"; do
    rpid=$(read_pid "$dir/registry.pid")
    if ((SECONDS >= deadline)) || { [[ -n "$rpid" ]] && ! alive "$rpid"; }; then
      why=$(tail -1 "$dir/registry.log" 2>/dev/null | cut -c1-300)
      (cmd_stop "$dir") >/dev/null 2>&1
      die "registry did not come up: $why"
    fi
    sleep 0.1
  done

  {
    echo "DOCKER_HOST=unix://$dir/docker.sock"
    echo "LW_TEST_REGISTRY=$registry"
    echo "LW_TEST_ENGINE_DIR=$dir"
    echo "LW_TEST_NETNS=$dir/netns"
  } >"$dir/env"
  cat "$dir/env"
}

dockerd_pid() {
  local dir=$1 pid
  pid=$(read_pid "$dir/dockerd.launch.pid")
  [[ -z "$pid" ]] && pid=$(read_pid "$dir/dockerd.pid")
  printf '%s' "$pid"
}

# Stops dockerd only. TERM: it stops its containers and its containerd. KILL: its containerd may
# linger (ENGINE-FACTS 23); kill it and drop its pid file so the next start does not wait on it.
cmd_daemon_stop() {
  local dir sig=${2:-TERM} pid cpid
  dir=$(abs_dir "${1:-}")
  [[ "$sig" == TERM || "$sig" == KILL ]] || die "signal must be TERM or KILL"
  pid=$(dockerd_pid "$dir")
  cpid=$(read_pid "$dir/exec/containerd/containerd.pid")
  if ours "$pid" "$dir"; then
    kill -CONT "$pid" 2>/dev/null
    kill "-$sig" "$pid" 2>/dev/null
    if ! wait_gone "$pid" "$STOP_TIMEOUT_S"; then
      [[ "$sig" == KILL ]] && die "dockerd $pid survived SIGKILL"
      kill -KILL "$pid" 2>/dev/null
      wait_gone "$pid" 10 || die "dockerd $pid survived SIGKILL"
      sig=KILL
    fi
  fi
  if [[ -n "$cpid" ]] && ours "$cpid" "$dir"; then
    if [[ "$sig" == KILL ]] || ! wait_gone "$cpid" 10; then
      kill -KILL "$cpid" 2>/dev/null
      wait_gone "$cpid" 10
    fi
  fi
  if [[ "$sig" == KILL ]]; then rm -f "$dir/exec/containerd/containerd.pid"; fi
  return 0
}

cmd_daemon_start() {
  local dir why
  dir=$(abs_dir "${1:-}")
  [[ -f "$dir/dockerd.args" ]] || die "$dir holds no engine (no dockerd.args)"
  ours "$(dockerd_pid "$dir")" "$dir" && die "dockerd is already running"
  launch_dockerd "$dir"
  why=$(wait_dockerd "$dir") || die "daemon-start failed: $why"
}

cmd_signal() {
  local dir sig=$2 pid
  dir=$(abs_dir "${1:-}")
  pid=$(dockerd_pid "$dir")
  ours "$pid" "$dir" || die "dockerd is not running"
  kill "-$sig" "$pid"
  # kill returns before every thread has stopped (or resumed): a request sent at once could still be
  # served. Wait until all threads show the new state.
  local deadline=$((SECONDS + 10))
  until all_threads "$pid" "$sig"; do
    ((SECONDS >= deadline)) && die "dockerd $pid did not reach SIG$sig state"
    sleep 0.01
  done
}

# True when every thread of PID is stopped (STOP) or none is (CONT).
all_threads() {
  local pid=$1 sig=$2 f state
  for f in /proc/"$pid"/task/*/stat; do
    state=$(sed -e 's/^.*) //' "$f" 2>/dev/null | cut -d' ' -f1)
    [[ -z "$state" ]] && continue
    if [[ "$sig" == STOP ]]; then
      [[ "$state" == T || "$state" == t ]] || return 1
    else
      [[ "$state" != T ]] || return 1
    fi
  done
}

# Every live process whose command line mentions DIR: dockerd, containerd, shims, registry.
our_pids() {
  local dir=$1 f p
  local ancestors=" $(ancestor_pids) "
  for f in $(grep -lsF -- "$dir/" /proc/[0-9]*/cmdline); do
    p=${f#/proc/}
    p=${p%/cmdline}
    [[ "$ancestors" == *" $p "* ]] && continue
    ours "$p" "$dir" && echo "$p"
  done
}

# This shell and its ancestors: their command lines may name DIR too, and must survive a stop.
ancestor_pids() {
  local p=$BASHPID
  while [[ -n "$p" && "$p" != 0 ]]; do
    printf '%s ' "$p"
    p=$(sed -e 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f2)
  done
}

# Processes of our containers (same cgroup parent "docker" as other engines, so select by our ids).
container_pids() {
  local dir=$1 id
  [[ -d "$dir/data/containers" ]] || return 0
  for id in $(ls "$dir/data/containers" 2>/dev/null); do
    cat /sys/fs/cgroup/pids/docker/"$id"/cgroup.procs 2>/dev/null
  done
}

cmd_stop() {
  local dir pid
  dir=$(abs_dir "${1:-}")
  [[ -d "$dir" ]] || return 0
  if [[ ! -e "$dir/$MARKER" ]]; then
    die "refusing to remove $dir: no $MARKER in it"
  fi
  pid=$(dockerd_pid "$dir")
  if ours "$pid" "$dir"; then
    kill -CONT "$pid" 2>/dev/null
    if [[ "$(docker_cli "$dir" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" == active ]]; then
      docker_cli "$dir" swarm leave --force >/dev/null 2>&1
    fi
    # The engine is going away: containers whose PID 1 ignores SIGTERM would cost 10 s each.
    local running
    running=$(docker_cli "$dir" ps -q 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -n "$running" ]] && docker_cli "$dir" kill $running >/dev/null 2>&1
  fi
  cmd_daemon_stop "$dir" TERM >/dev/null 2>&1
  # The registry by its pid first, so that its launcher reaps it (no zombie left for init).
  pid=$(read_pid "$dir/registry.pid")
  if ours "$pid" "$dir"; then
    kill -TERM "$pid" 2>/dev/null
    wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
  fi
  # Whatever is left: lingering containerd, shims, the registry, container processes.
  local round pids
  pids=$(container_pids "$dir")
  # shellcheck disable=SC2086
  [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
  for round in TERM KILL; do
    pids=$(our_pids "$dir")
    [[ -z "$pids" ]] && break
    # shellcheck disable=SC2086
    kill "-$round" $pids 2>/dev/null
    for pid in $pids; do wait_gone "$pid" 5; done
  done
  if [[ -e "$dir/netns" ]]; then
    nsenter --net="$dir/netns" ip link del docker_gwbridge 2>/dev/null
  fi
  local why
  why=$(unmount_and_remove "$dir") || die "$why"
}

main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
  install) cmd_install ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  daemon-stop) cmd_daemon_stop "$@" ;;
  daemon-start) cmd_daemon_start "$@" ;;
  freeze) cmd_signal "${1:-}" STOP ;;
  thaw) cmd_signal "${1:-}" CONT ;;
  *) die "usage: private-engine.sh install | start DIR | stop DIR | daemon-stop DIR [TERM|KILL] | daemon-start DIR | freeze DIR | thaw DIR" ;;
  esac
}

main "$@"
