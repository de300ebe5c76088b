/**
 * The memory run, in its own process with --expose-gc (bench/memory.ts starts it): the real agent
 * (startAgent: model loop, log records through pino, idle watch, state file) on a SimEngine fed a churn
 * of `events` events over `images` distinct images. Prints one JSON line: samples of RSS and heap after
 * a full GC at every tenth of the run, and the throughput of the whole loop.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAgent } from '../src/agent/agent.js';
import { idlePolicy } from '../src/cli/shared.js';
import { resolveConfig } from '../src/config/resolve.js';
import { createLogger } from '../src/log/logger.js';
import { loadState } from '../src/state/state-file.js';
import { ChurnWorkload } from './churn.js';
import { SimEngine } from './sim-engine.js';
import { NanoClock } from './synth-events.js';

export interface MemorySample {
  events: number;
  rssMB: number;
  heapMB: number;
  /** What V8 has reserved for the heap (live or not) and memory held outside it. */
  heapTotalMB: number;
  externalMB: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const [events, images] = [Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 10_000)];
const BATCH = 256;
const MB = 1024 * 1024;

const turn = () => new Promise<void>((r) => setImmediate(r));
function sample(n: number): MemorySample {
  gc?.();
  const m = process.memoryUsage();
  return {
    events: n,
    rssMB: m.rss / MB,
    heapMB: m.heapUsed / MB,
    heapTotalMB: m.heapTotal / MB,
    externalMB: m.external / MB,
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-bench-memory-'));
try {
  const logFile = path.join(dir, 'agent.log');
  const { config } = resolveConfig(
    { dockerHost: 'unix:///sim.sock', stateFile: path.join(dir, 'state.json') },
    {},
  );
  const { logger, flush } = createLogger({ level: 'info', file: logFile });
  const { state } = await loadState(config.stateFile, Date.now());
  const sim = new SimEngine();
  const work = new ChurnWorkload(sim, new NanoClock(), {
    distinctImages: images,
    parallel: 32,
    resident: 200,
  });
  work.seed();
  // The file opens asynchronously; flushSync throws until it is open.
  for (let ready = false; !ready; ) {
    try {
      flush();
      ready = true;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const rest = sample(0); // modules loaded, nothing running
  const agent = startAgent({
    config,
    port: sim,
    logger,
    state,
    policy: idlePolicy(config),
    saveEveryMs: 5_000,
  });
  while (!agent.model()?.sync.inSync) await turn();
  const samples: MemorySample[] = [sample(0)];
  let sent = 0;
  let busyMs = 0;
  // CPU of every thread of the process (V8's GC helpers included) over the run: steadier than the rate
  // on a shared machine, and what a Node option moves between threads shows here.
  const cpu0 = process.cpuUsage();
  const every = Math.max(BATCH, Math.floor(events / 10));
  while (sent < events) {
    const t0 = performance.now();
    const lines: string[] = [];
    for (let i = 0; i < BATCH && sent < events; i++, sent++) lines.push(work.next());
    sim.send(lines);
    // The log stream writes asynchronously, one chunk per turn of the event loop: at this rate (far
    // above an engine's) it would fall behind and its backlog would be measured instead of the agent.
    flush();
    await turn(); // let the loop's lists and inspects answer, as the engine's socket would interleave
    busyMs += performance.now() - t0;
    if (sent % every < BATCH || sent === events) {
      while (agent.loop.queueDepth() > 0) await turn();
      samples.push(sample(sent));
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const model = agent.model();
  await agent.stop();
  flush();
  process.stdout.write(
    `${JSON.stringify({
      rest,
      samples,
      eventsPerS: events / (busyMs / 1000),
      cpuUsPerEvent: (cpu.user + cpu.system) / events,
      logBytes: (await stat(logFile)).size,
      model: { images: model?.images.size, containers: model?.containers.size, layers: model?.layers.size },
    })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
