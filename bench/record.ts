/**
 * Records a real engine's `/events` stream, raw lines as the engine sent them, while a CI-like workload
 * runs: container lifecycles (plain, compose-labelled, swarm tasks), imports, tags, untags, deletes,
 * a build, a push and pulls, volumes, a service created, scaled and removed.
 */
import { randomBytes } from 'node:crypto';
import { createSplitter } from '../src/streams/split-lines.js';
import { type BenchEngine, api, createContainer, importImage } from './engine-context.js';
import { pool, sleep } from './stats.js';

export interface Recording {
  lines: string[];
  seconds: number;
}

/** Noise labels, as CI images carry them; they merge into every container event's attributes. */
const LABELS = {
  'org.opencontainers.image.source': 'https://example.invalid/ci/app',
  'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
  'ci.job': 'build-and-test',
  'ci.pipeline': '4711',
};

/** Runs the workload with `scale` container lifecycles (about 6 events each, plus the rest). */
export async function recordStream(
  be: BenchEngine,
  scale: number,
  log: (s: string) => void,
): Promise<Recording> {
  const { engine, port } = be;
  const lines: string[] = [];
  const splitter = createSplitter();
  const t0 = performance.now();
  let opened!: () => void;
  const open = new Promise<void>((r) => {
    opened = r;
  });
  const sub = port.events({}).subscribe({
    next: (f) => {
      if (f.kind === 'open') return opened();
      for (const l of splitter.push(f.chunk)) if (l.kind === 'line') lines.push(l.text);
    },
    error: (err: unknown) => log(`record: events stream failed: ${String(err)}`),
  });
  await open;
  const tag = randomBytes(3).toString('hex');
  try {
    // A build (classic builder: intermediate containers, one tag), a push and pulls from the local registry.
    const built = `${engine.registry}/rec-${tag}:v1`;
    await engine.buildImage(built, [{ file: 'app/a.bin', bytes: 4096, seed: tag }], { labels: LABELS });
    await engine.push(built);
    await engine.dockerOk(['rmi', built]);
    await engine.pullWithProgress(built);
    await engine.pullWithProgress(built);

    const lifecycles = Array.from({ length: scale }, (_, i) => i);
    await pool(lifecycles, 4, async (i) => {
      const labels: Record<string, string> = { ...LABELS };
      if (i % 3 === 0) labels['com.docker.compose.project'] = `ci-${i % 7}`;
      const id = await createContainer(engine, 'lw-base:latest', labels, `rec-${tag}-${i}`);
      await api(engine, `/containers/${id}/start`, { method: 'POST' });
      await api(engine, `/containers/${id}/stop?t=5`, { method: 'POST' });
      await api(engine, `/containers/${id}`, { method: 'DELETE' });
    });
    const images = Array.from({ length: Math.max(4, Math.floor(scale / 3)) }, (_, i) => i);
    await pool(images, 4, async (i) => {
      const id = await importImage(engine, `rec-${tag}-${i}`, `rec-${tag}/imp-${i}:v1`);
      await api(engine, `/images/${id}/tag?repo=rec-${tag}/imp-${i}&tag=v2`, { method: 'POST' });
      await api(engine, `/images/rec-${tag}/imp-${i}:v1`, { method: 'DELETE' });
      await api(engine, `/images/rec-${tag}/imp-${i}:v2`, { method: 'DELETE' });
      await api(engine, '/volumes/create', { method: 'POST', json: { Name: `rec-${tag}-${i}` } });
      await api(engine, `/volumes/rec-${tag}-${i}`, { method: 'DELETE' });
    });
    // A swarm service: create (a task container with swarm labels), scale, remove.
    const svc = await api(engine, '/services/create', {
      method: 'POST',
      json: {
        Name: `rec-${tag}`,
        Labels: { 'com.docker.stack.namespace': `rec-${tag}` },
        TaskTemplate: {
          ContainerSpec: { Image: 'lw-base:latest', Labels: { 'com.docker.stack.namespace': `rec-${tag}` } },
        },
        Mode: { Replicated: { Replicas: 1 } },
      },
    });
    const svcId = (JSON.parse(svc.body) as { ID: string }).ID;
    await waitForRunning(be, svcId, 1);
    await api(engine, `/services/${svcId}`, { method: 'DELETE' });
    // Let the last events (task container stop and destroy) arrive.
    await sleep(1500);
  } finally {
    sub.unsubscribe();
  }
  for (const l of splitter.flush()) if (l.kind === 'line') lines.push(l.text);
  return { lines, seconds: (performance.now() - t0) / 1000 };
}

async function waitForRunning(be: BenchEngine, serviceId: string, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const services = await be.port.listServices();
    if (services.some((s) => s.id === serviceId && s.running >= n)) return;
    await sleep(200);
  }
  throw new Error(`service ${serviceId} did not reach ${n} running tasks`);
}
