/**
 * A busy host on the private engine, for benchmarks 3 and 7: `n` distinct images (imports of tiny
 * distinct tars, a fifth untagged), `n` created containers (never started, so cheap; the first half on
 * those images, the rest on the base image; a tenth compose-labelled) and `n / 10` swarm services with
 * replicas 0 in ten stacks. Built once per run, with concurrency, and timed.
 */
import { type BenchEngine, api, createContainer, importImage } from './engine-context.js';
import { pool } from './stats.js';

export interface ScaleState {
  images: number;
  containers: number;
  services: number;
  setupSeconds: number;
}

const built = new WeakMap<BenchEngine, Promise<ScaleState>>();

export function ensureScale(be: BenchEngine, n: number, log: (s: string) => void): Promise<ScaleState> {
  let state = built.get(be);
  if (!state) {
    state = build(be, n, log);
    built.set(be, state);
  }
  return state;
}

async function build(be: BenchEngine, n: number, log: (s: string) => void): Promise<ScaleState> {
  const { engine } = be;
  const t0 = performance.now();
  const services = Math.max(1, Math.floor(n / 10));
  log(`scale: importing ${n} images, creating ${n} containers and ${services} services`);
  const ids = await pool([...Array(n).keys()], 4, (i) =>
    importImage(engine, `scale-image-${i}`, i % 5 === 0 ? undefined : `bench/img-${i}:v1`),
  );
  await pool([...Array(n).keys()], 4, (i) =>
    createContainer(
      engine,
      i < n / 2 ? (ids[i] as string) : 'lw-base:latest',
      i % 10 === 0 ? { 'com.docker.compose.project': `ci-${i % 20}` } : {},
      `bench-c-${i}`,
    ),
  );
  await pool([...Array(services).keys()], 4, (i) => {
    const stack = `stack-${i % 10}`;
    return api(engine, '/services/create', {
      method: 'POST',
      json: {
        Name: `${stack}_svc-${i}`,
        Labels: { 'com.docker.stack.namespace': stack },
        TaskTemplate: { ContainerSpec: { Image: 'lw-base:latest' } },
        Mode: { Replicated: { Replicas: 0 } },
      },
    });
  });
  const setupSeconds = (performance.now() - t0) / 1000;
  log(`scale: built in ${setupSeconds.toFixed(1)} s`);
  return { images: n, containers: n, services, setupSeconds };
}
