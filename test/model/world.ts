/** Builders for model inputs in unit tests: images, events, snapshots, a model driven by hand. */
import type { AnyRecord } from '../records.js';
import type {
  ContainerInfo,
  EngineEvent,
  ImageDetail,
  ServiceInfo,
  TaskInfo,
} from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import type { ApplyContext } from '../../src/model/context.js';
import { createModel } from '../../src/model/create.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Note } from '../../src/model/types.js';

export const T0 = Date.parse('2025-06-01T12:00:00Z');

/** A diff id from a short name (`base` → `sha256:layer-base`). */
export const layer = (name: string) => `sha256:layer-${name}`;

/** An image whose layers are named, each of the given size (1000 bytes by default). */
export function image(
  id: string,
  layers: Array<string | [string, number]>,
  refs: { tags?: string[]; digests?: string[]; sizesKnown?: boolean } = {},
): ImageDetail {
  const named = layers.map((l) => (typeof l === 'string' ? ([l, 1000] as [string, number]) : l));
  return {
    id: `sha256:${id}`,
    tags: refs.tags ?? [],
    digests: refs.digests ?? [],
    size: named.reduce((n, [, s]) => n + s, 0),
    created: 1_500_000_000,
    layers: named.map(([n]) => layer(n)),
    ...(refs.sizesKnown !== false && { layerSizes: named.map(([, s]) => s) }),
  };
}

export function event(
  type: string,
  action: string,
  actorId: string,
  timeMs: number,
  attributes: EngineEvent['attributes'] = {},
): EngineEvent {
  return { type, action, actorId, attributes, scope: 'local', timeMs, timeNano: `${timeMs}000000` };
}

export function service(
  id: string,
  imageRef: string,
  desired: number,
  running: number,
  extra = {},
): ServiceInfo {
  return {
    id,
    name: id,
    image: imageRef,
    stack: 'ci',
    mode: 'replicated',
    desired,
    running,
    ...extra,
  };
}

/** A running container of a swarm stack. */
export function stackContainer(id: string, stack: string, imageId: string): ContainerInfo {
  return {
    id,
    name: id,
    imageId,
    image: imageId,
    state: 'running',
    created: T0 / 1000,
    labels: { stackNamespace: stack },
  };
}

/** A model driven by hand: every `apply` returns its notes; `now` is set per call. */
export class World {
  readonly model: Model = createModel();
  readonly notes: AnyRecord[] = [];
  ctx: Partial<ApplyContext> = {};

  apply(now: number, input: ModelInput): AnyRecord[] {
    const step = apply(this.model, input, { now, policy: ALL_STACKS_ARE_RUNS, ...this.ctx });
    this.notes.push(...step.notes);
    return step.notes;
  }

  snapshot(
    now: number,
    images: ImageDetail[],
    more: {
      services?: ServiceInfo[];
      tasks?: TaskInfo[];
      containers?: ContainerInfo[];
      /** The engine's clock when /info answered (default: `now`); null when it gave none. */
      engineTimeMs?: number | null;
      /** Agent clock when the list started (default: `now`). */
      startedAt?: number;
    } = {},
  ): AnyRecord[] {
    const info = {
      id: 'engine',
      name: 'host',
      serverVersion: '20.10.24',
      apiVersion: '1.41',
      dockerRootDir: '/var/lib/docker',
      imageStore: 'graphdriver' as const,
      swarm: 'active' as const,
      isManager: true,
      ...(more.engineTimeMs !== null && { systemTime: more.engineTimeMs ?? now }),
    };
    return this.apply(now, {
      kind: 'snapshot',
      snapshot: {
        info,
        images,
        containers: more.containers ?? [],
        services: more.services ?? [],
        tasks: more.tasks ?? [],
      },
      reason: 'test',
      startedAt: more.startedAt ?? now,
    });
  }

  /** A pull event applied at `now`, stamped by the engine at `eventTimeMs` (earlier when it was held). */
  pull(now: number, ref: string, eventTimeMs = now): AnyRecord[] {
    return this.apply(now, { kind: 'event', event: event('image', 'pull', ref, eventTimeMs) });
  }

  resolve(now: number, ref: string, detail: ImageDetail | null, upTo?: number): AnyRecord[] {
    return this.apply(now, {
      kind: 'pull.resolved',
      ref,
      image: detail,
      ...(upTo !== undefined && { upTo }),
    });
  }

  /** The `pull` records so far. */
  pulls(): AnyRecord[] {
    return this.notes.filter((n) => n.event === 'pull');
  }
}
