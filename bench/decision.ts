/**
 * Benchmark 7, decision latency: the time to answer "idle? what would be pruned?" from the live model
 * (idle with its reasons, the plan, the disk reading, the gates) against the operator's shell gate (df,
 * docker service ls, docker ps, docker image ls --filter dangling=true) run at the same moment,
 * alternately. With the engine, on benchmark 3's busy host; without it, on a synthesized model of the
 * same size (and the shell gate is `df` alone).
 */
import os from 'node:os';
import type { EngineSnapshot } from '../src/docker/types.js';
import { readDisk } from '../src/host/disk.js';
import { apply } from '../src/model/apply.js';
import { createModel } from '../src/model/create.js';
import { idleAnswer } from '../src/model/idle.js';
import { ALL_STACKS_ARE_RUNS } from '../src/model/services/stacks.js';
import type { Model } from '../src/model/types.js';
import { decide, storeGate } from '../src/prune/gates.js';
import { DEFAULT_MIN_AGE_MS, planPrune } from '../src/prune/plan.js';
import { createModelLoop } from '../src/streams/model-loop.js';
import { run } from '../test/engine/harness.js';
import { benchEngine } from './engine-context.js';
import { ensureScale } from './scale-state.js';
import { scaledSnapshot } from './scaled-snapshot.js';
import { fmt, median } from './stats.js';
import type { BenchResult, Benchmark } from './types.js';

const policy = { ...ALL_STACKS_ARE_RUNS, quietPeriodMs: 60_000, minAgeMs: DEFAULT_MIN_AGE_MS };

/** The agent's answer, from the model and one statfs. */
export async function modelAnswer(model: Model, diskPath: string, now: number) {
  const idle = idleAnswer(model, policy, now);
  const plan = planPrune(model, policy, now);
  const disk = await readDisk(diskPath);
  return decide({ idle, disk, store: storeGate(model.engine?.imageStore, false), plan, diskHighPercent: 80 });
}

async function liveModel(): Promise<{
  model: Model;
  stop: () => void;
  diskPath: string;
  env: NodeJS.ProcessEnv;
}> {
  const be = await benchEngine();
  let model: Model | undefined;
  const loop = createModelLoop({ port: be.port, policy, resyncMs: 3_600_000 });
  let synced!: () => void;
  const inSync = new Promise<void>((r) => {
    synced = r;
  });
  const sub = loop.ticks$.subscribe((tick) => {
    model = tick.model;
    if (tick.input.kind === 'snapshot') synced();
  });
  await inSync;
  return {
    model: model as Model,
    stop: () => sub.unsubscribe(),
    diskPath: be.info.dockerRootDir,
    env: be.engine.childEnv(),
  };
}

function syntheticModel(n: number): Model {
  const now = Date.now();
  const model = createModel();
  const snapshot: EngineSnapshot = scaledSnapshot(n, now);
  apply(model, { kind: 'stream.up', attempt: 0 }, { now, policy });
  apply(model, { kind: 'snapshot', snapshot, reason: 'start' }, { now, policy });
  return model;
}

export const decision: Benchmark = {
  name: 'decision',
  needsEngine: false,
  async run(ctx) {
    const reps = ctx.quick ? 3 : 15;
    let setup: { model: Model; stop: () => void; diskPath: string; env: NodeJS.ProcessEnv };
    let what: string;
    let gate: string;
    if (ctx.useEngine) {
      const be = await benchEngine();
      const scale = await ensureScale(be, ctx.scale, ctx.log);
      setup = await liveModel();
      what = `the live model of the private engine with ${scale.images} images, ${scale.containers} containers, ${scale.services} services`;
      gate = `df -P ${setup.diskPath} && docker service ls && docker ps && docker image ls --filter dangling=true`;
    } else {
      const n = ctx.scale;
      setup = { model: syntheticModel(n), stop: () => {}, diskPath: os.tmpdir(), env: process.env };
      what = `a synthesized model of ${n} images, ${n} containers, ${n / 10} services (no engine)`;
      gate = `df -P ${setup.diskPath}`;
    }
    const ours: number[] = [];
    const shell: number[] = [];
    let answer = '';
    let shellLines = 0;
    try {
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        const d = await modelAnswer(setup.model, setup.diskPath, Date.now());
        ours.push(performance.now() - t0);
        answer = `${d.fire ? 'fire' : 'no'}: ${d.gates.idle.busy.length} busy reasons, ${d.gates.candidates.count} candidates`;
        const t1 = performance.now();
        const res = await run('sh', ['-c', gate], { env: setup.env as Record<string, string> });
        shell.push(performance.now() - t1);
        if (res.code !== 0) throw new Error(`shell gate failed: ${res.stderr.slice(0, 200)}`);
        shellLines = res.stdout.split('\n').filter(Boolean).length;
      }
    } finally {
      setup.stop();
    }
    const figure = median(ours);
    const baseline = median(shell);
    const result: BenchResult = {
      name: 'decision latency',
      figure,
      unit: 'ms',
      baseline,
      baselineUnit: ctx.useEngine ? 'ms (shell gate)' : 'ms (df alone, no engine)',
      target: 'below the shell gate',
      met: figure < baseline,
      note:
        `${what}; median of ${reps} alternating runs (model ${fmt(Math.min(...ours))}–${fmt(Math.max(...ours))} ms, ` +
        `shell ${fmt(Math.min(...shell))}–${fmt(Math.max(...shell))} ms). The model's answer (${answer}) holds every ` +
        `busy reason and why each kept item stays; the gate printed ${shellLines} lines to parse: ${gate}.`,
    };
    return [result];
  },
};
