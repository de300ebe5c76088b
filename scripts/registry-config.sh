# Sourced by private-engine.sh and private-cluster.sh: the local registry's config, one place.
#   write_registry_config DIR ADDR    writes DIR/registry.yml: storage in DIR/registry, listening on ADDR
write_registry_config() {
  local dir=$1 addr=$2
  mkdir -p "$dir/registry"
  cat >"$dir/registry.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/registry
  delete:
    enabled: true
http:
  addr: $addr
YML
}
