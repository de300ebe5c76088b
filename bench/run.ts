/**
 * `npm run bench`: every benchmark against one private engine, a table on stdout, bench/out/results.json
 * and bench/out/results.md. Options: --quick (smoke counts), --only NAME[,NAME], --no-engine (only what
 * runs without one), --scale N (size of the busy host of benchmarks 3 and 7; default 1000).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decision } from './decision.js';
import { api, benchEngine, engineStarted, stopBenchEngine } from './engine-context.js';
import { footprint } from './footprint.js';
import { ingest } from './ingest.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { OUT_DIR } from './paths.js';
import { pruneSpeed } from './prune-speed.js';
import { relist } from './relist.js';
import { rest } from './rest.js';
import { weeks } from './weeks.js';
import { type RunInfo, dockerCliVersion, machineInfo, markdown, textTable } from './report.js';
import type { BenchContext, BenchResult, Benchmark } from './types.js';

/** In the order they run: the busy host of relist and decision is built last, so it weighs on no other. */
export const BENCHMARKS: Benchmark[] = [
  ingest,
  latency,
  footprint,
  pruneSpeed,
  memory,
  rest,
  weeks,
  relist,
  decision,
];

interface Args {
  quick: boolean;
  only?: Set<string>;
  useEngine: boolean;
  scale?: number;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { quick: false, useEngine: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') args.quick = true;
    else if (a === '--no-engine') args.useEngine = false;
    else if (a === '--only' || a === '--scale') {
      const v = argv[++i];
      if (!v) return `${a} needs a value`;
      if (a === '--scale') {
        args.scale = Number(v);
        if (!Number.isInteger(args.scale) || args.scale < 10)
          return `--scale: expected a whole number >= 10, got ${v}`;
      } else {
        args.only = new Set(v.split(','));
        const unknown = [...args.only].filter((n) => !BENCHMARKS.some((b) => b.name === n));
        if (unknown.length)
          return `--only: unknown ${unknown.join(', ')} (known: ${BENCHMARKS.map((b) => b.name).join(', ')})`;
      }
    } else
      return `unknown argument ${a} (usage: bench [--quick] [--only NAME[,NAME]] [--no-engine] [--scale N])`;
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`bench: ${args}\n`);
    return 2;
  }
  const t0 = performance.now();
  const ctx: BenchContext = {
    quick: args.quick,
    useEngine: args.useEngine,
    scale: args.scale ?? (args.quick ? 50 : 1000),
    log: (line) => process.stderr.write(`  ${line}\n`),
  };
  const info: RunInfo = {
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo(),
    node: process.versions.node,
    loadBefore: os.loadavg(),
  };
  const results: BenchResult[] = [];
  const timings: Record<string, number> = {};
  let failed = false;
  try {
    for (const b of BENCHMARKS) {
      if (args.only && !args.only.has(b.name)) continue;
      if (b.needsEngine && !args.useEngine) {
        process.stderr.write(`${b.name}: skipped (needs the engine)\n`);
        continue;
      }
      process.stderr.write(`${b.name}: running\n`);
      const s0 = performance.now();
      try {
        const rows = await b.run(ctx);
        results.push(...rows);
        for (const r of rows)
          process.stderr.write(`  ${r.name}: ${r.figure} ${r.unit} (baseline ${r.baseline})\n`);
      } catch (err) {
        failed = true;
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`${b.name}: failed: ${message.split('\n')[0]}\n`);
        results.push({
          name: b.name,
          figure: Number.NaN,
          unit: '',
          baseline: null,
          baselineUnit: '',
          target: '',
          met: false,
          note: `failed: ${message}`,
        });
      }
      timings[b.name] = (performance.now() - s0) / 1000;
    }
    if (engineStarted()) {
      const be = await benchEngine();
      const raw = JSON.parse((await api(be.engine, '/info')).body) as { Driver?: string };
      info.engine = {
        version: be.info.serverVersion,
        api: be.info.apiVersion,
        ...(raw.Driver && { storage: raw.Driver }),
      };
      const cli = dockerCliVersion();
      if (cli) info.dockerCli = cli;
    }
  } finally {
    await stopBenchEngine();
  }
  info.loadAfter = os.loadavg();
  info.seconds = (performance.now() - t0) / 1000;
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(
    path.join(OUT_DIR, 'results.json'),
    `${JSON.stringify({ info, timings, results }, null, 2)}\n`,
  );
  await writeFile(path.join(OUT_DIR, 'results.md'), markdown(results, info));
  process.stdout.write(`${textTable(results)}\n\nwritten: bench/out/results.json, bench/out/results.md\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
