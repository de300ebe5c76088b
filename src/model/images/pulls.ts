import type { EngineEvent, ImageDetail } from '../../docker/types.js';
import { chainIds } from './chains.js';
import { linkEviction } from '../evictions/eviction-memory.js';
import { claimTags, dropImage, layerSize, putImage } from './images.js';
import { countPull, DEFAULT_PULL_BUDGET, type PullBudget } from './pull-budget.js';
import { registryOf } from './refs.js';
import { resolveImage } from './resolve.js';
import { liveRuns, type RunPolicy } from '../services/stacks.js';
import type { ImageEntry, Model, Note, PendingPull, PullClass, RecentPull } from '../types.js';
import type { PullRecord } from '../../records/record-types.js';

/**
 * The engine stores a pulled image about a millisecond before it emits `pull`, so a re-list can see
 * the image before the event is applied; without care, that re-list would turn a cold pull warm. An
 * image counts as there before a pull only if a list showed it this long (engine clock) before the
 * event's own engine time.
 */
export const PULL_STORE_GAP_MS = 25;
/**
 * The same rule on the agent's clock, for an image whose list gave no engine time: an image first seen
 * this close before its pull event was applied (or after it) is taken to be the pull's own result.
 */
export const PULL_GRACE_MS = 2000;
/** Swarm emits one `pull` per task for one download: pulls of the same image this soon after are repeats. */
export const PULL_REPEAT_MS = 60_000;
/** A pull whose ref was not inspected after this long is given up as `unknown` (the queue must move). */
export const PULL_STALL_MS = 120_000;
/** Pulls waiting at most; past this the oldest is given up as `unknown`. */
const MAX_PENDING = 10_000;
/** Classified pulls remembered for service convergence records. */
const RECENT_PULLS = 256;

/** What the pull classifier reads of the reducer's context (src/model/context.ts). */
export interface PullContext {
  now: number;
  policy: RunPolicy;
  pullBudget?: PullBudget | undefined;
}

/**
 * Queues a pull event with what the model knew when it came: the ref's image and the live runs. The
 * records of pulls given up to make room go to `notes`.
 */
export function queuePull(model: Model, e: EngineEvent, ctx: PullContext, notes: Note[]): void {
  const seq = ++model.pullSeq;
  const pointedAt = resolveImage(model, e.actorId);
  model.pendingPulls.set(seq, {
    ref: e.actorId,
    seq,
    at: ctx.now,
    eventTimeMs: e.timeMs,
    ...(pointedAt !== undefined && { pointedAt }),
    stacks: liveRuns(model, ctx.policy),
  });
  if (model.pendingPulls.size <= MAX_PENDING) return;
  const oldest = model.pendingPulls.get(headSeq(model) as number) as PendingPull;
  oldest.resolved ??= { image: null, error: 'too many pulls waiting for an inspect' };
  drainPulls(model, ctx, notes);
}

/**
 * The oldest pending pull. Pulls are queued with consecutive sequence numbers and only ever leave from
 * the head, so it is found by number: iterating a Map from its start walks past every entry deleted since
 * the table was last compacted, thousands with a long queue, once per event.
 */
function headSeq(model: Model): number | undefined {
  const seq = model.pullSeq - model.pendingPulls.size + 1;
  return model.pendingPulls.has(seq) ? seq : model.pendingPulls.keys().next().value;
}

/**
 * Records the inspect of a pulled ref for the pending pulls of that ref it answers for (those queued
 * before the inspect started), then classifies every pull at the head of the queue that is answered;
 * their records go to `notes`.
 */
export function resolvePulls(
  model: Model,
  input: { ref: string; image: ImageDetail | null; upTo?: number; deletedSince?: boolean; error?: string },
  ctx: PullContext,
  notes: Note[],
): void {
  const upTo = input.upTo ?? Number.POSITIVE_INFINITY;
  for (const pull of model.pendingPulls.values()) {
    if (pull.ref !== input.ref || pull.resolved || pull.seq > upTo) continue;
    pull.resolved = {
      image: input.image,
      ...(input.deletedSince && { deletedSince: true }),
      ...(input.error !== undefined && { error: input.error }),
    };
  }
  drainPulls(model, ctx, notes);
}

/**
 * Classifies pulls in event order while the head of the queue is answered (or stalled too long); their
 * records go to `notes`. Runs after every input: with nothing to classify it allocates nothing.
 */
export function drainPulls(model: Model, ctx: PullContext, notes: Note[]): void {
  for (let seq = headSeq(model); seq !== undefined; seq = headSeq(model)) {
    const pull = model.pendingPulls.get(seq) as PendingPull;
    if (!pull.resolved && ctx.now - pull.at < PULL_STALL_MS) break;
    model.pendingPulls.delete(seq);
    const answer = pull.resolved ?? { image: null, error: 'not inspected in time' };
    const note = answer.image
      ? classify(model, pull, answer.image, ctx.now, answer.deletedSince === true)
      : unknownNote(pull, answer.error ?? 'image gone before it could be inspected');
    notes.push(note);
    remember(model, pull, note);
    const warning = countPull(model, note.registry, pull.at, ctx.pullBudget ?? DEFAULT_PULL_BUDGET);
    if (warning) notes.push(warning);
  }
}

function baseOf(pull: PendingPull) {
  return {
    event: 'pull' as const,
    ref: pull.ref,
    registry: registryOf(pull.ref),
    stacks: pull.stacks,
    at: new Date(pull.eventTimeMs).toISOString(),
  };
}

