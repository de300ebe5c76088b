/**
 * A CI host's day, as engine events on a SimEngine in virtual time (bench/weeks-child.ts): from 03:00 to
 * 23:00 UTC a swarm stack of 3–5 services is deployed every 10 minutes and torn down 5 minutes later
 * (digest-only images pulled by swarm: warm when present, cold or partial after an eviction), a compose
 * build job runs every minute (a cold pull of a new tagged image from one of 80 registries, its container's
 * lifecycle, the image removed again: an external eviction), `ci/app:latest` moves between resident
 * images, and every 6 hours someone removes an idle service image. The night is quiet, so the agent's
 * daily prune removes service images untouched for 24 h (its own evictions). A daemon restart at 14:00.
 * Every object name is new (containers, tasks, build images), so every bounded structure of the agent
 * passes its bound within days. The workload's own state is bounded (a fixed pool, the live stack).
 */
import type { ImageDetail, TaskInfo } from '../src/docker/types.js';
import type { SimEngine } from './sim-engine.js';
import { buildJob, type JobHost, LAYER_BASE, layer, MIN, REGISTRIES, RESIDENT } from './ci-build.js';
import { NOISE_LABELS, containerLine, hex64, imageLine, plainLine } from './synth-events.js';

const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SERVICE_IMAGES = 120;
/** Most stacks use these; the rest of the pool goes untouched for days and is pruned. */
const HOT_IMAGES = 20;
const NETWORK_ID = hex64('network-ci');

export interface CiCounts {
  events: number;
  stacks: number;
  services: number;
  pulls: number;
  builds: number;
  tagMoves: number;
  externalRemovals: number;
  restarts: number;
}

interface Live {
  stack: string;
  services: Array<{ id: string; name: string; image: number; containerId: string; taskId: string }>;
  until: number;
}

export class CiHost implements JobHost {
  readonly counts: CiCounts = {
    events: 0,
    stacks: 0,
    services: 0,
    pulls: 0,
    builds: 0,
    tagMoves: 0,
    externalRemovals: 0,
    restarts: 0,
  };
  private ns = 0n;
  private serial = 0;
  private live: Live | undefined;
  /** The later steps of jobs in flight (a build's exit, its image's removal): a few at any time. */
  private later: Array<{ at: number; run: () => string[] }> = [];
  private random: () => number;

  constructor(
    readonly sim: SimEngine,
    readonly now: () => number,
    seed = 1,
  ) {
    let x = seed;
    // A small deterministic generator (xorshift): the same run every time.
    this.random = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    sim.removalEvents = (image) => this.removal(image);
  }

  /** Resident tagged images and nothing running. */
  seed(): void {
    for (let r = 0; r < RESIDENT; r++) {
      const id = `sha256:${hex64(`resident-${r}`)}`;
      this.sim.images.set(id, {
        id,
        tags: [`ci/tool-${r}:latest`],
        digests: [],
        size: 30_000_000,
        created: 1_600_000_000,
        layers: [LAYER_BASE, layer(`group-${r % 10}`), layer(`resident-${r}`)],
        layerSizes: [20_000_000, 5_000_000, 5_000_000],
      });
    }
  }

  /** The work due at virtual time `t` (called once a minute); the lines it returns are sent as one chunk each. */
  minute(t: number): string[][] {
    const out: string[][] = [];
    const ofDay = t % DAY;
    const hour = Math.floor(ofDay / HOUR);
    const minute = Math.floor((ofDay % HOUR) / MIN);
    if (this.live && t >= this.live.until) out.push(this.teardown(this.live));
    const due = this.later.filter((x) => x.at <= t);
    this.later = this.later.filter((x) => x.at > t);
    for (const x of due) out.push(x.run());
    if (ofDay === 14 * HOUR) {
      this.sim.stop();
      this.counts.restarts++;
    }
    if (ofDay === 14 * HOUR + MIN) this.sim.start();
    if (hour < 3 || hour >= 23 || ofDay === 14 * HOUR) return out.filter((c) => c.length > 0);
    out.push(buildJob(this, this.serial++, t));
    if (minute % 10 === 0 && !this.live) out.push(this.deploy(t));
    if (minute === 30 && hour % 6 === 0) out.push(this.removeIdleServiceImage());
    return out.filter((c) => c.length > 0);
  }

  schedule(at: number, run: () => string[]): void {
    this.later.push({ at, run });
  }

  /** Work still to come (a stack to tear down, build steps): the run ends only when there is none. */
  get inFlight(): number {
    return this.later.length + (this.live ? 1 : 0);
  }

  tick(): bigint {
    const base = BigInt(this.now()) * 1_000_000n;
    this.ns = this.ns + 1000n > base ? this.ns + 1000n : base;
    this.counts.events++;
    return this.ns;
  }

  private serviceImage(k: number) {
    const repo = `reg-${k % REGISTRIES}.ci.invalid/svc-${k}`;
    const digest = `sha256:${hex64(`svc-digest-${k}`)}`;
    return {
      id: `sha256:${hex64(`svc-image-${k}`)}`,
      repo,
      digestRef: `${repo}@${digest}`,
      spec: `${repo}:1@${digest}`,
    };
  }

