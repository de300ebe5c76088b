#!/usr/bin/env bash
# A private multi-node Swarm for tests: N private engines (scripts/private-engine.sh), each in its own
# network namespace, joined by veth pairs to a bridge in a hub namespace of our own, one manager and
# N-1 workers, one registry in the hub they all pull from. Addresses 10.231.0.0/24 exist only inside
# these namespaces: nothing can leave them. See docs/private-engine.md ("A private cluster").
#
#   private-cluster.sh start DIR [NODES]   start hub, registry, NODES engines (default 3), swarm; print/write DIR/env
#   private-cluster.sh leave DIR I         node I (2..NODES) leaves the swarm
#   private-cluster.sh join DIR I          node I joins again as a worker (a new NodeID, a new socket link)
#   private-cluster.sh stop DIR            stop every node, the registry; unmount, remove DIR (idempotent)
#
# DIR/sockets/<swarm NodeID>.sock links to each node's engine socket: a bind mount whose source is
# DIR/sockets/{{.Node.ID}}.sock (a Swarm template) gives each task its own node's engine.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly ENGINE="$here/private-engine.sh"
# shellcheck source=registry-config.sh
source "$here/registry-config.sh"
# shellcheck source=remove-dir.sh
source "$here/remove-dir.sh"
readonly NET=10.231.0
readonly HUB_ADDR=$NET.1
readonly REGISTRY=$HUB_ADDR:5000
readonly MARKER=.layerwarden-cluster
readonly START_TIMEOUT_S=${LW_ENGINE_START_TIMEOUT:-60}

die() {
  echo "private-cluster: $*" >&2
  exit 1
}

