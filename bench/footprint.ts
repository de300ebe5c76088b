/**
 * Benchmark 5, footprint on the daemon: the rate of a tight engine operation, one at a time, with and
 * without the agent (its own process, `watch --no-prune`) attached, and, to tell the engine's cost of
 * any subscriber from the agent's own, with curl or a Node process that only drain the stream. Windows
 * with and without a reader alternate, to spread a shared machine's noise over both. Two operations:
 * volume create + remove (the agent only reads the events) and container create + remove (it also
 * inspects each new container).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startAgentProcess } from './agent-process.js';
import { type BenchEngine, api, benchEngine, createContainer } from './engine-context.js';
import { cpuSecondsOf, dockerdPid } from './proc.js';
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

interface Window {
  opsPerS: number;
  /** dockerd CPU milliseconds per operation: what the daemon spent, whatever else ran on the machine. */
  daemonMsPerOp: number;
  /** CPU milliseconds of the attached reader (agent, curl, Node) per operation. */
  readerMsPerOp?: number;
}

/** Operations per second, one at a time, for `seconds`. */
async function window(be: BenchEngine, op: Op, seconds: number, readerPid?: number): Promise<Window> {
  const tag = randomBytes(3).toString('hex');
  const dockerd = await dockerdPid(be);
  const d0 = await cpuSecondsOf(dockerd);
  const r0 = readerPid ? await cpuSecondsOf(readerPid) : 0;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) await op.once(be, n++, tag);
  const s = (performance.now() - t0) / 1000;
  const w: Window = { opsPerS: n / s, daemonMsPerOp: (((await cpuSecondsOf(dockerd)) - d0) * 1000) / n };
  if (readerPid) w.readerMsPerOp = (((await cpuSecondsOf(readerPid)) - r0) * 1000) / n;
  return w;
}

interface Reader {
  pid: number;
  stop(): Promise<void>;
}

/** A reader process that only drains the events: curl, or Node doing nothing with the bytes. */
async function startBare(be: BenchEngine, kind: 'curl' | 'node'): Promise<Reader> {
  const url = 'http://localhost/v1.41/events';
  const drain = `require('http').get({socketPath:process.argv[1],path:'/v1.41/events'},(r)=>r.on('data',()=>{}))`;
  const child =
    kind === 'curl'
      ? spawn('curl', ['-sN', '--unix-socket', be.engine.socketPath, url, '-o', '/dev/null'], {
          stdio: 'ignore',
        })
      : spawn(process.execPath, ['-e', drain, be.engine.socketPath], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await sleep(kind === 'node' ? 500 : 300); // started and connected (the engine answers at once)
  return {
    pid: child.pid as number,
    async stop() {
      child.kill();
      await exited;
    },
  };
}

const READERS = {
  agent: (be: BenchEngine): Promise<Reader> => startAgentProcess(be.engine),
  curl: (be: BenchEngine) => startBare(be, 'curl'),
  node: (be: BenchEngine) => startBare(be, 'node'),
};
type ReaderKind = keyof typeof READERS;

export const footprint: Benchmark = {
  name: 'footprint',
  needsEngine: true,
  async run(ctx) {
    const be = await benchEngine();
    const seconds = ctx.quick ? 1 : 2;
    const cycles = ctx.quick ? 1 : 4;
    const results: BenchResult[] = [];
    for (const op of OPS) {
      await window(be, op, 1); // warm-up
      // off, agent, off, curl, off, node, off, …: each window with a reader is compared with the two
      // windows without one around it, so a shared machine's drifting load weighs on both sides alike.
      const off: Window[] = [await window(be, op, seconds)];
      const withReader: Record<ReaderKind, Window[]> = { agent: [], curl: [], node: [] };
      const ratios: Record<ReaderKind, number[]> = { agent: [], curl: [], node: [] };
      for (let c = 0; c < cycles; c++) {
        for (const kind of Object.keys(READERS) as ReaderKind[]) {
          const reader = await READERS[kind](be);
          try {
            withReader[kind].push(await window(be, op, seconds, reader.pid));
          } finally {
            await reader.stop();
          }
          off.push(await window(be, op, seconds));
          const around = (off.at(-2)!.opsPerS + off.at(-1)!.opsPerS) / 2;
          ratios[kind].push(withReader[kind].at(-1)!.opsPerS / around);
        }
      }
      const slowdown = (kind: ReaderKind) => 1 - median(ratios[kind]);
      const pct = (kind: ReaderKind) => `${(slowdown(kind) * 100).toFixed(1)} %`;
      const rate = (ws: Window[]) => median(ws.map((w) => w.opsPerS));
      const daemon = (ws: Window[]) => fmt(median(ws.map((w) => w.daemonMsPerOp)));
      const readerMs = (ws: Window[]) => fmt(median(ws.map((w) => w.readerMsPerOp ?? 0)));
      const list = (xs: number[]) => xs.map((r) => r.toFixed(2)).join(', ');
      results.push({
        name: `footprint: ${op.name}`,
        figure: rate(withReader.agent),
        unit: 'ops/s with agent',
        baseline: rate(off),
        baselineUnit: 'ops/s without',
        target: `within ${TARGET_SLOWDOWN * 100} %`,
        met: slowdown('agent') <= TARGET_SLOWDOWN,
        note:
          `${pct('agent')} slower with the agent: median of ${cycles} ratios of a ${seconds} s window with it to ` +
          `the mean of the windows without a reader on either side (${list(ratios.agent)}). Other readers in ` +
          `the same rotation: curl ${pct('curl')} (${list(ratios.curl)}), a Node process that only drains ` +
          `the stream ${pct('node')} (${list(ratios.node)}). dockerd CPU per operation: ${daemon(off)} ms ` +
          `without a reader, ${daemon(withReader.agent)} with the agent, ${daemon(withReader.curl)} with ` +
          `curl, ${daemon(withReader.node)} with the Node drain; the reader's own CPU per operation: agent ` +
          `${readerMs(withReader.agent)} ms, curl ${readerMs(withReader.curl)} ms, Node drain ` +
          `${readerMs(withReader.node)} ms (2 events per operation).`,
      });
    }
    return results;
  },
};
