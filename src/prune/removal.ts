import type { DockerPort } from '../docker/port.js';
import type { ImageRemoveOutcome } from '../docker/types.js';
import type { Model } from '../model/types.js';
import type { Candidate, ItemKind } from './plan.js';

/** The engine's answer to a removal, as the executor acts on it. */
export type RemovalVerdict =
  | { kind: 'removed'; bytes: number }
  /** A DELETE by reference removed that reference only: the image stays, with its other references. */
  | { kind: 'untagged' }
  | { kind: 'gone' }
  | { kind: 'in-use'; detail: string }
  | { kind: 'engine-prune-running'; detail: string }
  /** `status` is set when the engine answered (an HTTP error), absent when it did not answer at all. */
  | { kind: 'failed'; detail: string; status?: number };

/** What the engine says while one of its own prunes holds the lock (ENGINE-FACTS 15). */
const PRUNE_RUNNING = /prune operation is already running/i;

/** Maps the port's outcome: 404 is already gone, 409 is in use, unless the engine is pruning itself. */
export function verdictOf(outcome: ImageRemoveOutcome, bytes: number): RemovalVerdict {
  switch (outcome.kind) {
    case 'removed':
      return { kind: 'removed', bytes };
    case 'untagged':
      return { kind: 'untagged' };
    case 'gone':
      return { kind: 'gone' };
    case 'conflict':
      return PRUNE_RUNNING.test(outcome.message)
        ? { kind: 'engine-prune-running', detail: outcome.message }
        : { kind: 'in-use', detail: outcome.message };
    case 'failed':
      return PRUNE_RUNNING.test(outcome.message)
        ? { kind: 'engine-prune-running', detail: outcome.message }
        : {
            kind: 'failed',
            detail: outcome.message,
            ...(outcome.status !== undefined && { status: outcome.status }),
          };
  }
}

/**
 * Bytes an image's removal frees, from the live model: its layers that no other image holds, when the
 * layer sizes are known; else the engine's size of the image (shared layers counted in it).
 */
export function freedBytes(model: Model, candidate: Pick<Candidate, 'kind' | 'id' | 'bytes'>): number {
  if (candidate.kind !== 'image') return candidate.bytes;
  const image = model.images.get(candidate.id);
  if (!image?.layerSizes || image.layerSizes.length !== image.layers.length) return candidate.bytes;
  let bytes = 0;
  const seen = new Set<string>();
  image.layers.forEach((layer, i) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if ((model.layers.get(layer) ?? 0) <= 1) bytes += image.layerSizes?.[i] ?? 0;
  });
  return bytes;
}

/**
 * One plain removal (never forced, never volumes) of a container by id, or of an image by id or by one
 * of its references (`target`); a throw from the port becomes `failed`.
 */
export async function removeItem(
  port: DockerPort,
  item: { kind: ItemKind; target: string },
  bytes: number,
): Promise<RemovalVerdict> {
  try {
    const outcome =
      item.kind === 'image' ? await port.removeImage(item.target) : await port.removeContainer(item.target);
    return verdictOf(outcome, bytes);
  } catch (err) {
    const status = (err as { statusCode?: unknown }).statusCode;
    return {
      kind: 'failed',
      detail: err instanceof Error ? err.message : String(err),
      ...(typeof status === 'number' && { status }),
    };
  }
}

/** The engine's builder prune of cache unused for `untilHours`; a failure is a verdict, not a throw. */
export async function pruneBuildCache(port: DockerPort, untilHours: number): Promise<RemovalVerdict> {
  try {
    const { reclaimed } = await port.pruneBuildCache(untilHours);
    return { kind: 'removed', bytes: reclaimed };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    if (PRUNE_RUNNING.test(detail)) return { kind: 'engine-prune-running', detail };
    const status = (err as { statusCode?: unknown }).statusCode;
    return { kind: 'failed', detail, ...(typeof status === 'number' && { status }) };
  }
}
