/**
 * The agent at rest, as a host runs it: `layerwarden watch` compiled, with the Node settings the product
 * ships, prune on, `--listen` served and scraped every 5 s (as a Prometheus would), against the private
 * engine, in sync and idle for 30 s. Resident memory is split as /proc says: anonymous (the process's own)
 * and file-backed (pages of the node binary and its libraries: shared with every other node process,
 * clean, given back under memory pressure). Baseline in the same run: a bare `node` with the same
 * settings, idle.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Engine } from '../test/engine/harness.js';
import { startAgentProcess } from './agent-process.js';
import { benchEngine } from './engine-context.js';
import { SHIPPED_ENV, SHIPPED_NODE_OPTIONS } from './node-options.js';
import { fmt, sleep } from './stats.js';
import type { Benchmark } from './types.js';
import { TARGET_REST_MB } from './memory.js';

export interface Resident {
  rssMB: number;
  anonMB: number;
  fileMB: number;
}

/** RSS of a process and its split, from /proc/PID/status. */
export async function residentOf(pid: number): Promise<Resident> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMB: kb('VmRSS') / 1024, anonMB: kb('RssAnon') / 1024, fileMB: kb('RssFile') / 1024 };
}

const split = (r: Resident) =>
  `${fmt(r.rssMB)} MB (anonymous ${fmt(r.anonMB)}, file-backed ${fmt(r.fileMB)})`;

async function bareNode(seconds: number): Promise<Resident> {
  const child = spawn(process.execPath, [...SHIPPED_NODE_OPTIONS, '-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
    env: { ...process.env, ...SHIPPED_ENV },
  });
  try {
    await sleep(seconds * 1000);
    return await residentOf(child.pid as number);
  } finally {
    child.kill('SIGKILL');
  }
}

interface AtRest {
  last: Resident;
  most: number;
  samples: number;
  scrapes: number;
}

/** The agent as shipped, idle `seconds`, scraped every 5 s; resident memory sampled at each scrape. */
async function agentAtRest(engine: Engine, seconds: number, args: string[]): Promise<AtRest> {
  const agent = await startAgentProcess(engine, { asShipped: true, args });
  const samples: Resident[] = [];
  let scrapes = 0;
  try {
    for (let t = 0; t < seconds; t += 5) {
      await sleep(5000);
      if (agent.listen) {
        const res = await fetch(`${agent.listen}/metrics`);
        if (res.ok) scrapes++;
        await res.text();
      }
      samples.push(await residentOf(agent.pid));
    }
  } finally {
    await agent.stop();
  }
  return {
    last: samples.at(-1) as Resident,
    most: Math.max(...samples.map((s) => s.rssMB)),
    samples: samples.length,
    scrapes,
  };
}

/**
 * Two zones: the host's own (UTC here: the schedule reads UTC) and one with DST set by `--tz` (the agent
 * adopts it as its process zone and reads the process clock; src/prune/zone.ts).
 */
const ZONES: Array<[string, string[]]> = [
  ['the system zone (UTC)', []],
  ['--tz Europe/Berlin', ['--tz', 'Europe/Berlin']],
];

export const rest: Benchmark = {
  name: 'rest',
  needsEngine: true,
  async run(ctx) {
    const be = await benchEngine();
    const seconds = ctx.quick ? 5 : 30;
    const bare = await bareNode(ctx.quick ? 1 : 5);
    const settings = `${Object.entries(SHIPPED_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} ${SHIPPED_NODE_OPTIONS.join(' ')}`;
    const rows = [];
    for (const [zone, args] of ZONES) {
      const r = await agentAtRest(be.engine, seconds, args);
      ctx.log(`rest (${zone}): agent ${split(r.last)}, bare node ${split(bare)}`);
      rows.push({
        name: `memory: the agent at rest (watch as shipped, ${zone})`,
        figure: r.last.rssMB,
        unit: 'MB',
        baseline: bare.rssMB,
        baselineUnit: 'MB (a bare node, same settings, idle)',
        target: `<= ${TARGET_REST_MB} MB`,
        met: r.last.rssMB <= TARGET_REST_MB,
        note:
          `layerwarden watch (compiled, ${settings}, prune on, --listen${args.length ? `, ${args.join(' ')}` : ''}) ` +
          `in sync with the engine, idle ${seconds} s, /metrics scraped ${r.scrapes} times: ${split(r.last)} at ` +
          `the end, at most ${fmt(r.most)} MB RSS over the ${r.samples} samples; the bare node: ${split(bare)}.`,
      });
    }
    return rows;
  },
};
