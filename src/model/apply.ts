import type { ContainerInfo, EngineEvent, EngineSnapshot, ImageDetail } from '../docker/types.js';
import { setContainer, toEntry } from './containers.js';
import { imageDeleted, imagePruned } from './eviction-events.js';
import { BURST_QUIET_MS, evictionNote, recordEviction, settleEvictions, touchBurst } from './evictions.js';
import { announceOwnRemoval, answerOwnRemoval } from './own-removals.js';
import { dropImage, putImage, sameRefs, touchImage } from './images.js';
import { resolvePull } from './pulls.js';
import { safeSample } from './safe-sample.js';
import { anyUnsettled, markConverging, putServices } from './services.js';
import { type RunPolicy, settleStacks } from './stacks.js';
import type { Model, ModelInput, Note, Step, Want } from './types.js';

export interface ApplyContext {
  /** The agent's clock, ms since the epoch. */
  now: number;
  policy: RunPolicy;
}

/** What an operator needs to read when the socket refuses us: the fix is theirs, the agent keeps retrying. */
export const PERMISSION_HINT =
  "permission denied on the Docker socket: run the agent as root or as a member of the socket's group (usually docker), or fix the socket's mode; retrying slowly until then";

/** Polling interval for service lists while a service converges (there are no task events). */
export const CONVERGE_POLL_MS = 1000;

/** Container actions that change what the model holds; the rest (exec_*, attach, resize, top…) do not. */
const CONTAINER_ACTIONS = new Set([
  'create',
  'start',
  'restart',
  'die',
  'stop',
  'pause',
  'unpause',
  'rename',
  'update',
  'oom',
]);
// `push` records the pushed manifest's digest on the image (a new RepoDigest) without any other event.
const IMAGE_LIST_ACTIONS = new Set(['tag', 'untag', 'delete', 'load', 'import', 'prune', 'pull', 'push']);

/**
 * Applies one input to the model. The model is updated in place (the scan in src/streams owns the only
 * instance; copying maps of thousands of entries per event would cap ingest far below the engine's rate).
 * Deterministic, no I/O and no clock of its own: everything it needs comes in `input` and `ctx`.
 * Returns the log-worthy notes and the work it wants done (lists, inspects), never done inline.
 */
export function apply(model: Model, input: ModelInput, ctx: ApplyContext): Step {
  const notes: Note[] = [];
  const wants: Want[] = [];
  const { now, policy } = ctx;
  switch (input.kind) {
    case 'event':
      applyEvent(model, input.event, ctx, notes, wants);
      break;
    case 'snapshot':
      applySnapshot(model, input.snapshot, input.reason, input.startedAt, ctx, notes);
      break;
    case 'images':
      applyImages(model, input.images, ctx, notes);
      break;
    case 'containers':
      applyContainers(model, input.containers, now);
      break;
    case 'container': {
      const prev = model.containers.get(input.id);
      if (input.container) {
        if (!prev) touchImage(model, input.container.imageId, now);
        const start = model.activity.containerStart;
        if (start?.id === input.id) start.name = input.container.name;
        setContainer(model, input.id, toEntry(input.container, prev));
      } else setContainer(model, input.id, undefined);
      break;
    }
    case 'services':
      putServices(model, input.services, input.tasks, now, notes);
      break;
    case 'pull.resolved':
      notes.push(resolvePull(model, input.ref, input.image, now, policy));
      break;
    case 'own-removal': {
      if (input.answer === undefined) {
        announceOwnRemoval(model, input.id);
        break;
      }
      // Who removed it is known only now: an eviction seen before the answer waited for it.
      const held = answerOwnRemoval(model, input.id, input.answer === 'removed');
      if (held) recordEviction(model, held.note, held.atMs, now, notes);
      break;
    }
    case 'evictions.settle':
      settleEvictions(model, now, input.final === true, notes, wants);
      break;
    case 'stream.up':
      // Connected is not in sync: only the re-list that follows every connect makes it so.
      model.sync = {
        ...model.sync,
        connected: true,
        invalidatedAt: now,
        inSync: false,
        reason: 'listing after connect',
      };
      notes.push({ event: 'stream.up', attempt: input.attempt });
      wants.push({
        kind: 'resync',
        reason: input.attempt === 0 && model.sync.lastResyncAt === undefined ? 'start' : 'reconnect',
      });
      break;
    case 'stream.down':
      model.sync = {
        ...model.sync,
        connected: false,
        inSync: false,
        reason: `events stream down: ${input.reason}`,
      };
      notes.push({
        event: 'stream.down',
        level: 'warn',
        reason: input.reason,
        ...(input.code && { code: input.code }),
        ...((input.code === 'EACCES' || input.code === 'EPERM') && { hint: PERMISSION_HINT }),
        retryInMs: input.retryInMs,
        attempt: input.attempt,
      });
      break;
    case 'malformed':
      model.sync = {
        ...model.sync,
        inSync: false,
        invalidatedAt: now,
        reason: `malformed event line: ${input.reason}`,
      };
      notes.push({
        event: 'stream.malformed',
        level: 'warn',
        reason: input.reason,
        sample: safeSample(input.sample),
      });
      wants.push({ kind: 'resync', reason: 'malformed event' });
      break;
    case 'overflow':
      model.sync = {
        ...model.sync,
        inSync: false,
        invalidatedAt: now,
        reason: `more than ${input.limit} events during a full list; events dropped`,
      };
      notes.push({ event: 'stream.overflow', level: 'warn', limit: input.limit });
      wants.push({ kind: 'resync', reason: 'event buffer overflowed during list' });
      break;
    case 'refresh.failed':
      model.sync = {
        ...model.sync,
        inSync: false,
        invalidatedAt: now,
        reason: `${input.what} failed: ${input.message}`,
      };
      notes.push({ event: 'refresh.failed', level: 'warn', what: input.what, message: input.message });
      wants.push({ kind: 'resync', reason: `${input.what} failed` });
      break;
  }
  if (input.kind !== 'pull.resolved' && input.kind !== 'own-removal' && input.kind !== 'evictions.settle')
    settleStacks(model, policy, now, notes);
  // A burst that grew in this step is logged once it has been quiet for BURST_QUIET_MS (the loop's timer).
  if (model.heldEvictions?.lastAt === now && input.kind !== 'evictions.settle')
    wants.push({ kind: 'settle-evictions', delayMs: BURST_QUIET_MS });
  if (input.kind === 'services' || input.kind === 'snapshot') {
    if (anyUnsettled(model)) wants.push({ kind: 'list-services', delayMs: CONVERGE_POLL_MS });
  }
  return { notes, wants };
}

