/** `sha256:0123456789ab…` or a container's `0123456789ab…` → `0123456789ab`, as docker shows ids. */
export function shortId(id: string): string {
  // No regex: it runs for every container start the model names (bench/ingest.ts).
  return id.startsWith('sha256:') ? id.slice(7, 19) : id.slice(0, 12);
}
