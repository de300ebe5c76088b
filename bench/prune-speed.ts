/**
 * Benchmark 6, prune speed: the same number of untagged old images removed by the agent's executor (one
 * at a time, re-checking each on the live model) and by `docker image prune -f`, each on a freshly made
 * identical engine state, the agent's model loop attached in each (it is resident on the host). The
 * executor, the engine's prune and the floor (bench/prune-floor.ts) take turns in one rotation. All run in
 * a child process on the compiled code with the Node settings the product ships (bench/prune-child.ts), as
 * a host runs the agent: through tsx, every closure the executor and the engine client make per request
 * is wrapped to keep its name, which cost the executor's arm alone ~15% in this benchmark.
 */
import { randomBytes } from 'node:crypto';
import { ALL_STACKS_ARE_RUNS } from '../src/model/services/stacks.js';
import type { Model } from '../src/model/types.js';
import { DEFAULT_MIN_AGE_MS, planPrune } from '../src/prune/plan.js';
import { createModelLoop, type ModelLoop } from '../src/streams/model-loop.js';
import { type BenchEngine, benchEngine, importImage } from './engine-context.js';
import { countingPort } from './counting-port.js';
import { type ExecutorOutcome, type PruneExecutor, realExecutor, standInExecutor } from './prune-standin.js';
import { cpuSecondsOf, dockerdPid } from './proc.js';
import { fmt, median, pool, timeMs } from './stats.js';
import type { BenchResult, Benchmark } from './types.js';
import { runChild } from './child.js';
import { compiled } from './compiled.js';
import { bareDeletes } from './prune-floor.js';
import { SHIPPED_ENV, SHIPPED_NODE_OPTIONS } from './node-options.js';

export const TARGET_PRUNE_RATIO = 1.2;
/** The images were made a moment ago: the agent's clock is set a day on, as if they had sat unused. */
const A_DAY_ON = DEFAULT_MIN_AGE_MS + 3_600_000;
const policy = { ...ALL_STACKS_ARE_RUNS, quietPeriodMs: 60_000, minAgeMs: DEFAULT_MIN_AGE_MS };

export async function makeUntagged(be: BenchEngine, n: number): Promise<Set<string>> {
  const tag = randomBytes(3).toString('hex');
  return new Set(await pool([...Array(n).keys()], 4, (i) => importImage(be.engine, `prune-${tag}-${i}`)));
}

interface Watching {
  loop: ModelLoop;
  model: () => Model;
  /** Calls the agent's model loop has made so far, by port method. */
  calls: () => Map<string, number>;
}

/** Runs `fn` with the agent's model loop attached and in sync, as on a host where it is resident. */
async function withAgent<T>(be: BenchEngine, fn: (w: Watching) => Promise<T>): Promise<T> {
  const counted = countingPort(be.port);
  const loop = createModelLoop({ port: counted.port, policy, resyncMs: 3_600_000 });
  let model: Model | undefined;
  let synced!: () => void;
  const inSync = new Promise<void>((r) => {
    synced = r;
  });
  const sub = loop.ticks$.subscribe((tick) => {
    model = tick.model;
    if (tick.input.kind === 'snapshot') synced();
  });
  try {
    await inSync;
    return await fn({
      loop,
      model: () => model as Model,
      calls: () => new Map(counted.counts),
    });
  } finally {
    sub.unsubscribe();
  }
}

