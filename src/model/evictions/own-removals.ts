import type { EvictionNote } from './types.js';
import type { Model } from '../types.js';

export type { OwnRemoval } from './types.js';

/** The executor is about to send a DELETE for this image. */
export function announceOwnRemoval(model: Model, id: string): void {
  model.ownRemovals.set(id, {});
}

/**
 * Whether an eviction of an announced image must wait for the DELETE's answer (it is then held). One
 * whose DELETE already answered `removed` is the agent's and goes through at once.
 */
export function holdUntilAnswered(model: Model, note: EvictionNote, atMs: number): boolean {
  const own = model.ownRemovals.get(note.image);
  if (!own) return false;
  if (own.removed) {
    model.ownRemovals.delete(note.image);
    return false;
  }
  own.held = { note, atMs };
  return true;
}

/**
 * The executor's DELETE answered. Removed: a held eviction is the agent's; without one, the event is
 * still to come (unless the model no longer has the image). Not removed (404: someone else was first;
 * 409; an error): a held eviction is someone else's. Returns the eviction to record now, if any.
 */
export function answerOwnRemoval(
  model: Model,
  id: string,
  removed: boolean,
): { note: EvictionNote; atMs: number } | undefined {
  const own = model.ownRemovals.get(id);
  if (!own) return undefined;
  if (removed && !own.held && model.images.has(id)) {
    own.removed = true;
    return undefined;
  }
  model.ownRemovals.delete(id);
  const held = own.held;
  if (held && !removed) {
    const { note } = held;
    note.by = 'external';
    note.level = note.duringRun ? 'warn' : 'info';
    note.activity = note.cause === 'delete-event' ? 'delete' : 'unknown';
  }
  return held;
}

/** On stop: evictions still waiting for an answer are the agent's (its DELETE was sent); forgets the rest. */
export function takeUnanswered(model: Model): Array<{ note: EvictionNote; atMs: number }> {
  const held = [...model.ownRemovals.values()].flatMap((o) => (o.held ? [o.held] : []));
  model.ownRemovals.clear();
  return held;
}
