import { shortId } from '../../docker/short-id.js';
import { decodeLabels } from '../../docker/decode.js';
import type { ContainerInfo, ContainerState, EngineEvent } from '../../docker/types.js';
import { touchImage } from '../images/images.js';
import { resolveImage } from '../images/resolve.js';
import type { ContainerEntry, Model } from '../types.js';

const LIVE_STATES: ReadonlySet<ContainerState> = new Set(['running', 'restarting', 'paused']);

export function isLive(state: ContainerState): boolean {
  return LIVE_STATES.has(state);
}

/** Our entry for a listed or inspected container: the stack comes from the swarm or compose label. */
export function toEntry(info: ContainerInfo, previous?: ContainerEntry): ContainerEntry {
  const { labels } = info;
  const stack = labels.stackNamespace ?? labels.composeProject;
  const finishedAt = info.finishedAt ?? previous?.finishedAt;
  return {
    id: info.id,
    name: info.name,
    imageId: info.imageId,
    state: info.state,
    created: info.created,
    ...(finishedAt !== undefined && { finishedAt }),
    ...(stack !== undefined && { stack, stackKind: labels.stackNamespace ? 'swarm' : 'compose' }),
    ...(labels.serviceId !== undefined && { serviceId: labels.serviceId }),
    ...(labels.serviceName !== undefined && { serviceName: labels.serviceName }),
    ...(labels.taskId !== undefined && { taskId: labels.taskId }),
  };
}

/** Adds, replaces or (with `next` undefined) removes a container, keeping per-stack live counts. */
export function setContainer(model: Model, id: string, next: ContainerEntry | undefined): void {
  const prev = model.containers.get(id);
  if (prev?.stack && isLive(prev.state)) countLive(model, prev, -1);
  if (next) {
    model.containers.set(id, next);
    if (next.stack && isLive(next.state)) countLive(model, next, +1);
  } else {
    model.containers.delete(id);
  }
}

function countLive(model: Model, c: ContainerEntry, delta: number) {
  const stack = c.stack as string;
  const cur = model.stackContainers.get(stack);
  const live = (cur?.live ?? 0) + delta;
  // A stack gained or lost: settleStacks has work (src/model/services/stacks.ts).
  if (cur === undefined || live <= 0) model.stackChanges++;
  if (live <= 0) model.stackContainers.delete(stack);
  else model.stackContainers.set(stack, { kind: c.stackKind ?? 'compose', live });
}

/**
 * A container `create`: the container is there, `created`, with the labels and the image string the
 * event carries (the image resolved through the model's refs; `imageId` stays '' when they do not name
 * one). A `start` that comes before the inspect then finds it, so its stack is live at once, and its
 * image counts as used at once. The inspect that follows replaces the whole entry.
 */
export function containerFromCreate(model: Model, e: EngineEvent, now: number): void {
  if (model.containers.has(e.actorId)) return; // a replay, or the inspect was quicker: it knows better
  const image = e.attributes.image ?? '';
  const imageId = resolveImage(model, image) ?? '';
  if (imageId) touchImage(model, imageId, now);
  const entry = toEntry({
    id: e.actorId,
    // Labels merge into the attributes (a `name` label may shadow the name): the inspect brings the real one.
    name: e.attributes.name ?? shortId(e.actorId),
    imageId,
    image,
    state: 'created',
    created: Math.floor(e.timeMs / 1000),
    labels: decodeLabels(e.attributes),
  });
  setContainer(model, e.actorId, entry);
}