abs_dir() {
  [[ -n "${1:-}" ]] || die "missing DIR argument"
  case "$1" in
  /*) printf '%s\n' "${1%/}" ;;
  *) printf '%s\n' "$PWD/${1%/}" ;;
  esac
}

node_addr() { echo "$NET.$((10 + $1))"; }

cli() {
  local node=$1
  shift
  DOCKER_CONFIG="$node/cli" timeout 30 docker -H "unix://$node/docker.sock" "$@"
}

read_pid() { [[ -f "$1" ]] && tr -dc '0-9' <"$1"; }

hub() { nsenter --net="$1/hub.netns" "${@:2}"; }

# The hub namespace: bridge br0 with the hub's address, the registry listening on it.
start_hub() {
  local dir=$1
  touch "$dir/hub.netns"
  unshare --net="$dir/hub.netns" true || die "cannot create a network namespace (unshare --net)"
  hub "$dir" ip link set lo up
  hub "$dir" ip link add br0 type bridge
  hub "$dir" ip addr add "$HUB_ADDR/24" dev br0
  hub "$dir" ip link set br0 up
  write_registry_config "$dir" "$REGISTRY"
  nsenter --net="$dir/hub.netns" setsid sh -c '"$@" & echo $! >"$0"; wait $!' "$dir/registry.pid" \
    docker-registry serve "$dir/registry.yml" >>"$dir/registry.log" 2>&1 </dev/null &
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until hub "$dir" curl -fsS -m 2 -o /dev/null "http://$REGISTRY/v2/" 2>/dev/null; do
    ((SECONDS >= deadline)) && die "registry did not come up: $(tail -1 "$dir/registry.log" | cut -c1-300)"
    sleep 0.1
  done
}

# Node I: a private engine using the hub's registry, eth0 (its end of a veth pair) at 10.231.0.(10+I).
start_node() {
  local dir=$1 i=$2 node="$1/node$2"
  LW_ENGINE_REGISTRY=$REGISTRY LW_ENGINE_OWN_ID=1 bash "$ENGINE" start "$node" >/dev/null || die "node $i did not start"
  hub "$dir" ip link add "vn$i" type veth peer name eth0 netns "$node/netns" || die "veth for node $i"
  hub "$dir" ip link set "vn$i" master br0 up
  nsenter --net="$node/netns" ip addr add "$(node_addr "$i")/24" dev eth0
  nsenter --net="$node/netns" ip link set eth0 up
}

link_socket() {
  local dir=$1 i=$2 id
  id=$(cli "$dir/node$i" info --format '{{.Swarm.NodeID}}') || die "node $i: no swarm node id"
  [[ -n "$id" ]] || die "node $i is not in a swarm"
  mkdir -p "$dir/sockets"
  ln -sfn "$dir/node$i/docker.sock" "$dir/sockets/$id.sock"
}

cmd_join() {
  local dir i token
  dir=$(abs_dir "${1:-}")
  i=${2:?node index}
  token=$(cli "$dir/node1" swarm join-token -q worker) || die "no join token"
  cli "$dir/node$i" swarm join --token "$token" --advertise-addr "$(node_addr "$i")" \
    --listen-addr "$(node_addr "$i"):2377" "$(node_addr 1):2377" >/dev/null || die "node $i could not join"
  link_socket "$dir" "$i"
}

cmd_leave() {
  local dir i
  dir=$(abs_dir "${1:-}")
  i=${2:?node index}
  [[ "$i" != 1 ]] || die "the manager does not leave"
  cli "$dir/node$i" swarm leave >/dev/null || die "node $i could not leave"
}

cmd_start() {
  local dir nodes=${2:-3} i
  dir=$(abs_dir "${1:-}")
  [[ $EUID -eq 0 ]] || die "must run as root"
  ((nodes >= 1 && nodes <= 9)) || die "NODES must be 1..9"
  mkdir -p "$dir" || die "cannot create $dir"
  [[ -e "$dir/hub.netns" ]] && die "$dir already holds a cluster"
  touch "$dir/$MARKER"
  (
    start_hub "$dir"
    for ((i = 1; i <= nodes; i++)); do start_node "$dir" "$i"; done
    cli "$dir/node1" swarm init --advertise-addr "$(node_addr 1)" --listen-addr "$(node_addr 1):2377" \
      >/dev/null || die "swarm init failed"
    link_socket "$dir" 1
    for ((i = 2; i <= nodes; i++)); do cmd_join "$dir" "$i"; done
    local deadline=$((SECONDS + START_TIMEOUT_S))
    until [[ "$(cli "$dir/node1" node ls --format '{{.Status}}' | grep -c '^Ready$')" == "$nodes" ]]; do
      ((SECONDS >= deadline)) && die "not every node is Ready within ${START_TIMEOUT_S}s"
      sleep 0.2
    done
  ) || {
    cmd_stop "$dir" >/dev/null 2>&1
    die "start failed"
  }
  {
    echo "LW_CLUSTER_DIR=$dir"
    echo "LW_CLUSTER_REGISTRY=$REGISTRY"
    echo "LW_CLUSTER_HUB_NETNS=$dir/hub.netns"
    echo "LW_CLUSTER_NODES=$(for ((i = 1; i <= nodes; i++)); do printf '%s ' "$dir/node$i"; done | sed 's/ $//')"
    echo "LW_CLUSTER_ADDRS=$(for ((i = 1; i <= nodes; i++)); do printf '%s ' "$(node_addr "$i")"; done | sed 's/ $//')"
    echo "LW_CLUSTER_SOCKETS=$dir/sockets"
  } >"$dir/env"
  cat "$dir/env"
}

cmd_stop() {
  local dir node pid
  dir=$(abs_dir "${1:-}")
  [[ -d "$dir" ]] || return 0
  [[ -e "$dir/$MARKER" ]] || die "refusing to remove $dir: no $MARKER in it"
  # Workers first (a manager leaving first would leave them retrying it), then the manager.
  local stuck=()
  for node in $(ls -d "$dir"/node* 2>/dev/null | sort -r); do
    bash "$ENGINE" stop "$node" || stuck+=("$node")
  done
  pid=$(read_pid "$dir/registry.pid")
  if [[ -n "$pid" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do [[ -e /proc/$pid ]] || break; sleep 0.05; done
    [[ -e /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null
  fi
  # A node that could not be stopped keeps its processes and mounts: the whole dir stays, to be looked at.
  ((${#stuck[@]} == 0)) || die "could not stop ${stuck[*]}; $dir kept"
  local why
  why=$(unmount_and_remove "$dir") || die "$why"
}

main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  leave) cmd_leave "$@" ;;
  join) cmd_join "$@" ;;
  *) die "usage: private-cluster.sh start DIR [NODES] | leave DIR I | join DIR I | stop DIR" ;;
  esac
}

main "$@"
