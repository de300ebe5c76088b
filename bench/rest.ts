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

export const rest: Benchmark = {
  name: 'rest',
  needsEngine: true,
  async run(ctx) {
    const be = await benchEngine();
    const seconds = ctx.quick ? 5 : 30;
    const bare = await bareNode(ctx.quick ? 1 : 5);
    const agent = await startAgentProcess(be.engine, { asShipped: true });
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
    const last = samples.at(-1) as Resident;
    const most = Math.max(...samples.map((s) => s.rssMB));
    ctx.log(`rest: agent ${split(last)}, bare node ${split(bare)}`);
    return [
      {
        name: 'memory: the agent at rest (watch as shipped)',
        figure: last.rssMB,
        unit: 'MB',
        baseline: bare.rssMB,
        baselineUnit: 'MB (a bare node, same settings, idle)',
        target: `<= ${TARGET_REST_MB} MB`,
        met: last.rssMB <= TARGET_REST_MB,
        note:
          `layerwarden watch (compiled, ${Object.entries(SHIPPED_ENV)
            .map(([k, v]) => `${k}=${v}`)
            .join(
              ' ',
            )} ${SHIPPED_NODE_OPTIONS.join(' ')}, prune on, --listen) in sync with the engine, idle ${seconds} s, ` +
          `/metrics scraped ${scrapes} times: ${split(last)} at the end, at most ${fmt(most)} MB RSS over the ` +
          `${samples.length} samples; the bare node: ${split(bare)}.`,
      },
    ];
  },
};