  private deploy(t: number): string[] {
    const lines: string[] = [];
    const stack = `ci-${this.serial++}`;
    const n = 3 + Math.floor(this.random() * 3);
    const live: Live = { stack, services: [], until: t + 5 * MIN };
    for (let i = 0; i < n; i++) {
      const k =
        this.random() < 0.8
          ? Math.floor(this.random() * HOT_IMAGES)
          : HOT_IMAGES + Math.floor(this.random() * (SERVICE_IMAGES - HOT_IMAGES));
      const img = this.serviceImage(k);
      const id = hex64(`service-${stack}-${i}`).slice(0, 25);
      const name = `${stack}_s${i}`;
      const containerId = hex64(`task-container-${stack}-${i}`);
      const taskId = hex64(`task-${stack}-${i}`).slice(0, 25);
      live.services.push({ id, name, image: k, containerId, taskId });
      this.sim.services.push({
        id,
        name,
        image: img.spec,
        stack,
        mode: 'replicated',
        desired: 1,
        running: 1,
      });
      lines.push(plainLine('service', 'create', id, { name }, this.tick(), 'swarm'));
      // Swarm pulls by digest and stores the image without a tag.
      if (!this.sim.images.has(img.id))
        this.sim.images.set(img.id, {
          id: img.id,
          tags: [],
          digests: [img.digestRef],
          size: 50_000_000,
          created: 1_600_000_000,
          layers: [LAYER_BASE, layer(`group-${k % 10}`), layer(`svc-${k}`)],
          layerSizes: [20_000_000, 10_000_000, 20_000_000],
        });
      lines.push(imageLine('pull', img.spec, { ...NOISE_LABELS, name: img.repo }, this.tick()));
      this.counts.pulls++;
      const labels = {
        'com.docker.stack.namespace': stack,
        'com.docker.swarm.service.id': id,
        'com.docker.swarm.service.name': name,
        'com.docker.swarm.task.id': taskId,
      };
      const cname = `${name}.1.${taskId}`;
      this.sim.containers.set(containerId, {
        id: containerId,
        name: cname,
        imageId: img.id,
        image: img.spec,
        state: 'running',
        created: Math.floor(this.now() / 1000),
        labels: { stackNamespace: stack, serviceId: id, serviceName: name, taskId },
      });
      this.sim.tasks.push(this.task(taskId, id, containerId, 'running'));
      const attrs = { ...NOISE_LABELS, ...labels, name: cname };
      lines.push(containerLine('create', containerId, img.spec, attrs, this.tick()));
      lines.push(
        plainLine(
          'network',
          'connect',
          NETWORK_ID,
          { container: containerId, name: 'ci', type: 'overlay' },
          this.tick(),
        ),
      );
      lines.push(containerLine('start', containerId, img.spec, attrs, this.tick()));
    }
    this.live = live;
    this.counts.stacks++;
    this.counts.services += n;
    return lines;
  }

  private task(id: string, serviceId: string, containerId: string, state: string): TaskInfo {
    return { id, serviceId, desiredState: state, state, containerId, at: this.now() };
  }

  private teardown(live: Live): string[] {
    const lines: string[] = [];
    for (const s of live.services) {
      const img = this.serviceImage(s.image);
      this.sim.services = this.sim.services.filter((x) => x.id !== s.id);
      this.sim.tasks = this.sim.tasks.filter((x) => x.id !== s.taskId);
      lines.push(plainLine('service', 'remove', s.id, { name: s.name }, this.tick(), 'swarm'));
      const c = this.sim.containers.get(s.containerId);
      const attrs = { ...NOISE_LABELS, 'com.docker.stack.namespace': live.stack, name: c?.name ?? s.name };
      lines.push(containerLine('kill', s.containerId, img.spec, { ...attrs, signal: '15' }, this.tick()));
      lines.push(containerLine('die', s.containerId, img.spec, { ...attrs, exitCode: '0' }, this.tick()));
      lines.push(
        plainLine(
          'network',
          'disconnect',
          NETWORK_ID,
          { container: s.containerId, name: 'ci', type: 'overlay' },
          this.tick(),
        ),
      );
      lines.push(containerLine('stop', s.containerId, img.spec, attrs, this.tick()));
      this.sim.containers.delete(s.containerId);
      lines.push(containerLine('destroy', s.containerId, img.spec, attrs, this.tick()));
    }
    this.live = undefined;
    return lines;
  }

  /** `docker image rm` of an unused service image (someone else's eviction). */
  private removeIdleServiceImage(): string[] {
    const inUse = new Set([...this.sim.containers.values()].map((c) => c.imageId));
    for (let tries = 0; tries < 10; tries++) {
      const k = Math.floor(this.random() * SERVICE_IMAGES);
      const image = this.sim.images.get(this.serviceImage(k).id);
      if (!image || inUse.has(image.id)) continue;
      this.sim.images.delete(image.id);
      this.counts.externalRemovals++;
      return this.removal(image);
    }
    return [];
  }

  /** What the engine publishes when an image goes: an untag per reference, then the delete. */
  removal(image: ImageDetail): string[] {
    const lines: string[] = [];
    for (const _ of [...image.tags, ...image.digests])
      lines.push(imageLine('untag', image.id, { ...NOISE_LABELS, name: image.id }, this.tick()));
    lines.push(imageLine('delete', image.id, { name: image.id }, this.tick()));
    return lines;
  }
}