function applyEvent(model: Model, e: EngineEvent, ctx: ApplyContext, notes: Note[], wants: Want[]) {
  const { now, policy } = ctx;
  model.eventCounts.set(e.type, (model.eventCounts.get(e.type) ?? 0) + 1);
  if (e.type === 'image') {
    if (!IMAGE_LIST_ACTIONS.has(e.action)) return;
    switch (e.action) {
      case 'pull':
        model.activity.pull = { at: now, ref: e.actorId };
        model.pendingPulls.set(e.actorId, { ref: e.actorId, at: now, eventTimeMs: e.timeMs });
        wants.push({ kind: 'resolve-pull', ref: e.actorId });
        break;
      case 'tag':
        touchImage(model, e.actorId, now);
        break;
      case 'untag':
        touchBurst(model, now);
        break;
      case 'delete':
        imageDeleted(model, e, { now, policy }, notes);
        break;
      case 'prune':
        notes.push(imagePruned(model, e, notes));
        break;
    }
    wants.push({ kind: 'list-images' });
    return;
  }
  if (e.type === 'container') {
    if (e.action === 'destroy') {
      setContainer(model, e.actorId, undefined);
      return;
    }
    if (e.action === 'prune') {
      notes.push({
        event: 'engine.prune',
        what: 'container',
        at: new Date(e.timeMs).toISOString(),
        reclaimed: Number(e.attributes.reclaimed ?? 0),
      });
      return;
    }
    if (!CONTAINER_ACTIONS.has(e.action)) return;
    const known = model.containers.get(e.actorId);
    if (e.action === 'start' || e.action === 'restart') {
      // Not the `name` attribute: labels merge into it and can overwrite it (the inspect brings the name).
      model.activity.containerStart = { at: now, name: known?.name ?? e.actorId.slice(0, 12), id: e.actorId };
      if (known) setContainer(model, e.actorId, { ...known, state: 'running' });
    } else if (e.action === 'die' && known) {
      setContainer(model, e.actorId, { ...known, state: 'exited', finishedAt: e.timeMs });
    }
    wants.push({ kind: 'inspect-container', id: e.actorId });
    return;
  }
  if (e.type === 'service') {
    if (e.action === 'create' || e.action === 'update') markConverging(model, e.actorId, now);
    wants.push({ kind: 'list-services' });
    return;
  }
  if (e.type === 'builder' && e.action === 'prune') {
    notes.push({
      event: 'engine.prune',
      what: 'build-cache',
      at: new Date(e.timeMs).toISOString(),
      reclaimed: Number(e.attributes.reclaimed ?? 0),
    });
  }
}

interface Drift {
  added: string[];
  removed: string[];
  changed: string[];
}

const emptyDrift = (): Drift => ({ added: [], removed: [], changed: [] });

function applyImages(model: Model, images: ImageDetail[], ctx: ApplyContext, notes: Note[]): Drift {
  const drift = emptyDrift();
  const listed = new Set<string>();
  for (const image of images) {
    listed.add(image.id);
    const old = model.images.get(image.id);
    if (old && !sameRefs(old, image)) drift.changed.push(image.id);
    if (!old && image.layers.length === 0) continue; // inspected nothing: it was removed while listed
    const { added } = putImage(model, image, ctx.now);
    if (added) drift.added.push(image.id);
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

function applyContainers(model: Model, containers: ContainerInfo[], now: number): Drift {
  const drift = emptyDrift();
  const listed = new Set<string>();
  for (const info of containers) {
    listed.add(info.id);
    const prev = model.containers.get(info.id);
    if (!prev) {
      drift.added.push(info.id);
      touchImage(model, info.imageId, now);
    } else if (prev.state !== info.state || prev.imageId !== info.imageId) drift.changed.push(info.id);
    setContainer(model, info.id, toEntry(info, prev));
  }
  for (const id of [...model.containers.keys()]) {
    if (listed.has(id)) continue;
    drift.removed.push(id);
    setContainer(model, id, undefined);
  }
  return drift;
}

function applySnapshot(
  model: Model,
  snap: EngineSnapshot,
  reason: string,
  startedAt: number | undefined,
  ctx: ApplyContext,
  notes: Note[],
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
    model.savedClocks.clear();
  }
  model.savedEngineId = snap.info.id;
  model.engine = snap.info;
  const images = applyImages(model, snap.images, ctx, notes);
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
  const short = (ids: string[]) => ids.slice(0, 5).map((id) => id.replace(/^sha256:/, '').slice(0, 12));
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
