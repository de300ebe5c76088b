import type {
  ContainerInfo,
  ContainerState,
  EngineEvent,
  EngineInfo,
  EngineSnapshot,
  ImageDetail,
  ServiceInfo,
  TaskInfo,
} from '../src/docker/types.js';

/** Small builders of engine-side data for pure tests. Ids are short on purpose: tests read them. */

export const ENGINE: EngineInfo = {
  id: 'ENGINE:A',
  name: 'test',
  serverVersion: '20.10.24',
  apiVersion: '1.41',
  dockerRootDir: '/var/lib/docker',
  imageStore: 'graphdriver' as const,
  swarm: 'inactive',
  isManager: false,
};

export function image(
  id: string,
  refs: { tags?: string[]; digests?: string[]; layers?: string[] } = {},
): ImageDetail {
  const layers = refs.layers ?? [`sha256:layer-${id}`];
  return {
    id: `sha256:${id}`,
    tags: refs.tags ?? [],
    digests: refs.digests ?? [],
    size: layers.length * 1000,
    created: 1_500_000_000,
    layers,
    layerSizes: layers.map(() => 1000),
  };
}

export function container(
  name: string,
  imageId: string,
  state: ContainerState,
  extra: Partial<ContainerInfo> = {},
): ContainerInfo {
  return {
    id: `c-${name}`,
    name,
    imageId: `sha256:${imageId}`,
    image: imageId,
    state,
    created: 1_700_000_000,
    labels: {},
    ...extra,
  };
}

export function service(name: string, imageRef: string, extra: Partial<ServiceInfo> = {}): ServiceInfo {
  return { id: `s-${name}`, name, image: imageRef, mode: 'replicated', desired: 1, running: 1, ...extra };
}

export function snapshot(
  parts: Partial<Omit<EngineSnapshot, 'info'>> & { info?: Partial<EngineInfo> } = {},
): EngineSnapshot {
  return {
    info: { ...ENGINE, ...parts.info },
    images: parts.images ?? [],
    containers: parts.containers ?? [],
    services: parts.services ?? [],
    tasks: parts.tasks ?? ([] as TaskInfo[]),
  };
}

let seq = 0;
export function event(
  type: string,
  action: string,
  actorId: string,
  attributes: EngineEvent['attributes'] = {},
  timeMs = 1_700_000_000_000 + seq,
): EngineEvent {
  seq++;
  return {
    type,
    action,
    actorId,
    attributes,
    scope: 'local',
    timeMs,
    timeNano: `${BigInt(timeMs) * 1_000_000n + BigInt(seq)}`,
  };
}
