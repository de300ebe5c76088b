/**
 * The private engine every engine benchmark of one run shares (test/engine/harness.ts): started once,
 * a single-node swarm (as on the CI hosts this agent is for), the base image; stopped by run.ts.
 */
import http from 'node:http';
import { createEnginePort } from '../src/docker/engine-port.js';
import type { DockerPort } from '../src/docker/port.js';
import type { EngineInfo } from '../src/docker/types.js';
import { type Engine, startEngine } from '../test/engine/harness.js';
import { tinyTar } from './tar.js';

export interface BenchEngine {
  engine: Engine;
  port: DockerPort;
  info: EngineInfo;
  baseImageId: string;
  /** Seconds it took to start the engine and make it ready. */
  startSeconds: number;
}

let shared: Promise<BenchEngine> | undefined;

/** The run's engine, started on first use. */
export function benchEngine(): Promise<BenchEngine> {
  shared ??= (async () => {
    const t0 = performance.now();
    const engine = await startEngine();
    await engine.swarmInit();
    const baseImageId = await engine.baseImage();
    const port = createEnginePort(engine.dockerHost);
    const info = await port.info();
    return { engine, port, info, baseImageId, startSeconds: (performance.now() - t0) / 1000 };
  })();
  return shared;
}

/** Whether an engine was started in this run (so run.ts knows to stop it). */
export function engineStarted(): boolean {
  return shared !== undefined;
}

export async function stopBenchEngine(): Promise<void> {
  if (!shared) return;
  const e = await shared.catch(() => undefined);
  shared = undefined;
  await e?.engine.stop();
}

/** One Engine API call over the socket with a body of any type; rejects on a status >= 400. */
export function api(
  engine: Engine,
  path: string,
  opts: { method?: string; json?: unknown; body?: Buffer; contentType?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = opts.json !== undefined ? Buffer.from(JSON.stringify(opts.json)) : opts.body;
    const req = http.request(
      {
        socketPath: engine.socketPath,
        path: `/v1.41${path}`,
        method: opts.method ?? 'GET',
        headers: body
          ? {
              'Content-Type':
                opts.json !== undefined ? 'application/json' : (opts.contentType ?? 'application/x-tar'),
              'Content-Length': body.length,
            }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const status = res.statusCode ?? 0;
          if (status >= 400)
            reject(new Error(`${opts.method ?? 'GET'} ${path}: ${status} ${text.slice(0, 200)}`));
          else resolve({ status, body: text });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error(`${path}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `docker import` of a one-file tar whose content is `seed`: a distinct image (and layer) per seed,
 * in a few milliseconds. Untagged when `ref` is not given. Returns the image id.
 */
export async function importImage(engine: Engine, seed: string, ref?: string): Promise<string> {
  const q = new URLSearchParams({ fromSrc: '-' });
  if (ref) {
    const colon = ref.lastIndexOf(':');
    q.set('repo', ref.slice(0, colon));
    q.set('tag', ref.slice(colon + 1));
  }
  const tar = tinyTar([{ name: 'seed.txt', content: `${seed}\n` }]);
  const res = await api(engine, `/images/create?${q}`, { method: 'POST', body: tar });
  let id: string | undefined;
  for (const line of res.body.split('\n')) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line) as { status?: string; error?: string };
    if (msg.error) throw new Error(`import ${seed}: ${msg.error}`);
    if (msg.status?.startsWith('sha256:')) id = msg.status;
  }
  if (!id) throw new Error(`import ${seed}: no image id in ${res.body.slice(0, 200)}`);
  return id;
}

/** Creates (does not start) a container; returns its id. */
export async function createContainer(
  engine: Engine,
  image: string,
  labels: Record<string, string> = {},
  name?: string,
): Promise<string> {
  const q = name ? `?name=${encodeURIComponent(name)}` : '';
  const res = await api(engine, `/containers/create${q}`, {
    method: 'POST',
    json: { Image: image, Cmd: ['/bin/idle'], Labels: labels, HostConfig: { NetworkMode: 'none' } },
  });
  return (JSON.parse(res.body) as { Id: string }).Id;
}

/** `docker pull` through the API (no CLI process on a 2-core machine); rejects on an error line. */
export async function pullImage(engine: Engine, ref: string): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const q = new URLSearchParams({ fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) });
  const res = await api(engine, `/images/create?${q}`, { method: 'POST' });
  const error = /"error":"([^"]*)"/.exec(res.body)?.[1];
  if (error) throw new Error(`pull ${ref}: ${error}`);
}
