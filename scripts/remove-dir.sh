# Sourced by private-engine.sh and private-cluster.sh: how a stopped engine's or cluster's dir goes away,
# one place.
#   unmount_and_remove DIR   unmounts everything under DIR, deepest first (overlay merged dirs, netns
#                            files, the data-root bind mount, our netns; lazily when busy), then removes
#                            DIR without crossing into another filesystem. Prints why and returns 1 when
#                            a mount is left or DIR cannot be removed.
mounts_under() { awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts; }

unmount_and_remove() {
  local dir=$1 m
  for m in $(mounts_under "$dir" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  if [[ -n "$(mounts_under "$dir")" ]]; then
    echo "mounts left under $dir"
    return 1
  fi
  rm -rf --one-file-system "$dir" || {
    echo "cannot remove $dir"
    return 1
  }
}
