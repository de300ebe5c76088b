/** Test fixtures for the prune: a model built from a snapshot, fake ports and clocks. Not a test file. */

import type { DockerPort } from '../../src/docker/port.js';
import type {
  ContainerInfo,
  ContainerState,
  ImageDetail,
  ImageRemoveOutcome,
  ServiceInfo,
} from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { type IdlePolicy, idleAnswer } from '../../src/model/idle.js';
import type { ImageClocks, Model, ModelInput, Note } from '../../src/model/types.js';
import type { LiveView } from '../../src/prune/executor.js';
import type { DiskReading } from '../../src/prune/gates.js';

export const H = 3600_000;

/** A readable disk at `usedPercent` of 100 GB. */
export const diskAt = (usedPercent: number): DiskReading => ({
  path: '/var/lib/docker',
  ok: true,
  usedPercent,
  usedBytes: usedPercent * 1e9,
  totalBytes: 100e9,
  freeBytes: (100 - usedPercent) * 1e9,
});
export const POLICY: IdlePolicy = { runStack: /.*/, quietPeriodMs: 0 };

export interface World {
  images?: ImageDetail[];
  containers?: ContainerInfo[];
  services?: ServiceInfo[];
  /** The engine's image store (default graphdriver). */
  imageStore?: 'graphdriver' | 'containerd';
}

export function image(name: string, refs: { tags?: string[]; digests?: string[] } = {}): ImageDetail {
  return {
    id: `sha256:${name}`,
    tags: refs.tags ?? [],
    digests: refs.digests ?? [`lw/${name}@sha256:${name.padEnd(64, '0')}`],
    size: 1000,
    created: 1_500_000_000,
    layers: [`sha256:layer-${name}`],
    layerSizes: [1000],
  };
}

export function container(
  name: string,
  imageName: string,
  state: ContainerState,
  finishedAt?: number,
): ContainerInfo {
  return {
    id: `c-${name}`,
    name,
    imageId: `sha256:${imageName}`,
    image: imageName,
    state,
    created: 0,
    labels: {},
    ...(finishedAt !== undefined && { finishedAt }),
  };
}

export function service(name: string, imageRef: string, desired = 1, running = desired): ServiceInfo {
  return { id: `s-${name}`, name, image: imageRef, stack: name, mode: 'replicated', desired, running };
}

/** A model holding `world`, its image clocks set `ageMs` before `now` (the agent saw them that long ago). */
export function modelOf(world: World, now: number, ageMs = 30 * H, ages: Record<string, number> = {}): Model {
  const clocks = new Map<string, ImageClocks>();
  for (const i of world.images ?? []) {
    const t = now - (ages[i.id] ?? ageMs);
    clocks.set(i.id, { firstSeen: t, lastUsed: t, untaggedSince: t });
  }
  const model = createModel(clocks, 'e');
  resnapshot(model, world, now);
  return model;
}

/** Applies the engine's truth again (a full list), as the loop does; returns the notes it logged. */
export function resnapshot(model: Model, world: World, now: number): Note[] {
  const info = {
    id: 'e',
    name: 'host',
    serverVersion: '20.10.24',
    apiVersion: '1.41',
    dockerRootDir: '/var/lib/docker',
    imageStore: world.imageStore ?? ('graphdriver' as const),
    swarm: 'active' as const,
    isManager: true,
  };
  const snapshot = {
    info,
    images: world.images ?? [],
    containers: world.containers ?? [],
    services: world.services ?? [],
    tasks: [],
  };
  const up = apply(model, { kind: 'stream.up', attempt: 0 }, { now, policy: POLICY });
  const listed = apply(model, { kind: 'snapshot', snapshot, reason: 'test' }, { now, policy: POLICY });
  return [...up.notes, ...listed.notes];
}

/**
 * A live view over a model the test mutates; `pushed` records what the executor fed the loop, `notes`
 * what the model logged for it.
 */
export function liveOf(model: Model, now: () => number): LiveView & { pushed: ModelInput[]; notes: Note[] } {
  const pushed: ModelInput[] = [];
  const notes: Note[] = [];
  return {
    pushed,
    notes,
    model: () => model,
    idle: () => idleAnswer(model, POLICY, now()),
    push: (input) => {
      pushed.push(input);
      notes.push(...apply(model, input, { now: now(), policy: POLICY }).notes);
    },
    settle: async () => ({ ok: true }),
  };
}

export interface FakePort extends DockerPort {
  calls: string[];
  /** Answers by the id or ref removed. */
  outcomes: Map<string, ImageRemoveOutcome | Error>;
  /** Runs after a removal call answered (the test's "meanwhile, on the engine"). */
  after?: (call: string) => void | Promise<void>;
  buildCacheReclaimed: number;
}

/** A port that records removals and answers from `outcomes` (default: removed). */
export function fakePort(): FakePort {
  const port = {
    calls: [] as string[],
    outcomes: new Map<string, ImageRemoveOutcome | Error>(),
    buildCacheReclaimed: 0,
    after: undefined as FakePort['after'],
  };
  const remove = async (kind: string, id: string): Promise<ImageRemoveOutcome> => {
    const call = `${kind} ${id}`;
    port.calls.push(call);
    const o = port.outcomes.get(id) ?? { kind: 'removed' };
    await port.after?.(call);
    if (o instanceof Error) throw o;
    return o;
  };
  const unused = () => {
    throw new Error('not used by the executor');
  };
  return Object.assign(port, {
    events: unused,
    ping: async () => {},
    info: unused,
    listImages: unused,
    inspectImage: unused,
    listContainers: unused,
    inspectContainer: unused,
    listServices: unused,
    listTasks: unused,
    removeImage: (id: string) => remove('image', id),
    removeContainer: (id: string) => remove('container', id),
    pruneBuildCache: async (untilHours: number) => {
      port.calls.push(`build-cache ${untilHours}h`);
      return { reclaimed: port.buildCacheReclaimed };
    },
  }) as FakePort;
}
