/** The evictions' own types, apart from their code so that the model's types can hold them without a cycle. */
import type { EvictionRecord } from '../../records/record-types.js';
import type { RememberedEviction } from './eviction-memory.js';

/** The `eviction` log record. */
export type EvictionNote = EvictionRecord;

/** External evictions of an open burst: logged when a `prune` event claims them or the burst goes quiet. */
export interface HeldEvictions {
  /** Agent clock of the first eviction of the burst. */
  openedAt: number;
  /** Agent clock of the last image untag/delete/eviction of the burst. */
  lastAt: number;
  items: Array<{ note: EvictionNote; memo: RememberedEviction }>;
}

/**
 * An image the agent's executor is deleting. Its eviction is the agent's only if the executor's own
 * DELETE removed it: someone else's DELETE can win the race (ours then gets 404), and the engine's
 * event for it can reach us before our answer does. So an eviction seen before the answer waits for it.
 */
export interface OwnRemoval {
  /** The DELETE answered that it removed the image; the event (or a list) is still to show it. */
  removed?: boolean;
  /** The eviction seen before the DELETE answered. */
  held?: { note: EvictionNote; atMs: number };
}
