import type { ImageDetail } from '../docker/types.js';
import { linkEviction } from './eviction-memory.js';
import { putImage } from './images.js';
import { refMatches, registryOf } from './refs.js';
import { liveRuns, type RunPolicy } from './stacks.js';
import type { ImageEntry, Model, Note, PendingPull } from './types.js';

/**
 * An image the model first saw this close before its pull event (or after it) is taken to be the pull's
 * own result: the engine stores the image about a millisecond before it emits `pull`, so a re-list can
 * see it first. Without this, a re-list racing the event would turn a cold pull warm.
 */
export const PULL_GRACE_MS = 2000;
/** Swarm emits one `pull` per task for one download: pulls of the same image this soon after are repeats. */
export const PULL_REPEAT_MS = 60_000;

export type PullClass = 'cold' | 'partial' | 'warm' | 'unknown';

function presentBefore(image: ImageEntry, pull: PendingPull): boolean {
  return image.lastPullAt !== undefined || image.firstSeen < pull.at - PULL_GRACE_MS;
}

/**
 * Classifies a resolved pull against the layers the model held before it, adds the image to the model
 * and returns the `pull` record.
 */
export function resolvePull(
  model: Model,
  ref: string,
  detail: ImageDetail | null,
  now: number,
  policy: RunPolicy,
): Note {
  const pull = model.pendingPulls.get(ref) ?? { ref, at: now, eventTimeMs: now };
  model.pendingPulls.delete(ref);
  const base = {
    ref,
    registry: registryOf(ref),
    stacks: liveRuns(model, policy),
    at: new Date(pull.eventTimeMs).toISOString(),
  };
  if (!detail) return { event: 'pull', ...base, class: 'unknown' as PullClass };

  const known = model.images.get(detail.id);
  const wasThere = known !== undefined && presentBefore(known, pull);
  const repeatOf =
    known?.lastPullAt !== undefined && pull.at - known.lastPullAt <= PULL_REPEAT_MS
      ? known.lastPullAt
      : undefined;
  const before = wasThere ? undefined : layersPresentBefore(model, detail.id, pull);

  const { entry } = putImage(model, detail, now);
  entry.lastUsed = now;
  entry.lastPullAt = now;

  const layers = detail.layers;
  const sizes = entry.layerSizes;
  let fresh = 0;
  let downloaded = 0;
  let reused = 0;
  const counted = new Set<string>();
  layers.forEach((layer, i) => {
    if (counted.has(layer)) return;
    counted.add(layer);
    const isNew = before !== undefined && !before.has(layer);
    const size = sizes?.[i] ?? 0;
    if (isNew) {
      fresh++;
      downloaded += size;
    } else reused += size;
  });
  const total = counted.size;
  const cls: PullClass = fresh === 0 ? 'warm' : fresh === total ? 'cold' : 'partial';
  return {
    event: 'pull',
    ...base,
    image: detail.id,
    class: cls,
    ...(cls === 'warm' && { upToDate: wasThere && known !== undefined && refMatches(known, ref) }),
    ...(repeatOf !== undefined && { repeatOf: new Date(repeatOf).toISOString() }),
    layers: { total, new: fresh },
    bytes: { downloaded, reused, known: sizes !== undefined },
    ...linkEviction(model.evictionMemory, { class: cls, ref, image: detail.id, atMs: pull.eventTimeMs }),
  };
}

/** Layers held, at the time of the pull, by images other than `imageId` that were there before it. */
function layersPresentBefore(model: Model, imageId: string, pull: PendingPull): Set<string> {
  const present = new Set<string>();
  for (const image of model.images.values()) {
    if (image.id === imageId || !presentBefore(image, pull)) continue;
    for (const layer of image.layers) present.add(layer);
  }
  return present;
}
