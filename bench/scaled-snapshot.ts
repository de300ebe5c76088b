/**
 * A full list as a busy CI host would give it, without an engine: `images` images (a fifth untagged),
 * as many containers (a tenth running, in compose projects; the rest created or exited, one per image),
 * `images / 10` swarm services in ten stacks, idle (replicas 0). The same proportions as the state
 * bench/relist.ts builds on the private engine.
 */
import type { ContainerInfo, EngineSnapshot, ImageDetail, ServiceInfo } from '../src/docker/types.js';
import { hex64 } from './synth-events.js';

export function scaledSnapshot(images: number, nowMs: number): EngineSnapshot {
  const imgs: ImageDetail[] = Array.from({ length: images }, (_, i) => ({
    id: `sha256:${hex64(`scaled-image-${i}`)}`,
    tags: i % 5 === 0 ? [] : [`bench/img-${i}:v1`],
    digests: [],
    size: 1_000_000 + i,
    created: Math.floor(nowMs / 1000) - 86_400 * 30,
    layers: [`sha256:${hex64(`scaled-layer-${i}`)}`],
    layerSizes: [1_000_000 + i],
  }));
  const containers: ContainerInfo[] = imgs.map((img, i) => {
    const running = i % 10 === 0;
    return {
      id: hex64(`scaled-container-${i}`),
      name: `bench-c-${i}`,
      imageId: img.id,
      image: img.tags[0] ?? img.id,
      state: running ? 'running' : i % 2 ? 'exited' : 'created',
      created: Math.floor(nowMs / 1000) - 3600,
      labels: running ? { composeProject: `ci-${i % 20}` } : {},
      ...(!running && i % 2 ? { finishedAt: nowMs - 86_400_000 * 2 } : {}),
    };
  });
  const services: ServiceInfo[] = Array.from({ length: Math.max(1, Math.floor(images / 10)) }, (_, i) => ({
    id: hex64(`scaled-service-${i}`).slice(0, 25),
    name: `stack-${i % 10}_svc-${i}`,
    image: 'lw-base:latest',
    stack: `stack-${i % 10}`,
    mode: 'replicated',
    desired: 0,
    running: 0,
  }));
  return {
    info: {
      id: 'SCALED:0',
      name: 'scaled',
      serverVersion: 'synthetic',
      apiVersion: '1.41',
      dockerRootDir: '/var/lib/docker',
      imageStore: 'graphdriver' as const,
      swarm: 'active',
      isManager: true,
    },
    images: imgs,
    containers,
    services,
    tasks: [],
  };
}
