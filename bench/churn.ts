/**
 * A CI host's churn, as events: jobs that pull an image, run a compose-labelled container from it
 * (create, connect, start, kill, die, disconnect, stop, destroy) and then lose the image (untag,
 * delete). `parallel` jobs interleave; image k = job % distinctImages, so over a long run the same
 * `distinctImages` images come and go again and again. The SimEngine's state follows every event.
 */
import type { SimEngine } from './sim-engine.js';
import { NOISE_LABELS, type NanoClock, containerLine, hex64, imageLine, plainLine } from './synth-events.js';

export interface ChurnOptions {
  distinctImages: number;
  /** Jobs in flight at once (how many images and containers are live at any moment). */
  parallel: number;
  /** Tagged images that stay for the whole run. */
  resident: number;
}

const PHASES = 11;
const NETWORK_ID = hex64('network-none');
const LAYER_BASE = `sha256:${hex64('layer-base')}`;
const layerOf = (what: string) => `sha256:${hex64(`layer-${what}`)}`;

interface Job {
  j: number;
  phase: number;
  imageId: string;
  ref: string;
  repo: string;
  containerId: string;
  attrs: Record<string, string>;
}

export class ChurnWorkload {
  private readonly jobs: Job[] = [];
  private nextJob = 0;
  private turn = 0;

  constructor(
    private readonly sim: SimEngine,
    private readonly clock: NanoClock,
    private readonly opts: ChurnOptions,
  ) {}

  /** The state before the first event: resident images and a few idle swarm services. */
  seed(): void {
    for (let r = 0; r < this.opts.resident; r++) {
      const id = `sha256:${hex64(`resident-${r}`)}`;
      this.sim.images.set(id, {
        id,
        tags: [`ci/resident-${r}:latest`],
        digests: [],
        size: 30_000_000,
        created: 1_600_000_000,
        layers: [LAYER_BASE, layerOf(`group-${r % 50}`), layerOf(`resident-${r}`)],
        layerSizes: [20_000_000, 5_000_000, 5_000_000],
      });
    }
    this.sim.services = Array.from({ length: 10 }, (_, i) => ({
      id: hex64(`service-${i}`).slice(0, 25),
      name: `infra_svc-${i}`,
      image: 'ci/resident-0:latest',
      stack: 'infra',
      mode: 'replicated' as const,
      desired: 0,
      running: 0,
    }));
    for (let p = 0; p < this.opts.parallel; p++) this.jobs.push(this.newJob());
  }

  /** The next event line; the sim's state already reflects it. */
  next(): string {
    const job = this.jobs[this.turn] as Job;
    const line = this.step(job);
    job.phase++;
    if (job.phase === PHASES) this.jobs[this.turn] = this.newJob();
    this.turn = (this.turn + 1) % this.jobs.length;
    return line;
  }

  private newJob(): Job {
    const j = this.nextJob++;
    const k = j % this.opts.distinctImages;
    const repo = `127.0.0.1:5000/app-${k % 500}`;
    return {
      j,
      phase: 0,
      imageId: `sha256:${hex64(`image-${k}`)}`,
      ref: `${repo}:b${k}`,
      repo,
      containerId: hex64(`container-${j}`),
      attrs: { ...NOISE_LABELS, name: `ci-${j % 20}-app-${j}`, 'com.docker.compose.project': `ci-${j % 20}` },
    };
  }

  private step(job: Job): string {
    const ns = this.clock.tick();
    const { sim } = this;
    const { containerId: cid, imageId, ref } = job;
    const container = sim.containers.get(cid);
    switch (job.phase) {
      case 0: {
        const k = Number(ref.slice(ref.lastIndexOf(':b') + 2));
        sim.images.set(imageId, {
          id: imageId,
          tags: [ref],
          digests: [`${job.repo}@sha256:${hex64(`digest-${k}`)}`],
          size: 40_000_000,
          created: 1_600_000_000,
          layers: [LAYER_BASE, layerOf(`group-${k % 50}`), layerOf(`image-${k}`)],
          layerSizes: [20_000_000, 10_000_000, 10_000_000],
        });
        return imageLine('pull', ref, { ...NOISE_LABELS, name: job.repo }, ns);
      }
      case 1:
        sim.containers.set(cid, {
          id: cid,
          name: job.attrs.name as string,
          imageId,
          image: ref,
          state: 'created',
          created: Number(ns / 1_000_000_000n),
          labels: { composeProject: job.attrs['com.docker.compose.project'] as string },
        });
        return containerLine('create', cid, ref, job.attrs, ns);
      case 2:
        return plainLine(
          'network',
          'connect',
          NETWORK_ID,
          { container: cid, name: 'none', type: 'null' },
          ns,
        );
      case 3:
        if (container) container.state = 'running';
        return containerLine('start', cid, ref, job.attrs, ns);
      case 4:
        return containerLine('kill', cid, ref, { ...job.attrs, signal: '15' }, ns);
      case 5:
        if (container) {
          container.state = 'exited';
          container.finishedAt = this.clock.ms;
        }
        return containerLine('die', cid, ref, { ...job.attrs, exitCode: '0' }, ns);
      case 6:
        return plainLine(
          'network',
          'disconnect',
          NETWORK_ID,
          { container: cid, name: 'none', type: 'null' },
          ns,
        );
      case 7:
        return containerLine('stop', cid, ref, job.attrs, ns);
      case 8:
        sim.containers.delete(cid);
        return containerLine('destroy', cid, ref, job.attrs, ns);
      case 9: {
        const image = sim.images.get(imageId);
        if (image) {
          image.tags = [];
          image.digests = [];
        }
        return imageLine('untag', imageId, { ...NOISE_LABELS, name: imageId }, ns);
      }
      default:
        sim.images.delete(imageId);
        return imageLine('delete', imageId, { name: imageId }, ns);
    }
  }
}
