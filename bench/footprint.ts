/**
 * Benchmark 5, footprint on the daemon: the rate of a tight engine operation, one at a time, with and
 * without the agent (its own process, `watch --no-prune`) attached. Windows alternate without / with
 * to spread the noise of a shared machine over both. Two operations: volume create + remove (the agent
 * only reads the events) and container create + remove (it also inspects each new container).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startAgentProcess } from './agent-process.js';
import { type BenchEngine, api, benchEngine, createContainer } from './engine-context.js';
import { fmt, median, sleep } from './stats.js';
import type { BenchResult, Benchmark } from './types.js';

export const TARGET_SLOWDOWN = 0.05;

interface Op {
  name: string;
  once(be: BenchEngine, i: number, tag: string): Promise<void>;
}

const OPS: Op[] = [
  {
    name: 'volume create+remove',
    async once(be, i, tag) {
      const name = `fp-${tag}-${i}`;
      await api(be.engine, '/volumes/create', { method: 'POST', json: { Name: name } });
      await api(be.engine, `/volumes/${name}`, { method: 'DELETE' });
    },
  },
  {
    name: 'container create+remove',
    async once(be, _i, _tag) {
      const id = await createContainer(be.engine, 'lw-base:latest');
      await api(be.engine, `/containers/${id}`, { method: 'DELETE' });
    },
  },
];

/** CPU seconds (user + system) of a process so far, from /proc (clock ticks of 1/100 s). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Window {
  opsPerS: number;
  /** dockerd CPU milliseconds per operation: what the daemon spent, whatever else ran on the machine. */
  daemonMsPerOp: number;
  agentCpu?: number;
}

/** Operations per second, one at a time, for `seconds`. */
async function window(be: BenchEngine, op: Op, seconds: number, agentPid?: number): Promise<Window> {
  const tag = randomBytes(3).toString('hex');
  const dockerd = Number((await readFile(path.join(be.engine.dir, 'dockerd.pid'), 'utf8')).trim());
  const d0 = await cpuSecondsOf(dockerd);
  const a0 = agentPid ? await cpuSecondsOf(agentPid) : 0;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) await op.once(be, n++, tag);
  const s = (performance.now() - t0) / 1000;
  const w: Window = { opsPerS: n / s, daemonMsPerOp: (((await cpuSecondsOf(dockerd)) - d0) * 1000) / n };
  if (agentPid) w.agentCpu = ((await cpuSecondsOf(agentPid)) - a0) / s;
  return w;
}

/** A bare reader of the same events (curl, output discarded): what any subscriber costs the daemon. */
async function startCurl(be: BenchEngine): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(
    'curl',
    ['-sN', '--unix-socket', be.engine.socketPath, 'http://localhost/v1.41/events', '-o', '/dev/null'],
    {
      stdio: 'ignore',
    },
  );
  await sleep(300); // connected (the engine answers an events request at once)
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    pid: child.pid as number,
    async stop() {
      child.kill();
      await exited;
    },
  };
}

export const footprint: Benchmark = {
  name: 'footprint',
  needsEngine: true,
  async run(ctx) {
    const be = await benchEngine();
    const seconds = ctx.quick ? 1 : 2;
    const cycles = ctx.quick ? 1 : 5;
    const results: BenchResult[] = [];
    for (const op of OPS) {
      await window(be, op, 1); // warm-up
      // off, agent, off, bare reader, off, …: each window with a reader is compared with the two windows
      // without one around it, so a shared machine's drifting load weighs on both sides alike.
      const off: Window[] = [await window(be, op, seconds)];
      const on: Window[] = [];
      const bare: Window[] = [];
      const between = { agent: [] as number[], bare: [] as number[] };
      for (let c = 0; c < cycles; c++) {
        const agent = await startAgentProcess(be.engine);
        try {
          on.push(await window(be, op, seconds, agent.pid));
        } finally {
          await agent.stop();
        }
        off.push(await window(be, op, seconds));
        between.agent.push(on.at(-1)!.opsPerS / ((off.at(-2)!.opsPerS + off.at(-1)!.opsPerS) / 2));
        const curl = await startCurl(be);
        try {
          bare.push(await window(be, op, seconds, curl.pid));
        } finally {
          await curl.stop();
        }
        off.push(await window(be, op, seconds));
        between.bare.push(bare.at(-1)!.opsPerS / ((off.at(-2)!.opsPerS + off.at(-1)!.opsPerS) / 2));
      }
      const slowdown = 1 - median(between.agent);
      const rate = (ws: Window[]) => median(ws.map((w) => w.opsPerS));
      const daemon = (ws: Window[]) => fmt(median(ws.map((w) => w.daemonMsPerOp)));
      const ratios = (xs: number[]) => xs.map((r) => r.toFixed(2)).join(', ');
      results.push({
        name: `footprint: ${op.name}`,
        figure: rate(on),
        unit: 'ops/s with agent',
        baseline: rate(off),
        baselineUnit: 'ops/s without',
        target: `within ${TARGET_SLOWDOWN * 100} %`,
        met: slowdown <= TARGET_SLOWDOWN,
        note:
          `${(slowdown * 100).toFixed(1)} % slower with the agent: median of ${cycles} ratios of a ${seconds} s ` +
          `window with it to the mean of the windows without it on either side (${ratios(between.agent)}); ` +
          `with a bare curl reader instead: ${((1 - median(between.bare)) * 100).toFixed(1)} % ` +
          `(${ratios(between.bare)}). dockerd CPU per operation: ${daemon(off)} ms without a reader, ` +
          `${daemon(on)} with the agent, ${daemon(bare)} with curl; agent CPU ` +
          `${fmt(median(on.map((w) => (w.agentCpu ?? 0) * 100)))} % of a core.`,
      });
    }
    return results;
  },
};
