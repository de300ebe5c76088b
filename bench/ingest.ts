/**
 * Benchmark 1, ingest: events per second through the reading path (split into lines, decode, apply to
 * the model) on one core, replaying a stream recorded from the private engine in process. Baseline:
 * JSON.parse alone on the same lines.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineSnapshot } from '../src/docker/types.js';
import { apply } from '../src/model/apply.js';
import { createModel } from '../src/model/create.js';
import { ALL_STACKS_ARE_RUNS } from '../src/model/services/stacks.js';
import type { Model } from '../src/model/types.js';
import { decodeEvent } from '../src/streams/decode-event.js';
import { listAll } from '../src/streams/list-all.js';
import { createSplitter } from '../src/streams/split-lines.js';
import { ChurnWorkload } from './churn.js';
import { benchEngine } from './engine-context.js';
import { OUT_DIR } from './paths.js';
import { recordStream } from './record.js';
import { scaledSnapshot } from './scaled-snapshot.js';
import { SimEngine } from './sim-engine.js';
import { fmt, median } from './stats.js';
import { NanoClock } from './synth-events.js';
import type { BenchContext, BenchResult, Benchmark } from './types.js';

export const TARGET_EVENTS_PER_S = 100_000;
const CHUNK_BYTES = 16 * 1024;
const policy = ALL_STACKS_ARE_RUNS;

interface Source {
  what: string;
  lines: string[];
  snapshot: EngineSnapshot;
}

/** The engine's socket hands over bursts: the stream as 16 KiB chunks, events cut anywhere. */
export function toChunks(lines: readonly string[]): Uint8Array[] {
  const all = Buffer.from(`${lines.join('\n')}\n`);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += CHUNK_BYTES) chunks.push(all.subarray(i, i + CHUNK_BYTES));
  return chunks;
}

function modelFrom(snapshot: EngineSnapshot, now: number): Model {
  const model = createModel();
  apply(model, { kind: 'stream.up', attempt: 0 }, { now, policy });
  apply(model, { kind: 'snapshot', snapshot, reason: 'start' }, { now, policy });
  return model;
}

/** One pass of the reading path over the chunks; returns the events applied. */
export function ingestPass(chunks: readonly Uint8Array[], model: Model, clock: { now: number }): number {
  const splitter = createSplitter();
  let n = 0;
  for (const chunk of chunks) {
    for (const line of splitter.push(chunk)) {
      if (line.kind !== 'line') continue;
      const d = decodeEvent(line.text);
      if (!d.ok) continue;
      apply(model, { kind: 'event', event: d.event }, { now: clock.now++, policy });
      n++;
    }
  }
  return n;
}

/** Median rate over `reps` repetitions of at least `minEvents` each, after one warm-up repetition. */
function measureRate(pass: () => number, minEvents: number, reps: number): number[] {
  const rates: number[] = [];
  for (let r = 0; r <= reps; r++) {
    let n = 0;
    const t0 = performance.now();
    while (n < minEvents) n += pass();
    const s = (performance.now() - t0) / 1000;
    if (r > 0) rates.push(n / s);
  }
  return rates;
}

async function source(ctx: BenchContext): Promise<Source> {
  if (ctx.useEngine) {
    const be = await benchEngine();
    const snapshot = await listAll(be.port, createModel());
    const rec = await recordStream(be, ctx.quick ? 12 : 150, ctx.log);
    await mkdir(OUT_DIR, { recursive: true });
    await writeFile(path.join(OUT_DIR, 'recorded-events.ndjson'), `${rec.lines.join('\n')}\n`);
    return {
      what: `${rec.lines.length} events recorded from dockerd ${be.info.serverVersion} (bench/out/recorded-events.ndjson)`,
      lines: rec.lines,
      snapshot,
    };
  }
  const churn = synthesizedChurn(ctx.quick ? 2_000 : 20_000);
  return { ...churn, what: `${churn.lines.length} synthesized events of real shapes (no engine)` };
}

/**
 * The memory benchmark's churn (bench/churn.ts: pulls, compose-labelled container lifecycles, untag,
 * delete over 500 images) as lines, and the engine state before them.
 */
export function synthesizedChurn(events: number): Source & { model(now: number): Model } {
  const sim = new SimEngine();
  const work = new ChurnWorkload(sim, new NanoClock(), { distinctImages: 500, parallel: 16, resident: 50 });
  work.seed();
  const snapshot: EngineSnapshot = { ...scaledSnapshot(0, Date.now()), images: [...sim.images.values()] };
  const lines = Array.from({ length: events }, () => work.next());
  return { what: 'synthesized churn', lines, snapshot, model: (now) => modelFrom(snapshot, now) };
}

