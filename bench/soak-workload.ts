/**
 * The soak's load on a private engine: runs (two swarm services of a stack, held a while, removed),
 * pulls of the same images (warm, or cold after the agent pruned them), tag churn, idle gaps in which the
 * agent's schedule can prune, and a daemon restart every so often. Counts what it did.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Engine, waitFor } from '../test/engine/harness.js';
import { digestOnly, type Pulled } from '../test/engine/prune-kit.js';

export interface WorkloadCounts {
  runs: number;
  runTaskErrors: string[];
  pulls: number;
  tags: number;
  daemonRestarts: number;
  restartDownMs: number[];
  failures: string[];
}

export interface WorkloadOptions {
  engine: Engine;
  until: number;
  restartEveryMs: number;
  /** How long each run stays up, and the idle gap after it. */
  holdMs?: number;
  gapMs?: number;
}

const pick = <T>(xs: T[], n: number): T[] => [...xs].sort(() => Math.random() - 0.5).slice(0, n);

/** Digest-only images, as swarm leaves them: what runs use and what the agent may prune. */
export async function makePool(engine: Engine, size: number): Promise<Pulled[]> {
  const pool: Pulled[] = [];
  for (let i = 0; i < size; i++) pool.push(await digestOnly(engine, `soak-${i}`));
  return pool;
}

/** Runs the load until `until`; never throws (a failed step is counted and the loop goes on). */
export async function runWorkload(pool: Pulled[], opts: WorkloadOptions): Promise<WorkloadCounts> {
  const { engine } = opts;
  const counts: WorkloadCounts = {
    runs: 0,
    runTaskErrors: [],
    pulls: 0,
    tags: 0,
    daemonRestarts: 0,
    restartDownMs: [],
    failures: [],
  };
  const baseId = await engine.baseImage();
  let nextRestart = Date.now() + opts.restartEveryMs;
  const step = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (err) {
      counts.failures.push(`${what}: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`);
    }
  };
  for (let cycle = 0; Date.now() < opts.until; cycle++) {
    if (Date.now() >= nextRestart) {
      nextRestart += opts.restartEveryMs;
      await step('daemon restart', async () => {
        const down = Date.now();
        await engine.stopDaemon('TERM');
        await engine.startDaemon();
        counts.restartDownMs.push(Date.now() - down);
        counts.daemonRestarts++;
      });
    }
    const stack = `soak-${cycle}`;
    await step('run', async () => {
      const labels = { 'com.docker.stack.namespace': stack };
      for (const [k, img] of pick(pool, 2).entries()) {
        const body = JSON.stringify({
          Name: `${stack}_s${k}`,
          Labels: labels,
          TaskTemplate: { ContainerSpec: { Image: img.ref, Labels: labels } },
          Mode: { Replicated: { Replicas: 1 } },
        });
        const r = await engine.api('/v1.41/services/create', { method: 'POST', body });
        if (r.status !== 201) throw new Error(`service create ${r.status} ${r.body}`);
      }
      counts.runs++;
      await engine.waitForStack(stack, 120_000);
      await sleep(opts.holdMs ?? 10_000);
      const filters = encodeURIComponent(JSON.stringify({ service: [`${stack}_s0`, `${stack}_s1`] }));
      const tasks = JSON.parse((await engine.api(`/v1.41/tasks?filters=${filters}`)).body) as Array<{
        Status?: { Err?: string };
      }>;
      for (const t of tasks) if (t.Status?.Err) counts.runTaskErrors.push(t.Status.Err);
    });
    await step('stack rm', () => engine.removeStack(stack, 120_000));
    await step('pulls', async () => {
      for (const img of pick(pool, 1)) {
        await engine.dockerOk(['pull', img.ref]);
        counts.pulls++;
      }
    });
    await step('tags', async () => {
      for (let i = 0; i < 10; i++) {
        const tag = `c${cycle}-${i}`;
        await engine.dockerOk(['tag', baseId, `lw/soak:${tag}`]);
        await engine.dockerOk(['rmi', `lw/soak:${tag}`]);
        counts.tags += 2;
      }
    });
    await sleep(Math.max(0, Math.min(opts.gapMs ?? 20_000, opts.until - Date.now())));
  }
  // Leave the engine as found: nothing of ours still running.
  await waitFor(async () => (await engine.dockerOk(['service', 'ls', '-q'])) === '', 60_000).catch(() => {});
  return counts;
}
