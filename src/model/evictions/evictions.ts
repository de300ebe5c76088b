import {
  type EvictionActivity,
  type EvictionActor,
  type RememberedEviction,
  rememberEviction,
} from './eviction-memory.js';
import { holdUntilAnswered, takeUnanswered } from './own-removals.js';
import { liveRuns, type RunPolicy } from '../services/stacks.js';
import type { ImageEntry, Model, Note, Want } from '../types.js';

/**
 * How long after the last image untag/delete an external eviction waits for an engine `prune` event
 * before it is logged as a plain delete. An engine prune emits untag/delete per image and then one
 * `prune` event (measured: 0.1 ms after the last delete); a long prune spaces its deletes by the time
 * each one takes, and every untag/delete restarts the wait.
 */
export const BURST_QUIET_MS = 2000;
/**
 * A burst that never goes quiet (a host whose jobs delete images more often than every 2 s) is closed
 * anyway once it holds this many evictions or has been open this long: otherwise its records would wait
 * for as long as the churn lasts and the held items would grow without bound (bench/memory.ts: +45 MB
 * of heap over 1,000,000 events, and a linear search per delete that cut the rate tenfold). An engine
 * prune longer than that is split: the part logged early says `delete`, the rest is claimed as usual.
 */
export const BURST_MAX_EVICTIONS = 1000;
export const BURST_MAX_MS = 60_000;

import type { EvictionNote } from './types.js';

export type { EvictionNote, HeldEvictions } from './types.js';

/** Every ref the image had while the model held it: the current ones first, then those it lost. */
function refsOf(entry: ImageEntry): string[] {
  return [...new Set([...entry.tags, ...entry.digests, ...(entry.formerRefs ?? [])])];
}

/**
 * Builds the `eviction` record for an image that left the host: who removed it (the agent's executor
 * announced it with `own-removal`, else `external`), the runs live at that moment, what it freed.
 * `atMs` is the engine time of the delete event, or the agent's clock when only a list showed it.
 */
export function evictionNote(
  model: Model,
  dropped: { entry: ImageEntry; freedBytes?: number },
  cause: EvictionNote['cause'],
  ctx: { policy: RunPolicy; atMs: number },
): EvictionNote {
  const { entry } = dropped;
  const own = model.ownRemovals.has(entry.id);
  const stacks = liveRuns(model, ctx.policy);
  const duringRun = stacks.length > 0;
  return {
    event: 'eviction',
    level: duringRun && !own ? 'warn' : 'info',
    at: new Date(ctx.atMs).toISOString(),
    image: entry.id,
    refs: refsOf(entry),
    size: entry.size,
    ...(dropped.freedBytes !== undefined && { freedBytes: dropped.freedBytes }),
    by: own ? 'layerwarden' : 'external',
    duringRun,
    stacks,
    cause,
    // The executor only ever sends a plain DELETE; for others, a delete until a prune claims it.
    activity: own || cause === 'delete-event' ? 'delete' : 'unknown',
  };
}

/**
 * Remembers an eviction (for re-pull links) and logs it: the agent's own at once, an external one held
 * in the open burst until it is known whether an engine prune did it.
 */
export function recordEviction(model: Model, note: EvictionNote, atMs: number, now: number, notes: Note[]) {
  if (note.by === 'layerwarden' && holdUntilAnswered(model, note, atMs)) return;
  const memo: RememberedEviction = {
    image: note.image,
    at: note.at,
    atMs,
    by: note.by,
    activity: note.activity,
    refs: note.refs,
  };
  rememberEviction(model.evictionMemory, memo);
  if (note.by === 'layerwarden') {
    notes.push(note);
    return;
  }
  const open = model.heldEvictions;
  if (open && (open.items.length >= BURST_MAX_EVICTIONS || now - open.openedAt >= BURST_MAX_MS)) {
    for (const { note: held } of open.items) notes.push(held);
    model.heldEvictions = undefined;
  }
  model.heldEvictions ??= { openedAt: now, lastAt: now, items: [] };
  model.heldEvictions.items.push({ note, memo });
  model.heldEvictions.lastAt = now;
}

/** An image untag/delete while a burst is open keeps it open; a delete names a list-seen eviction's cause. */
export function touchBurst(model: Model, now: number, deleted?: { id: string; atMs: number }): void {
  const held = model.heldEvictions;
  if (!held) return;
  held.lastAt = now;
  const item = deleted && held.items.find((i) => i.note.image === deleted.id && i.note.cause === 'list');
  if (item && deleted) {
    item.note.cause = 'delete-event';
    item.note.activity = item.memo.activity = 'delete';
    item.note.at = item.memo.at = new Date(deleted.atMs).toISOString();
    item.memo.atMs = deleted.atMs;
  }
}

/**
 * Which held evictions an engine image `prune` event claims. The prune's `reclaimed` is the sum of the
 * layers its deletes freed, and a prune's deletes come last: so the longest run of the most recent held
 * evictions whose freed bytes add up to `reclaimed` is the prune's, and any before it were plain deletes
 * (a `docker rmi` 20 ms before the prune, as recorded). When the bytes are not all known or nothing adds
 * up (the model's layer counts differ from the engine's), the whole burst is the prune's.
 */
export function claimedByPrune(
  items: ReadonlyArray<{ note: Pick<EvictionNote, 'freedBytes'> }>,
  reclaimed: number,
): { count: number; by: 'reclaimed-bytes' | 'burst' } {
  const all = { count: items.length, by: 'burst' as const };
  if (items.some((i) => i.note.freedBytes === undefined)) return all;
  let best = reclaimed === 0 ? 0 : -1;
  let sum = 0;
  for (let k = 1; k <= items.length; k++) {
    sum += items[items.length - k]?.note.freedBytes ?? 0;
    if (sum === reclaimed) best = k;
  }
  return best < 0 ? all : { count: best, by: 'reclaimed-bytes' };
}

/**
 * An engine image `prune` event: logs the held evictions, those of its burst with `activity:
 * 'engine-prune'`, the others as they were. Returns how many it claimed and how it knew.
 */
export function claimBurst(
  model: Model,
  prune: { atMs: number; reclaimed: number },
  notes: Note[],
): { evictions: number; claimedBy: 'reclaimed-bytes' | 'burst' } {
  const held = model.heldEvictions;
  if (!held) return { evictions: 0, claimedBy: 'burst' };
  model.heldEvictions = undefined;
  const { count, by } = claimedByPrune(held.items, prune.reclaimed);
  const first = held.items.length - count;
  const at = new Date(prune.atMs).toISOString();
  held.items.forEach(({ note, memo }, i) => {
    if (i >= first) {
      note.activity = memo.activity = 'engine-prune';
      memo.pruneAt = at;
      note.prune = { at, reclaimed: prune.reclaimed };
    }
    notes.push(note);
  });
  return { evictions: count, claimedBy: by };
}

/** Logs a burst that went quiet with no prune event (or every held eviction, on stop). */
export function settleEvictions(model: Model, now: number, final: boolean, notes: Note[], wants: Want[]) {
  if (final) for (const h of takeUnanswered(model)) recordEviction(model, h.note, h.atMs, now, notes);
  const held = model.heldEvictions;
  if (!held) return;
  const quietFor = now - held.lastAt;
  if (!final && quietFor < BURST_QUIET_MS) {
    wants.push({ kind: 'settle-evictions', delayMs: BURST_QUIET_MS - quietFor });
    return;
  }
  for (const { note } of held.items) notes.push(note);
  model.heldEvictions = undefined;
}