export const ingest: Benchmark = {
  name: 'ingest',
  needsEngine: false,
  async run(ctx) {
    const src = await source(ctx);
    const chunks = toChunks(src.lines);
    const minEvents = ctx.quick ? 10_000 : 300_000;
    const reps = ctx.quick ? 2 : 5;
    const clock = { now: Date.now() };
    const model = modelFrom(src.snapshot, clock.now);
    const rates = measureRate(() => ingestPass(chunks, model, clock), minEvents, reps);
    const parse = measureRate(
      () => {
        for (const line of src.lines) JSON.parse(line);
        return src.lines.length;
      },
      minEvents,
      reps,
    );
    // The same stream against a model the size of benchmark 3's engine: apply's per-event cost grows
    // with what the model holds (stacks are settled after every input).
    const big = modelFrom(scaledSnapshot(1000, clock.now), clock.now);
    const bigRates = measureRate(() => ingestPass(chunks, big, clock), minEvents, reps);
    const figure = median(rates);
    const baseline = median(parse);
    const result: BenchResult = {
      name: 'ingest',
      figure,
      unit: 'events/s',
      baseline,
      baselineUnit: 'events/s (JSON.parse alone)',
      target: `>= ${fmt(TARGET_EVENTS_PER_S)}/s`,
      met: figure >= TARGET_EVENTS_PER_S,
      note:
        `${src.what}, split from 16 KiB chunks, decoded and applied on one core; median of ${reps} runs of ` +
        `>= ${fmt(minEvents)} events (min ${fmt(Math.min(...rates))}, max ${fmt(Math.max(...rates))}). ` +
        `Overhead vs JSON.parse: ${(baseline / figure).toFixed(2)}x. With a model of 1,000 images, ` +
        `1,000 containers, 100 services: ${fmt(median(bigRates))}/s.`,
    };
    const rows = [result];
    // The synthesized churn beside it in the same run (with an engine; without one it is the stream
    // above), each rate taken in turn with JSON.parse of the same lines, the ratio per pair.
    if (ctx.useEngine)
      rows.push(overheadRow('recorded stream', src.lines, chunks, model, clock, minEvents, reps));
    const churn = synthesizedChurn(ctx.quick ? 2_000 : 20_000);
    rows.push(
      overheadRow(
        'synthesized churn',
        churn.lines,
        toChunks(churn.lines),
        churn.model(clock.now),
        clock,
        minEvents,
        reps,
      ),
    );
    return rows;
  },
};

export const TARGET_OVERHEAD = 3;

/** Ingest against JSON.parse of the same lines, alternating (ABAB), the median of the per-pair ratios. */
function overheadRow(
  what: string,
  lines: readonly string[],
  chunks: readonly Uint8Array[],
  model: Model,
  clock: { now: number },
  minEvents: number,
  reps: number,
): BenchResult {
  const ratios: number[] = [];
  const ingestRates: number[] = [];
  const parseRates: number[] = [];
  const parse = () => {
    for (const line of lines) JSON.parse(line);
    return lines.length;
  };
  measureRate(() => ingestPass(chunks, model, clock), minEvents, 0); // warm-up
  for (let r = 0; r < reps; r++) {
    const [i] = measureRate(() => ingestPass(chunks, model, clock), minEvents, 1);
    const [p] = measureRate(parse, minEvents, 1);
    ingestRates.push(i as number);
    parseRates.push(p as number);
    ratios.push((p as number) / (i as number));
  }
  const figure = median(ratios);
  return {
    name: `ingest overhead: ${what}`,
    figure,
    unit: 'x JSON.parse',
    baseline: median(parseRates),
    baselineUnit: 'events/s (JSON.parse alone, in turn)',
    target: `<= ${TARGET_OVERHEAD}x JSON.parse`,
    met: figure <= TARGET_OVERHEAD,
    note:
      `${lines.length} lines (${what}), ${reps} pairs of >= ${fmt(minEvents)} events, ingest then JSON.parse; ` +
      `ingest ${fmt(median(ingestRates))}/s (min ${fmt(Math.min(...ingestRates))}, max ${fmt(Math.max(...ingestRates))}); ` +
      `ratios ${ratios.map((x) => x.toFixed(2)).join(', ')}.`,
  };
}
