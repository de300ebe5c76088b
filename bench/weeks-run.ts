/**
 * Weeks of a CI host in minutes (bench/weeks-child.ts runs it for bench/weeks.ts): the whole resident agent as
 * `watch` composes it — model loop, log records through pino to a file, idle watch, state file, metrics,
 * the daily prune (boundary runner and its executor) — on a SimEngine driven by bench/ci-host.ts, in
 * virtual time (bench/virtual-scheduler.ts). Once a simulated day, at 23:30, the live heap (after a full
 * collection when `gc` is exposed); heap snapshots at the end of warm-up and at the end when `snapDir` is
 * given. At the end, the model must hold what the engine holds (`agrees`).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { startAgent } from '../src/agent/agent.js';
import { startBoundaryRunner } from '../src/agent/boundary-runner.js';
import { serveAgent } from '../src/agent/serve.js';
import { pruneSettings, scheduleOf } from '../src/cli/prune-config.js';
import { idlePolicy } from '../src/cli/shared.js';
import { resolveConfig } from '../src/config/resolve.js';
import { createLogger } from '../src/log/logger.js';
import type { DiskReading } from '../src/prune/gates.js';
import { logRecords } from '../src/records/log-records.js';
import { createRecordStream } from '../src/records/record-stream.js';
import { loadState } from '../src/state/state-file.js';
import { type CiCounts, CiHost } from './ci-host.js';
import { SimEngine } from './sim-engine.js';
import { VirtualScheduler } from './virtual-scheduler.js';

export interface DaySample {
  day: number;
  heapMB: number;
  rssMB: number;
  events: number;
  images: number;
  containers: number;
  layers: number;
  timers: number;
}

export interface WeeksRun {
  days: number;
  warmupDays: number;
  seconds: number;
  counts: CiCounts;
  records: Record<string, number>;
  logBytes: number;
  samples: DaySample[];
  sizes: Record<string, number>;
  snapshots: string[];
  /** Virtual ms from each firing decision to its `prune.done`: 0 when the clock waited for the prune. */
  pruneSpans: number[];
  /** The model's images and containers at the end are the engine's. */
  agrees: { images: boolean; containers: boolean };
}

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const MB = 1024 * 1024;
const START = Date.UTC(2026, 0, 5, 3, 0, 0); // a Monday, 03:00 UTC: the first jobs of the day

export async function runWeeks(days: number, warmupDays: number, snapDir?: string): Promise<WeeksRun> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-bench-weeks-'));
  try {
    const clock = new VirtualScheduler(START);
    const logFile = path.join(dir, 'agent.log');
    const { config } = resolveConfig(
      { dockerHost: 'unix:///sim.sock', stateFile: path.join(dir, 'state.json'), tz: 'UTC' },
      {},
    );
    const { logger, flush } = createLogger({ level: 'info', file: logFile });
    const { state } = await loadState(config.stateFile, START);
    const sim = new SimEngine();
    const host = new CiHost(sim, clock.now);
    host.seed();
    for (let ready = false; !ready; ) {
      try {
        flush();
        ready = true;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const policy = idlePolicy(config);
    // The disk stays above the high-water mark: every night's prune removes what is eligible.
    const readDisk = async (p: string): Promise<DiskReading> => ({
      path: p,
      ok: true,
      usedPercent: 90,
      usedBytes: 90,
      totalBytes: 100,
      freeBytes: 10,
    });
    const records = createRecordStream(clock);
    logRecords(records.records$, logger);
    // What the agent logged, by record (evictions, pulls by class, stream.down, …), whoever made it.
    const counted = new Map<string, number>();
    const pruneSpans: number[] = [];
    let firedAt = 0;
    const sub = records.records$.subscribe(({ record: n }) => {
      const key =
        n.event === 'pull' ? `pull.${n.class}` : n.event === 'eviction' ? `eviction.${n.by}` : n.event;
      counted.set(key, (counted.get(key) ?? 0) + 1);
      if (n.event === 'prune.decision' && n.fire) firedAt = clock.now();
      if (n.event === 'prune.done') pruneSpans.push(clock.now() - firedAt);
    });
    const agent = startAgent({ config, port: sim, logger, records, state, policy, scheduler: clock });
    const runner = startBoundaryRunner({
      agent,
      port: sim,
      schedule: scheduleOf(config),
      policy,
      settings: pruneSettings(config),
      mode: 'on',
      scheduler: clock,
      readDisk,
    });
    const served = await serveAgent({ agent, config, logger, policy, prune: 'on', now: clock.now, readDisk });

    const samples: DaySample[] = [];
    const sample = (day: number) => {
      gc?.();
      const m = process.memoryUsage();
      const model = agent.model();
      samples.push({
        day,
        heapMB: m.heapUsed / MB,
        rssMB: m.rss / MB,
        events: host.counts.events,
        images: model?.images.size ?? 0,
        containers: model?.containers.size ?? 0,
        layers: model?.layers.size ?? 0,
        timers: clock.pending,
      });
    };
    // The clock stands while a prune is under way: its real I/O (the state file's fsync before the first
    // removal, disk readings, the settle barrier's poll) takes no virtual time. Run on meanwhile, the
    // night's window would pass in a few real milliseconds on a loaded machine and the run end (the agent
    // stopping) before the first removal. Timers due now still fire (the events' ticks, idle checks).
    const step = async (to: number) => {
      await clock.advanceTo(to);
      for (let p = runner.inFlight(); p; p = runner.inFlight()) {
        let done = false;
        void p.then(() => {
          done = true;
        });
        while (!done) {
          await clock.advanceTo(clock.now());
          if (!done) await sleep(1);
        }
      }
    };
    const snapshots: string[] = [];
    const t0 = performance.now();
    const end = START + days * DAY;
    for (let t = START; t < end; t += MIN) {
      await step(t);
      for (const chunk of host.minute(t)) {
        sim.send(chunk);
        await step(t);
      }
      flush();
      if ((t + 30 * MIN) % DAY === 0) {
        const day = Math.round((t - START) / DAY);
        sample(day);
        if (snapDir && (day === warmupDays || t + DAY >= end)) {
          gc?.();
          snapshots.push(v8.writeHeapSnapshot(path.join(snapDir, `weeks-day-${day}.heapsnapshot`)));
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    // The engine's truth against the model's, once the last refreshes are in.
    await step(end + 10 * MIN);
    const ids = (m: Iterable<string>) => [...m].sort().join(',');
    const final = agent.model();
    const agrees = {
      images: final !== undefined && ids(final.images.keys()) === ids(sim.images.keys()),
      containers: final !== undefined && ids(final.containers.keys()) === ids(sim.containers.keys()),
    };
    const model = agent.model();
    const sizes = model && {
      images: model.images.size,
      layers: model.layers.size,
      chains: model.chains.size,
      layerBytes: model.layerBytes.size,
      containers: model.containers.size,
      services: model.services.size,
      pendingPulls: model.pendingPulls.size,
      recentPulls: model.recentPulls.length,
      pullWindows: model.pullWindows.size,
      evictionMemory: model.evictionMemory.size,
      serviceWatches: model.serviceWatches.size,
      ownRemovals: model.ownRemovals.size,
      savedClocks: model.savedClocks.size,
    };
    sub.unsubscribe();
    await runner.stop();
    await served.close();
    await agent.stop();
    flush();
    return {
      days,
      warmupDays,
      seconds,
      counts: host.counts,
      records: Object.fromEntries([...counted].sort()),
      logBytes: (await stat(logFile)).size,
      samples,
      sizes: sizes ?? {},
      snapshots,
      pruneSpans,
      agrees,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
