import type { ContainerInfo, ContainerState } from '../docker/types.js';
import type { ContainerEntry, Model } from './types.js';

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
  if (live <= 0) model.stackContainers.delete(stack);
  else model.stackContainers.set(stack, { kind: c.stackKind ?? 'compose', live });
}
