import { createHash } from 'node:crypto';

/**
 * Docker's ChainIDs of a layer stack (image-spec): the first is the first diff id, each next one is
 * sha256 of "<previous chain id> <diff id>". The engine's layer store is keyed by them: a layer is
 * "already there" for a pull only if its whole chain is, not merely its diff id (the same COPY on top of
 * another parent is another layer, downloaded again). Pure: the same diff ids give the same chain.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(
      parent === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`,
    );
  }
  return out;
}
