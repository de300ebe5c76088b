/**
 * The compose build job of bench/ci-host.ts: a new image pulled by tag (new top layer, shared base), its
 * container run and removed two minutes later, a tool image tagged `ci/app:latest` (the tag moves), and
 * the build image removed a minute after that (someone else's eviction).
 */
import type { ImageDetail } from '../src/docker/types.js';
import type { CiCounts } from './ci-host.js';
import type { SimEngine } from './sim-engine.js';
import { NOISE_LABELS, containerLine, hex64, imageLine } from './synth-events.js';

export const MIN = 60_000;
export const REGISTRIES = 80;
export const RESIDENT = 30;
export const LAYER_BASE = `sha256:${hex64('layer-base')}`;
export const layer = (what: string) => `sha256:${hex64(`layer-${what}`)}`;

/** What a job needs of the host: the engine, the clocks, its later steps and what the engine publishes. */
export interface JobHost {
  readonly sim: SimEngine;
  readonly counts: CiCounts;
  now(): number;
  tick(): bigint;
  schedule(at: number, run: () => string[]): void;
  removal(image: ImageDetail): string[];
}

/** A compose job: a new image pulled cold by tag, its container's lifecycle, the image removed again. */
export function buildJob(host: JobHost, j: number, t: number): string[] {
  const repo = `reg-${j % REGISTRIES}.ci.invalid/build-${j % 500}`;
  const ref = `${repo}:b${j}`;
  const imageId = `sha256:${hex64(`build-${j}`)}`;
  const cid = hex64(`build-container-${j}`);
  const project = `ci-build-${j % 20}`;
  const attrs = { ...NOISE_LABELS, name: `${project}-app-1`, 'com.docker.compose.project': project };
  const lines: string[] = [];
  host.sim.images.set(imageId, {
    id: imageId,
    tags: [ref],
    digests: [`${repo}@sha256:${hex64(`build-digest-${j}`)}`],
    size: 40_000_000,
    created: 1_600_000_000,
    layers: [LAYER_BASE, layer(`group-${j % 10}`), layer(`build-${j}`)],
    layerSizes: [20_000_000, 10_000_000, 10_000_000],
  });
  lines.push(imageLine('pull', ref, { ...NOISE_LABELS, name: repo }, host.tick()));
  host.counts.pulls++;
  host.sim.containers.set(cid, {
    id: cid,
    name: attrs.name,
    imageId,
    image: ref,
    state: 'running',
    created: Math.floor(host.now() / 1000),
    labels: { composeProject: project },
  });
  lines.push(containerLine('create', cid, ref, attrs, host.tick()));
  lines.push(containerLine('start', cid, ref, attrs, host.tick()));
  host.schedule(t + 2 * MIN, () => finish(host, cid, ref, attrs, j));
  host.schedule(t + 3 * MIN, () => removeBuildImage(host, imageId));
  host.counts.builds++;
  return lines;
}

function finish(host: JobHost, cid: string, ref: string, attrs: Record<string, string>, j: number): string[] {
  const lines: string[] = [];
  const c = host.sim.containers.get(cid);
  if (c) {
    c.state = 'exited';
    c.finishedAt = host.now();
  }
  lines.push(containerLine('die', cid, ref, { ...attrs, exitCode: '0' }, host.tick()));
  host.sim.containers.delete(cid);
  lines.push(containerLine('destroy', cid, ref, attrs, host.tick()));
  // Tag churn: the tool image the job used becomes :latest (a moved tag emits nothing for the old one).
  const r = j % RESIDENT;
  const to = host.sim.images.get(`sha256:${hex64(`resident-${r}`)}`);
  if (to) {
    for (const img of host.sim.images.values()) img.tags = img.tags.filter((t) => t !== 'ci/app:latest');
    to.tags.push('ci/app:latest');
    lines.push(imageLine('tag', to.id, { name: 'ci/app:latest' }, host.tick()));
    host.counts.tagMoves++;
  }
  return lines;
}

function removeBuildImage(host: JobHost, imageId: string): string[] {
  const lines: string[] = [];
  const image = host.sim.images.get(imageId);
  if (image) {
    host.sim.images.delete(imageId);
    lines.push(...host.removal(image));
  }
  return lines;
}
