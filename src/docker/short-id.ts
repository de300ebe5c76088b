/** `sha256:0123456789ab…` or a container's `0123456789ab…` → `0123456789ab`, as docker shows ids. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