export function byExecutor(be: BenchEngine, made: Set<string>, execute: PruneExecutor) {
  return withAgent(be, async ({ loop, model, calls }) => {
    const now = () => Date.now() + A_DAY_ON;
    const candidates = planPrune(model(), policy, now()).candidates.filter((c) => c.kind === 'image');
    let outcome: ExecutorOutcome | undefined;
    const callsBefore = calls();
    const cpu0 = process.cpuUsage();
    const ms = await timeMs(async () => {
      outcome = await execute(candidates, { port: be.port, loop, model, policy, now });
    });
    const cpu = process.cpuUsage(cpu0);
    const ours = candidates.filter((c) => made.has(c.id)).length;
    return {
      ms,
      outcome: outcome as ExecutorOutcome,
      candidates: candidates.length,
      ours,
      calls: [...calls()]
        .map(([m, c]) => [m, c - (callsBefore.get(m) ?? 0)] as const)
        .filter(([, c]) => c > 0)
        .map(([m, c]) => `${m} ${c}`)
        .join(', '),
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  });
}

/** The engine's own prune, with the agent attached all the same (it is resident): only the remover differs. */
export function byEngine(be: BenchEngine) {
  return withAgent(be, async () => {
    let deleted = 0;
    const cpu0 = process.cpuUsage();
    const ms = await timeMs(async () => {
      const out = await be.engine.dockerOk(['image', 'prune', '-f']);
      deleted = out.split('\n').filter((l) => l.startsWith('deleted: ')).length;
    });
    const cpu = process.cpuUsage(cpu0);
    return { ms, deleted, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
}

export const pruneSpeed: Benchmark = {
  name: 'prune-speed',
  needsEngine: true,
  async run(ctx) {
    const { engine } = await benchEngine();
    const script = await compiled('bench/prune-child.ts');
    // As a host runs the agent: the compiled code, with the Node settings the product ships.
    return runChild<BenchResult[]>(
      'prune-speed',
      [
        ...SHIPPED_NODE_OPTIONS,
        script,
        JSON.stringify({ dir: engine.dir, env: engine.env, quick: ctx.quick }),
      ],
      { ...SHIPPED_ENV },
    );
  },
};

type Remover = 'executor' | 'engine' | 'floor';

/**
 * The order of the rounds: the executor, the engine's prune and the floor in one rotation, each pair of
 * neighbours run under the same load. ABCCBA twice; quick: one of each.
 */
export function pruneRounds(quick: boolean): Remover[] {
  const abccba: Remover[] = ['executor', 'engine', 'floor', 'floor', 'engine', 'executor'];
  return quick ? abccba.slice(0, 3) : [...abccba, ...abccba];
}

/** The benchmark's rounds on `be`, in this process (bench/prune-child.ts, compiled). */
export async function measurePrune(be: BenchEngine, quick: boolean): Promise<BenchResult[]> {
  const n = quick ? 20 : 200;
  const order = pruneRounds(quick);
  const exec: number[] = [];
  const engine: number[] = [];
  const floor: number[] = [];
  const facts = new Set<string>();
  const cpu = {
    executor: [] as number[],
    engine: [] as number[],
    agent: [] as number[],
    timedExecutor: [] as number[],
    timedEngine: [] as number[],
  };
  const dockerd = await dockerdPid(be);
  let setup = 0;
  for (const who of order) {
    const t0 = performance.now();
    const made = await makeUntagged(be, n);
    setup += performance.now() - t0;
    const d0 = await cpuSecondsOf(dockerd);
    if (who === 'executor') {
      const own0 = process.cpuUsage();
      const r = await byExecutor(be, made, realExecutor());
      const own = process.cpuUsage(own0);
      cpu.agent.push((own.user + own.system) / 1000);
      cpu.timedExecutor.push(r.cpuMs);
      cpu.executor.push(((await cpuSecondsOf(dockerd)) - d0) * 1000);
      exec.push(r.ms);
      const o = r.outcome;
      facts.add(
        `executor: ${r.candidates} candidates (${r.ours} of ours), removed ${o.removed}, gone ${o.gone}, ` +
          `skipped ${o.skipped}, failed ${o.failed}${o.aborted ? `, aborted: ${o.aborted}` : ''}, ` +
          `the model loop's calls to the engine meanwhile: ${r.calls || 'none'}`,
      );
      if (o.removed < n)
        throw new Error(`executor removed ${o.removed} of ${n} (${o.aborted ?? 'see skipped'})`);
    } else if (who === 'floor') {
      const r = await byExecutor(be, made, bareDeletes(be.engine.socketPath));
      if (r.outcome.removed < n) throw new Error(`the floor's loop removed ${r.outcome.removed} of ${n}`);
      floor.push(r.ms);
    } else {
      const r = await byEngine(be);
      cpu.engine.push(((await cpuSecondsOf(dockerd)) - d0) * 1000);
      cpu.timedEngine.push(r.cpuMs);
      engine.push(r.ms);
      facts.add(`docker image prune -f: deleted ${r.deleted} image records (image and layer lines)`);
    }
  }
  // The CLI's fixed cost, for the reader: the same command with nothing to prune.
  const empty = await byEngine(be);
  // What two removals in flight would give (each still re-checked just before it is issued).
  const two = await byExecutor(be, await makeUntagged(be, n), standInExecutor(2));
  const figure = median(exec) / 1000;
  const baseline = median(engine) / 1000;
  const ratio = figure / baseline;
  // Each executor round and the engine's beside it (ABCCBA: the first and last pairs) ran under the
  // same load: the median of those ratios, and likewise the executor's over the floor's.
  const pairs = exec.map((e, i) => e / (engine[i] as number));
  const overFloor = exec.map((e, i) => e / (floor[i] as number));
  const floorRatio = median(floor) / 1000 / baseline;
  return [
    {
      name: `prune speed (${n} untagged images)`,
      figure,
      unit: 's',
      baseline,
      baselineUnit: 's (docker image prune -f)',
      target: `<= ${TARGET_PRUNE_RATIO}x the engine's prune`,
      met: ratio <= TARGET_PRUNE_RATIO,
      note:
        `${ratio.toFixed(2)}x (median of the per-pair ratios ${median(pairs).toFixed(2)}x: ` +
        `${pairs.map((x) => x.toFixed(2)).join(', ')}); runs in order ${order.join(', ')} (executor ${exec.map((x) => fmt(x / 1000)).join(', ')} s; ` +
        `engine ${engine.map((x) => fmt(x / 1000)).join(', ')} s); ${[...facts].join('; ')}. dockerd CPU per run: ` +
        `executor ${fmt(median(cpu.executor))} ms, engine prune ${fmt(median(cpu.engine))} ms; the agent's own ` +
        `CPU (its model in sync, then the prune) ${fmt(median(cpu.agent))} ms, of which while timed ` +
        `${fmt(median(cpu.timedExecutor))} ms (the executor and the model loop; ${fmt(median(cpu.timedEngine))} ms ` +
        `in the engine's arm, the model loop alone). The executor is the agent's own ` +
        '(src/prune/executor.ts, with its settle barrier before every removal). ' +
        'The floor, a bare DELETE loop over one socket with no agent code (bench/prune-floor.ts), in the same ' +
        `rotation: ${fmt(median(floor) / 1000)} s, ${floorRatio.toFixed(2)}x the engine's prune (floor ` +
        `${floor.map((x) => fmt(x / 1000)).join(', ')} s); the executor is ` +
        `${(figure / (median(floor) / 1000)).toFixed(2)}x the floor (per round, its nearest floor round: ` +
        `${overFloor.map((x) => x.toFixed(2)).join(', ')}). ` +
        `A stand-in with the same re-checks and two removals in flight: ${fmt(two.ms / 1000)} s (${two.outcome.removed} removed). ` +
        `docker image prune -f with nothing to prune: ${fmt(empty.ms)} ms. Making ${n} images: ` +
        `${fmt(setup / order.length / 1000)} s per round. All in a child process on the compiled code, with the Node settings the product ships.`,
    },
  ];
}
