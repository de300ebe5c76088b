import { shortId } from '../docker/short-id.js';
import type { EngineEvent } from '../docker/types.js';
import type { ApplyContext } from './context.js';
import { containerFromCreate, setContainer } from './containers/containers.js';
import { imageDeleted, imagePruned } from './evictions/eviction-events.js';
import { touchBurst } from './evictions/evictions.js';
import { tagFromEvent, touchImage } from './images/images.js';
import { queuePull } from './images/pulls.js';
import { watchService } from './services/services.js';
import type { Model, Note, Want } from './types.js';

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
// `create` (API ≥ 1.46) names a new image, tagged or not.
const IMAGE_LIST_ACTIONS = new Set([
  'create',
  'tag',
  'untag',
  'delete',
  'load',
  'import',
  'prune',
  'pull',
  'push',
]);

/** One engine event: what it says exactly is applied at once; the rest becomes wants (lists, inspects). */
export function applyEvent(model: Model, e: EngineEvent, ctx: ApplyContext, notes: Note[], wants: Want[]) {
  const { now, policy } = ctx;
  if (e.type === 'image') {
    if (!IMAGE_LIST_ACTIONS.has(e.action)) return;
    switch (e.action) {
      case 'pull':
        model.activity.pull = { at: now, ref: e.actorId };
        queuePull(model, e, ctx, notes);
        wants.push({ kind: 'resolve-pull', ref: e.actorId });
        break;
      case 'tag':
        touchImage(model, e.actorId, now);
        // The event names the image and its new ref: apply that now; the list below confirms it (and
        // finds what else changed). An untag names no ref: it waits for the list.
        tagFromEvent(model, e, now);
        break;
      case 'untag':
        touchBurst(model, now);
        break;
      case 'create':
        // A build's image (engines send this to clients at API ≥ 1.46): one inspect brings it in at once,
        // an untagged one too (before 1.46 only a later list finds an untagged build). No list: the
        // `tag` that follows a tagged build asks for one.
        if (!model.images.has(e.actorId))
          wants.push({ kind: 'inspect-image', id: e.actorId, eventTimeMs: e.timeMs });
        return;
      case 'delete':
        imageDeleted(model, e, { now, policy }, notes);
        // The event names the image and it is gone: a list would tell nothing new. Asking for one per
        // delete made a prune of 200 images ask for ~170 lists, which competed with the removals for
        // the engine's image store (bench/prune-speed.ts). An untag that came before still asks.
        return;
      case 'prune':
        notes.push(imagePruned(model, e, notes));
        break;
    }
    wants.push({ kind: 'list-images' });
    return;
  }
  if (e.type === 'container') {
    if (e.action === 'destroy') {
      // The engine's own count of the image's containers (API ≥ 1.51) loses this one now, not at the next list.
      const image = model.images.get(model.containers.get(e.actorId)?.imageId ?? '');
      if (image?.engineContainers) image.engineContainers--;
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
    // The inspect below is the truth; what the create says is applied now, so a start before the inspect
    // lands already finds the container (and its stack).
    if (e.action === 'create') containerFromCreate(model, e, now);
    const known = model.containers.get(e.actorId);
    if (e.action === 'start' || e.action === 'restart') {
      // Not the `name` attribute: labels merge into it and can overwrite it (the inspect brings the name).
      model.activity.containerStart = { at: now, name: known?.name ?? shortId(e.actorId), id: e.actorId };
      if (known) setContainer(model, e.actorId, { ...known, state: 'running' });
    } else if (e.action === 'die' && known) {
      setContainer(model, e.actorId, { ...known, state: 'exited', finishedAt: e.timeMs });
    }
    wants.push({ kind: 'inspect-container', id: e.actorId });
    return;
  }
  if (e.type === 'service') {
    watchService(model, e, now);
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
