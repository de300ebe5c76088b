import { shortId } from '../../docker/short-id.js';
import type { ContainerInfo, EngineSnapshot, ImageDetail } from '../../docker/types.js';
import type { ApplyContext } from '../context.js';
import { setContainer, toEntry } from '../containers/containers.js';
import { evictionNote, recordEviction } from '../evictions/evictions.js';
import { dropImage, putImage, sameRefs, touchImage } from '../images/images.js';
import { putServices } from '../services/services.js';
import type { Model, Note, Want } from '../types.js';

interface Drift {
  added: string[];
  removed: string[];
  changed: string[];
}

const emptyDrift = (): Drift => ({ added: [], removed: [], changed: [] });

export function applyImages(
  model: Model,
  images: ImageDetail[],
  ctx: ApplyContext,
  notes: Note[],
  engineTimeMs: number | undefined,
): Drift {
  const drift = emptyDrift();
  const listed = new Set<string>();
  for (const image of images) {
    listed.add(image.id);
    const old = model.images.get(image.id);
    if (old && !sameRefs(old, image)) drift.changed.push(image.id);
    if (!old && image.layers.length === 0) continue; // inspected nothing: it was removed while listed
    const { entry, added } = putImage(model, image, ctx.now);
    if (added) drift.added.push(image.id);
    if (added && engineTimeMs !== undefined) entry.seenByEngineAt = engineTimeMs;
  }
  for (const id of [...model.images.keys()]) {
    if (listed.has(id)) continue;
    const dropped = dropImage(model, id);
    if (!dropped) continue;
    drift.removed.push(id);
    const note = evictionNote(model, dropped, 'list', { policy: ctx.policy, atMs: ctx.now });
    recordEviction(model, note, ctx.now, ctx.now, notes);
  }
  return drift;
}

/**
 * An image an event named as new, inspected: into the model now, with the event's engine time as the
 * bound by which it was stored (pull evidence). One the model already has (a list came first) is left
 * as the list made it; null (gone before the inspect) changes nothing.
 */
export function applyCreatedImage(
  model: Model,
  image: ImageDetail | null,
  engineTimeMs: number,
  now: number,
): void {
  if (!image || image.layers.length === 0 || model.images.has(image.id)) return;
  putImage(model, image, now).entry.seenByEngineAt = engineTimeMs;
}

export function applyContainers(model: Model, containers: ContainerInfo[], now: number): Drift {
  const drift = emptyDrift();
  const listed = new Set<string>();
  for (const info of containers) {
    listed.add(info.id);
    const prev = model.containers.get(info.id);
    if (prev?.imageId !== info.imageId) touchImage(model, info.imageId, now);
    if (!prev) drift.added.push(info.id);
    // An image id of '' was not known yet (a create event whose image the model could not resolve): not drift.
    else if (prev.state !== info.state || (prev.imageId !== '' && prev.imageId !== info.imageId))
      drift.changed.push(info.id);
    setContainer(model, info.id, toEntry(info, prev));
  }
  for (const id of [...model.containers.keys()]) {
    if (listed.has(id)) continue;
    drift.removed.push(id);
    setContainer(model, id, undefined);
  }
  return drift;
}

export function applySnapshot(
  model: Model,
  snap: EngineSnapshot,
  reason: string,
  startedAt: number | undefined,
  ctx: ApplyContext,
  notes: Note[],
  wants: Want[],
) {
  const { now } = ctx;
  const first = model.sync.lastResyncAt === undefined;
  if (model.savedEngineId !== undefined && model.savedEngineId !== snap.info.id) {
    // Clocks of another engine say nothing about these images: start them at now, never early.
    notes.push({
      event: 'state.foreign',
      level: 'warn',
      savedEngineId: model.savedEngineId,
      engineId: snap.info.id,
      droppedClocks: model.savedClocks.size,
    });
    // The file belongs to another engine: kept aside as evidence (the agent does it, not this record).
    wants.push({ kind: 'set-state-aside' });
    model.savedClocks.clear();
  }
  model.savedEngineId = snap.info.id;
  model.engine = snap.info;
  // /info is read once the list has started: its time plus what the list took since bounds, on the
  // engine's clock, when every listed image was stored (pull evidence; no clock skew: a duration).
  const engineBound =
    snap.info.systemTime !== undefined && startedAt !== undefined
      ? snap.info.systemTime + Math.max(0, now - startedAt)
      : undefined;
  const images = applyImages(model, snap.images, ctx, notes, engineBound);
  const containers = applyContainers(model, snap.containers, now);
  const before = new Map(
    [...model.services].map(([id, s]) => [id, `${s.desired}/${s.running}/${s.updateState}`]),
  );
  putServices(model, snap.services, snap.tasks, now, notes);
  const services = emptyDrift();
  for (const [id, s] of model.services) {
    const was = before.get(id);
    if (was === undefined) services.added.push(id);
    else if (was !== `${s.desired}/${s.running}/${s.updateState}`) services.changed.push(id);
  }
  for (const id of before.keys()) if (!model.services.has(id)) services.removed.push(id);
  // A list is the truth only about the time it was taken. If the stream is down, or events were missed
  // after the list started (a reconnect, a malformed line, a full buffer), the model is not in sync: the
  // next connect, or the loop's follow-up list, lists again.
  const { connected, invalidatedAt } = model.sync;
  const stale = startedAt !== undefined && invalidatedAt !== undefined && startedAt < invalidatedAt;
  model.sync = {
    connected,
    ...(invalidatedAt !== undefined && { invalidatedAt }),
    inSync: connected && !stale,
    lastResyncAt: now,
    ...(!connected && { reason: 'events stream down since the list' }),
    ...(connected && stale && { reason: 'events missed since the list started; listing again' }),
  };
  const drift = { images: count(images), containers: count(containers), services: count(services) };
  const total = Object.values(drift).reduce((n, d) => n + d.added + d.removed + d.changed, 0);
  notes.push({
    event: 'model.resync',
    reason,
    initial: first,
    drift: first ? undefined : drift,
    driftTotal: first ? 0 : total,
    ...(!first && total > 0 && { driftSample: sample(images, containers, services) }),
    counts: { images: model.images.size, containers: model.containers.size, services: model.services.size },
  });
}

function count(d: Drift) {
  return { added: d.added.length, removed: d.removed.length, changed: d.changed.length };
}

function sample(images: Drift, containers: Drift, services: Drift) {
  const short = (ids: string[]) => ids.slice(0, 5).map(shortId);
  return {
    images: { added: short(images.added), removed: short(images.removed), changed: short(images.changed) },
    containers: {
      added: short(containers.added),
      removed: short(containers.removed),
      changed: short(containers.changed),
    },
    services: {
      added: short(services.added),
      removed: short(services.removed),
      changed: short(services.changed),
    },
  };
}
