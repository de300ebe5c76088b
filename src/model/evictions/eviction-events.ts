import type { EngineEvent } from '../../docker/types.js';
import { claimBurst, evictionNote, recordEviction, touchBurst } from './evictions.js';
import { dropImage } from '../images/images.js';
import type { RunPolicy } from '../services/stacks.js';
import type { Model, Note } from '../types.js';

/** An image `delete` event: the image left the host (its record waits for its burst unless it is ours). */
export function imageDeleted(
  model: Model,
  e: EngineEvent,
  ctx: { now: number; policy: RunPolicy },
  notes: Note[],
) {
  touchBurst(model, ctx.now, { id: e.actorId, atMs: e.timeMs });
  const dropped = dropImage(model, e.actorId);
  if (!dropped) return;
  const note = evictionNote(model, dropped, 'delete-event', { policy: ctx.policy, atMs: e.timeMs });
  recordEviction(model, note, e.timeMs, ctx.now, notes);
}

/**
 * An engine image `prune` event (empty actor id, `reclaimed` bytes): logs the held evictions of its
 * burst with their activity, and returns the `engine.prune` record saying how many it claimed.
 */
export function imagePruned(model: Model, e: EngineEvent, notes: Note[]): Note {
  const reclaimed = Number(e.attributes.reclaimed ?? 0);
  const claimed = claimBurst(model, { atMs: e.timeMs, reclaimed }, notes);
  return {
    event: 'engine.prune',
    what: 'image',
    at: new Date(e.timeMs).toISOString(),
    reclaimed,
    ...claimed,
  };
}