/** A pull given up: built in one literal (it is the record of every pull past a full queue), keys as baseOf. */
function unknownNote(pull: PendingPull, reason: string): PullRecord {
  return {
    event: 'pull',
    ref: pull.ref,
    registry: registryOf(pull.ref),
    stacks: pull.stacks,
    at: new Date(pull.eventTimeMs).toISOString(),
    class: 'unknown' satisfies PullClass,
    reason,
  };
}

function presentBefore(image: ImageEntry, pull: PendingPull): boolean {
  // Classified for an earlier pull: pulls are classified in event order.
  if (image.lastPull !== undefined) return true;
  if (image.seenByEngineAt !== undefined) return image.seenByEngineAt < pull.eventTimeMs - PULL_STORE_GAP_MS;
  return image.firstSeen < pull.at - PULL_GRACE_MS;
}

/**
 * Classifies one pull against the layers held before it, adds its image to the model, returns the record.
 * The inspect may have read the engine well before it is applied here (behind an earlier pull's inspect,
 * or slow): the refs of an image the model has come from its events and the list every pull event asks
 * for, never from this older read; and an image deleted since the read is classified, then left out.
 */
function classify(
  model: Model,
  pull: PendingPull,
  detail: ImageDetail,
  now: number,
  deletedSince: boolean,
): PullRecord {
  const known = model.images.get(detail.id);
  const wasThere = known !== undefined && presentBefore(known, pull);
  const last = known?.lastPull;
  const repeatOf = last && pull.at - last.at <= PULL_REPEAT_MS ? last.eventTimeMs : undefined;
  // Read before the image goes into the model (it adds its own layers to the counts).
  const held = wasThere ? undefined : heldBefore(model, detail, pull);

  const { entry } = putImage(
    model,
    known ? { ...detail, tags: known.tags, digests: known.digests } : detail,
    now,
  );
  entry.lastUsed = Math.max(entry.lastUsed, now);
  // Repeats point at the pull they repeat, not at each other.
  if (repeatOf === undefined) entry.lastPull = { at: pull.at, eventTimeMs: pull.eventTimeMs };
  // Gone before this was applied (its delete event found nothing to drop): the record stands, the
  // image does not stay, and its old tags are taken from no one.
  const stays = known !== undefined || !deletedSince;
  if (stays) claimTags(model, entry, now);

  let fresh = 0;
  let downloaded = 0;
  let reused = 0;
  let unknownNew = 0;
  let unknownOld = 0;
  const counted = new Set<string>();
  entry.layers.forEach((layer, i) => {
    if (counted.has(layer)) return;
    counted.add(layer);
    const size = layerSize(model, entry, i);
    if (!held || held.has(i)) {
      if (size === undefined) unknownOld++;
      else reused += size;
      return;
    }
    fresh++;
    if (size === undefined) unknownNew++;
    else downloaded += size;
  });
  // An image's size is the sum of its layers: one side whose sizes are unknown follows from the other.
  if (unknownNew > 0 && unknownOld === 0) downloaded = Math.max(0, entry.size - reused);
  if (unknownOld > 0 && unknownNew === 0) reused = Math.max(0, entry.size - downloaded);
  const total = counted.size;
  if (!stays) dropImage(model, detail.id);
  const cls: PullClass = fresh === 0 ? 'warm' : fresh === total ? 'cold' : 'partial';
  const moved = pull.pointedAt !== undefined && pull.pointedAt !== detail.id;
  return {
    ...baseOf(pull),
    image: detail.id,
    class: cls,
    ...(cls === 'warm' && { upToDate: pull.pointedAt === detail.id }),
    ...(repeatOf !== undefined && { repeatOf: new Date(repeatOf).toISOString() }),
    ...(moved && { previous: pull.pointedAt }),
    layers: { total, new: fresh },
    bytes: { downloaded, reused, known: unknownNew === 0 || unknownOld === 0 },
    // A cold or partial re-pull names the eviction that made it necessary (docs/audit.md).
    ...linkEviction(model.evictionMemory, {
      class: cls,
      ref: pull.ref,
      image: detail.id,
      atMs: pull.eventTimeMs,
    }),
  };
}

/**
 * Positions of the pulled image's layers that were on the host before the pull: their chain (the layer
 * on its parents, as the engine's layer store keys it) was held by an image there before it. Images that
 * came with the pull (or after it, seen by a racing list) are left out; the reference counts make this
 * cost the recent images only, not every layer of every image.
 */
function heldBefore(model: Model, detail: ImageDetail, pull: PendingPull): Set<number> {
  const recent = new Map<string, number>();
  for (const image of model.images.values()) {
    if (image.id !== detail.id && presentBefore(image, pull)) continue;
    for (const chain of image.chains ?? []) recent.set(chain, (recent.get(chain) ?? 0) + 1);
  }
  const held = new Set<number>();
  chainIds(detail.layers).forEach((chain, i) => {
    if ((model.chains.get(chain) ?? 0) - (recent.get(chain) ?? 0) > 0) held.add(i);
  });
  return held;
}

function remember(model: Model, pull: PendingPull, note: PullRecord): void {
  const recent: RecentPull = {
    ref: pull.ref,
    class: note.class,
    at: pull.at,
    eventTimeMs: pull.eventTimeMs,
    repeat: note.repeatOf !== undefined,
    newLayers: note.layers?.new ?? 0,
    bytesDownloaded: note.bytes?.downloaded ?? 0,
  };
  if (note.image !== undefined) recent.image = note.image;
  model.recentPulls.push(recent);
  if (model.recentPulls.length > RECENT_PULLS) model.recentPulls.shift();
}
