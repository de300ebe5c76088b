/**
 * Benchmark 8, the heap over weeks: the whole agent (bench/weeks-child.ts) through ≥ 30 simulated days of
 * a CI host (bench/ci-host.ts) in virtual time, run with the Node options the product ships
 * (bench/node-options.ts). Figure: the live heap after a full collection at the end, against the same at
 * the end of warm-up (day 3, when every bounded structure has passed its bound). The two heap snapshots
 * are diffed by constructor (what grew) and the retained size of each of the model's structures listed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runChild } from './child.js';
import { compiled } from './compiled.js';
import { HeapSnapshot, diffGroups } from './heap-snapshot.js';
import { SHIPPED_ENV, SHIPPED_NODE_OPTIONS } from './node-options.js';
import { fmt } from './stats.js';
import type { Benchmark } from './types.js';
import type { DaySample, WeeksRun } from './weeks-run.js';

/** "Flat": the live heap at the end within this of the heap at the end of warm-up. */
export const FLAT_WEEKS_MB = 1;
const MB = 1024 * 1024;

/** The model's structures, and the loop's own caches (closure variables), whose retained sizes are listed. */
const MODEL_PARTS = [
  'images',
  'refIndex',
  'layers',
  'chains',
  'layerBytes',
  'containers',
  'services',
  'stackContainers',
  'stackServices',
  'liveStacks',
  'pendingPulls',
  'recentPulls',
  'pullWindows',
  'serviceWatches',
  'ownRemovals',
  'evictionMemory',
  'savedClocks',
  'eventCounts',
];
const LOOP_PARTS = ['model', 'seen', 'gone', 'pullTimes', 'lastBusy'];

async function runWeeksChild(days: number, warmup: number, dir: string): Promise<WeeksRun> {
  const script = await compiled('bench/weeks-child.ts');
  const args = ['--expose-gc', ...SHIPPED_NODE_OPTIONS, script, String(days), String(warmup), dir];
  return runChild<WeeksRun>('weeks', args, SHIPPED_ENV);
}

export const weeks: Benchmark = {
  name: 'weeks',
  needsEngine: false,
  async run(ctx) {
    const days = ctx.quick ? 2 : 31;
    const warmup = ctx.quick ? 1 : 3;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-bench-weeks-snap-'));
    try {
      const r = await runWeeksChild(days, warmup, dir);
      const warm = r.samples.find((s) => s.day === warmup) as DaySample;
      const last = r.samples.at(-1) as DaySample;
      const growth = last.heapMB - warm.heapMB;
      const [a, b] = await Promise.all(r.snapshots.map((f) => HeapSnapshot.read(f)));
      const grew = a && b ? diffGroups(a.groups(), b.groups(), 5) : [];
      const parts = new Map<string, number>();
      for (const p of b?.retainedByName(['pendingPulls', 'evictionMemory'], MODEL_PARTS, LOOP_PARTS) ?? [])
        parts.set(p.name, Math.max(parts.get(p.name) ?? 0, p.bytes));
      const kb = (n: number) => `${fmt(n / 1024)} KB`;
      const series = r.samples.map((s) => `${s.day} ${fmt(s.heapMB)}`).join(', ');
      const events = r.counts.events ?? 0;
      return [
        {
          name: `heap over ${days} simulated days`,
          figure: growth,
          unit: 'MB',
          baseline: warm.heapMB,
          baselineUnit: `MB live heap at the end of warm-up (day ${warmup})`,
          target: `flat (within ${FLAT_WEEKS_MB} MB)`,
          met: Math.abs(growth) <= FLAT_WEEKS_MB,
          note:
            `${fmt(events)} engine events (${fmt(events / days)} a day) in ${fmt(r.seconds)} s: ` +
            `${fmt(r.counts.stacks ?? 0)} swarm stacks of 3-5 services, ${fmt(r.counts.builds ?? 0)} compose ` +
            `build jobs from 80 registries, ${fmt(r.counts.pulls ?? 0)} pulls ` +
            `(records: ${fmt(r.records['pull.warm'] ?? 0)} warm, ${fmt(r.records['pull.partial'] ?? 0)} partial, ` +
            `${fmt(r.records['pull.cold'] ?? 0)} cold), ${fmt(r.counts.tagMoves ?? 0)} tag moves, ` +
            `${fmt(r.records['eviction.external'] ?? 0)} external and ${fmt(r.records['eviction.layerwarden'] ?? 0)} ` +
            `own evictions (${fmt(r.records['prune.done'] ?? 0)} daily prunes done), ${fmt(r.counts.restarts ?? 0)} ` +
            `daemon restarts (${fmt(r.records['stream.down'] ?? 0)} stream.down), ` +
            `${fmt(r.records['model.resync'] ?? 0)} re-lists; ${fmt(r.logBytes / MB)} MB of log. ` +
            `Live heap MB after a full GC by day: ${series}. Grew most from day ${warmup} to day ${last.day} ` +
            `(self size by constructor): ${grew.map((g) => `${g.key} ${g.dBytes >= 0 ? '+' : ''}${kb(g.dBytes)} (${g.dCount >= 0 ? '+' : ''}${g.dCount})`).join(', ')}. ` +
            `Retained at the end: ${[...parts].map(([k, v]) => `${k} ${kb(v)}`).join(', ')}; sizes: ` +
            `${Object.entries(r.sizes)
              .map(([k, v]) => `${k} ${v}`)
              .join(
                ', ',
              )}. Shipped settings: ${[...Object.entries(SHIPPED_ENV).map(([k, v]) => `${k}=${v}`), ...SHIPPED_NODE_OPTIONS].join(' ')}.`,
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
