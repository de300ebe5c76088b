import { liveRuns, type RunPolicy } from './stacks.js';
import type { ImageEntry, Model, Note } from './types.js';

/**
 * The `eviction` record for an image that left the host: who removed it (the agent's own executor
 * or anyone else), whether a run was live, and what it freed.
 */
export function evictionNote(
  model: Model,
  dropped: { entry: ImageEntry; freedBytes?: number },
  cause: 'delete-event' | 'list',
  policy: RunPolicy,
): Note {
  const { entry } = dropped;
  const own = model.ownRemovals.delete(entry.id);
  const stacks = liveRuns(model, policy);
  const duringRun = stacks.length > 0;
  return {
    event: 'eviction',
    level: duringRun && !own ? 'warn' : 'info',
    image: entry.id,
    refs: [...entry.tags, ...entry.digests],
    size: entry.size,
    ...(dropped.freedBytes !== undefined && { freedBytes: dropped.freedBytes }),
    by: own ? 'layerwarden' : 'external',
    duringRun,
    stacks,
    cause,
  };
}
