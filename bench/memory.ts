/**
 * Benchmark 4, memory over time: RSS and heap of the real agent after 1,000,000 events with 10,000
 * distinct images churned (bench/memory-child.ts, its own process with --expose-gc, on a SimEngine:
 * a real engine cannot make a million events on this machine in minutes). Baseline: the same process
 * at rest, modules loaded, before the agent starts.
 */
import { spawn } from 'node:child_process';
import { compiled } from './compiled.js';
import type { MemorySample } from './memory-child.js';
import { fmt } from './stats.js';
import type { Benchmark } from './types.js';

export const TARGET_RSS_MB = 100;
/** "Flat": the heap after a full GC grows by no more than this after warm-up (a fifth of the run). */
const FLAT_MB = 2;
const SEMI_SPACE_MB = 2;

interface ChildResult {
  rest: MemorySample;
  samples: MemorySample[];
  eventsPerS: number;
  logBytes: number;
  model: { images: number; containers: number; layers: number };
}

async function runChild(events: number, images: number, flags: string[] = []): Promise<ChildResult> {
  const script = await compiled('bench/memory-child.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...flags, script, String(events), String(images)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory child exited ${code}: ${err.slice(-500)}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) as string) as ChildResult);
    });
  });
}

export const memory: Benchmark = {
  name: 'memory',
  needsEngine: false,
  async run(ctx) {
    const events = ctx.quick ? 20_000 : 1_000_000;
    const images = ctx.quick ? 1_000 : 10_000;
    const t0 = performance.now();
    const r = await runChild(events, images);
    const seconds = (performance.now() - t0) / 1000;
    // V8's young generation grows to 2 x 16 MB semi-spaces under this churn; capped, the RSS shows
    // what a deployment flag (NODE_OPTIONS in the unit file) would give.
    const capped = await runChild(events, images, [`--max-semi-space-size=${SEMI_SPACE_MB}`]);
    const cappedLast = capped.samples.at(-1) as MemorySample;
    const last = r.samples.at(-1) as MemorySample;
    const warm = r.samples.find((s) => s.events >= events / 5) ?? (r.samples[0] as MemorySample);
    const heapGrowth = last.heapMB - warm.heapMB;
    const rssGrowth = last.rssMB - warm.rssMB;
    const series = r.samples
      .map((s) => `${fmt(s.events / 1000)}k ${fmt(s.rssMB)}/${fmt(s.heapMB)}`)
      .join(', ');
    const how =
      `${fmt(events)} events over ${fmt(images)} distinct images (32 jobs in flight, 200 resident images), ` +
      `the whole agent loop (log stream flushed after each batch of 256) at ${fmt(r.eventsPerS)} events/s, ` +
      `${fmt(seconds)} s in all, ${fmt(r.logBytes / events)} bytes of log per event; model at the end: ` +
      `${r.model.images} images, ${r.model.containers} containers, ${r.model.layers} layers`;
    return [
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
          `outside it (at rest: ${fmt(r.rest.heapTotalMB)} and ${fmt(r.rest.externalMB)} MB). The same run with ` +
          `--max-semi-space-size=${SEMI_SPACE_MB}: ${fmt(cappedLast.rssMB)} MB RSS, heap ${fmt(cappedLast.heapMB)} MB, ` +
          `${fmt(capped.eventsPerS)} events/s.`,
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
