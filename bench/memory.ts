/**
 * Benchmark 4, memory over time: RSS and heap of the real agent after 1,000,000 events with 10,000
 * distinct images churned (bench/memory-child.ts, its own process with --expose-gc, on a SimEngine:
 * a real engine cannot make a million events on this machine in minutes). Baseline: the same process
 * at rest, modules loaded, before the agent starts.
 */
import { execFile } from 'node:child_process';
import { runChild } from './child.js';
import { compiled } from './compiled.js';
import { SHIPPED_ENV, SHIPPED_NODE_OPTIONS } from './node-options.js';
import type { MemorySample } from './memory-child.js';
import { fmt } from './stats.js';
import type { Benchmark } from './types.js';

export const TARGET_RSS_MB = 100;
export const TARGET_REST_MB = 60;
/** "Flat": the heap after a full GC grows by no more than this after warm-up (a fifth of the run). */
const FLAT_MB = 2;

/** How the child is started: Node options and environment beside --expose-gc. */
interface Settings {
  label: string;
  flags: readonly string[];
  env: Readonly<Record<string, string>>;
}

const SHIPPED: Settings = { label: 'shipped', flags: SHIPPED_NODE_OPTIONS, env: SHIPPED_ENV };
/** Each shipped setting alone, and none: what each one costs and gives. */
const VARIANTS: Settings[] = [
  { label: 'none', flags: [], env: {} },
  ...SHIPPED_NODE_OPTIONS.map((f) => ({ label: f, flags: [f], env: {} })),
  ...Object.entries(SHIPPED_ENV).map(([k, v]) => ({ label: `${k}=${v}`, flags: [], env: { [k]: v } })),
];

interface ChildResult {
  rest: MemorySample;
  samples: MemorySample[];
  eventsPerS: number;
  /** CPU (user + system, all threads) per event over the run. */
  cpuUsPerEvent: number;
  logBytes: number;
  model: { images: number; containers: number; layers: number };
}

async function runMemoryChild(events: number, images: number, settings: Settings): Promise<ChildResult> {
  const script = await compiled('bench/memory-child.ts');
  const args = ['--expose-gc', ...settings.flags, script, String(events), String(images)];
  return runChild<ChildResult>('memory', args, settings.env);
}

/** RSS of a process that only loads what the bin loads (src/cli/main.js), after a full GC. */
async function binModulesRss(settings: Settings): Promise<number> {
  const main = await compiled('src/cli/main.ts');
  const code = `import(${JSON.stringify(main)}).then(() => { gc(); setTimeout(() => { gc(); console.log(process.memoryUsage().rss / 1048576); }, 300); })`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', ...settings.flags, '-e', code],
      { env: { ...process.env, ...settings.env } },
      (err, out) => (err ? reject(err) : resolve(Number(out.trim()))),
    );
  });
}

export const memory: Benchmark = {
  name: 'memory',
  needsEngine: false,
  async run(ctx) {
    const events = ctx.quick ? 20_000 : 1_000_000;
    const images = ctx.quick ? 1_000 : 10_000;
    const binRest = [
      await binModulesRss(SHIPPED),
      await binModulesRss(SHIPPED),
      await binModulesRss(SHIPPED),
    ];
    const t0 = performance.now();
    const r = await runMemoryChild(events, images, SHIPPED);
    const seconds = (performance.now() - t0) / 1000;
    const others: Array<[Settings, ChildResult]> = [];
    for (const v of VARIANTS) others.push([v, await runMemoryChild(events, images, v)]);
    // The shipped settings once more, after the variants: two samples of its rate against one of each.
    const again = await runMemoryChild(events, images, SHIPPED);
    const describe = (label: string, x: ChildResult) =>
      `${label}: ${fmt((x.samples.at(-1) as MemorySample).rssMB)} MB RSS (at rest ${fmt(x.rest.rssMB)}), ` +
      `${fmt(x.eventsPerS)} events/s, ${fmt(x.cpuUsPerEvent)} µs CPU per event`;
    const variants = [
      describe('shipped, second run', again),
      ...others.map(([v, x]) => describe(v.label === 'none' ? 'no options' : `${v.label} alone`, x)),
    ].join('; ');
    const last = r.samples.at(-1) as MemorySample;
    const warm = r.samples.find((s) => s.events >= events / 5) ?? (r.samples[0] as MemorySample);
    const heapGrowth = last.heapMB - warm.heapMB;
    const rssGrowth = last.rssMB - warm.rssMB;
    const series = r.samples
      .map((s) => `${fmt(s.events / 1000)}k ${fmt(s.rssMB)}/${fmt(s.heapMB)}`)
      .join(', ');
    const how =
      `${fmt(events)} events over ${fmt(images)} distinct images (32 jobs in flight, 200 resident images), ` +
      `the whole agent loop (log stream flushed after each batch of 256) at ${fmt(r.eventsPerS)} events/s (${fmt(r.cpuUsPerEvent)} µs CPU per event, all threads), ` +
      `${fmt(seconds)} s in all, ${fmt(r.logBytes / events)} bytes of log per event; model at the end: ` +
      `${r.model.images} images, ${r.model.containers} containers, ${r.model.layers} layers`;
    return [
      {
        name: 'memory: RSS at rest',
        figure: r.rest.rssMB,
        unit: 'MB',
        baseline: (others[0]?.[1] ?? r).rest.rssMB,
        baselineUnit: 'MB (the same, without the shipped settings)',
        target: `<= ${TARGET_REST_MB} MB`,
        met: r.rest.rssMB <= TARGET_REST_MB,
        note:
          'The memory child after a full GC with its modules loaded (the agent, pino, the in-memory engine and ' +
          'its churn workload, 200 images seeded), before the agent starts. A process that only loads what the ' +
          `bin loads (src/cli/main.js), with the shipped settings: ${binRest.map((x) => fmt(x)).join(', ')} MB.`,
      },
      {
        name: 'memory: RSS after the run',
        figure: last.rssMB,
        unit: 'MB',
        baseline: r.rest.rssMB,
        baselineUnit: 'MB (same process at rest)',
        target: `<= ${TARGET_RSS_MB} MB`,
        met: last.rssMB <= TARGET_RSS_MB,
        note:
          `${how}. RSS/heap MB after a full GC by thousands of events: ${series}; at the end V8 held ` +
          `${fmt(last.heapTotalMB)} MB of heap for ${fmt(last.heapMB)} MB live, and ${fmt(last.externalMB)} MB ` +
          `outside it (at rest: ${fmt(r.rest.heapTotalMB)} and ${fmt(r.rest.externalMB)} MB). Shipped settings: ` +
          `${[...Object.entries(SHIPPED_ENV).map(([k, v]) => `${k}=${v}`), ...SHIPPED_NODE_OPTIONS].join(' ') || 'none'}. ` +
          `Each setting, one run each: ${variants}.`,
      },
      {
        name: 'memory: heap growth after warm-up',
        figure: heapGrowth,
        unit: 'MB',
        baseline: warm.heapMB,
        baselineUnit: `MB heap at warm-up (${fmt(warm.events / 1000)}k events)`,
        target: `flat (<= ${FLAT_MB} MB)`,
        met: heapGrowth <= FLAT_MB,
        note: `From ${fmt(warm.events / 1000)}k to ${fmt(last.events / 1000)}k events: heap ${heapGrowth >= 0 ? '+' : ''}${fmt(heapGrowth)} MB, RSS ${rssGrowth >= 0 ? '+' : ''}${fmt(rssGrowth)} MB (heap after a full GC; RSS also holds what V8 keeps for reuse).`,
      },
    ];
  },
};
