import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { DockerPort } from '../docker/port.js';
import { readDisk as readDiskAt, readImageDisks } from '../host/disk.js';
import { type IdleAnswer, type IdlePolicy, idleAnswer } from '../model/idle.js';
import { decisionNote, evaluate } from '../prune/evaluate.js';
import { createExecutor, type ExecuteResult, type LiveView } from '../prune/executor.js';
import { decidingReading, type FilesystemSettings } from '../prune/filesystems.js';
import type { DiskReading } from '../prune/gates.js';
import { busyText } from '../records/busy.js';
import {
  currentWindow,
  dueEvaluation,
  missedWindows,
  nextBoundary,
  previousBoundary,
  type Schedule,
  type Window,
} from '../prune/schedule.js';
import type { RunningAgent } from './agent.js';
import { nextQuietExpiry } from './idle-watch.js';
import { createPruneBook } from './prune-book.js';
import { createSettle } from './settle.js';
import { createWakeTimer } from './wake-timer.js';

export interface PruneSettings extends FilesystemSettings {
  minAgeMs: number;
  diskHighPercent: number;
  diskLowPercent?: number;
  /** Removal on the containerd image store (default off; src/prune/gates.ts `storeGate`). */
  allowContainerdStoreRemoval?: boolean;
}

export interface BoundaryRunnerOptions {
  /** Its records (and the executor's) go on the agent's record stream, beside the model's. */
  agent: Pick<RunningAgent, 'ticks$' | 'model' | 'idle' | 'pruneBook' | 'saveNow' | 'loop' | 'records'>;
  port: DockerPort;
  schedule: Schedule;
  policy: IdlePolicy;
  settings: PruneSettings;
  /** `off` (`--no-prune`): decide and log, never execute, never record the boundary in the state file. */
  mode: 'on' | 'dry-run' | 'off';
  scheduler?: SchedulerLike;
  readDisk?: (path: string) => Promise<DiskReading>;
  settle?: LiveView['settle'];
  /** After the engine's own prune held the lock: try again this much later, inside the window (default 5 min). */
  retryDelayMs?: number;
}

/**
 * The schedule in the resident agent: on every tick (and on a timer, never a busy loop) it asks whether
 * a boundary's window is open and unevaluated; the first idle moment in it gets one evaluation, logged as
 * `prune.decision`; the boundary is saved to the state file before anything is removed, so a crash
 * mid-prune never repeats it. A window that closes unevaluated is logged as `prune.skipped`.
 */
export function startBoundaryRunner(opts: BoundaryRunnerOptions) {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const { agent, schedule, policy, settings, mode } = opts;
  const log = agent.records.emit;
  const retryDelayMs = opts.retryDelayMs ?? 300_000;
  const readDisk = opts.readDisk ?? readDiskAt;
  // --no-prune keeps its bookkeeping in memory: an observer must not use up a boundary for a real agent.
  const book = mode === 'off' ? createPruneBook(agent.pruneBook.get()) : agent.pruneBook;
  const idleNow = agent.idle;
  const live: LiveView = {
    model: agent.model,
    idle: idleNow,
    push: (input) => agent.loop.push(input),
    settle:
      opts.settle ??
      createSettle({ port: opts.port, queueDepth: () => agent.loop.queueDepth(), idle: idleNow }),
  };
  const executor = createExecutor({
    port: opts.port,
    live,
    log,
    now: () => scheduler.now(),
    readDisk: async () => decidingReading(await disks()),
  });
  const disks = () => readImageDisks(agent.model()?.engine, settings, readDisk);

  let stopping = false;
  let inFlight: Promise<void> | undefined;
  let open: Window | undefined;
  let checkAt = Number.NEGATIVE_INFINITY;
  let retry: (Window & { at: number }) | undefined;
  const lastBusy = new Map<number, string[]>();
  let floor: number | undefined;
  const startedAt = scheduler.now();

  const timer = createWakeTimer(scheduler, () => consider());
  const arm = (at: number) => timer.wakeAt(at);

  const tryWindow = (window: Window, isRetry: boolean) => {
    const idle = idleNow();
    if (!idle?.idle) {
      lastBusy.set(window.boundary, idle ? idle.busy.map(busyText) : ['busy: no model yet']);
      const quiet = idle ? nextQuietExpiry(idle) : undefined;
      arm(Math.min(window.closesAt, quiet ?? Number.POSITIVE_INFINITY));
      return;
    }
    inFlight = evaluateAndRun(window, isRetry).finally(() => {
      inFlight = undefined;
      consider();
    });
  };

  const settleMissed = (now: number) => {
    const missed = missedWindows(schedule, book.get().lastEvaluatedBoundary ?? floor, now);
    for (const w of missed) {
      const busy = lastBusy.get(w.boundary);
      // Running, the runner wakes at every boundary and tries the window (busy or not): one it never saw
      // open since it started was jumped over by the wall clock (or the host slept through it).
      const idleReason =
        w.boundary >= startedAt
          ? 'window jumped over by the clock'
          : 'window closed while the agent was not running';
      log({
        event: 'prune.skipped',
        level: 'warn',
        reason: busy ? 'window closed while busy' : idleReason,
        boundary: iso(w.boundary),
        windowClosesAt: iso(w.closesAt),
        ...(busy && { busy }),
      });
      lastBusy.delete(w.boundary);
    }
    const last = missed.at(-1);
    if (!last) return;
    book.record({ lastEvaluatedBoundary: last.boundary, lastOutcome: 'skipped: window closed' });
    if (mode !== 'off') void agent.saveNow();
  };

  const consider = () => {
    if (stopping || inFlight) return;
    const now = scheduler.now();
    if (retry) {
      if (now >= retry.closesAt) {
        log({
          event: 'prune.skipped',
          level: 'warn',
          reason: 'window closed before the retry',
          boundary: iso(retry.boundary),
        });
        retry = undefined;
      } else if (now < retry.at) return arm(retry.at);
      else return tryWindow(retry, true);
    }
    if (open && now >= open.boundary && now < open.closesAt) return tryWindow(open, false);
    if (!open && now < checkAt) {
      if (!timer.pending()) arm(checkAt); // a capped sleep woke early: sleep on
      return;
    }
    if (floor === undefined && book.get().lastEvaluatedBoundary === undefined) {
      // Before a first evaluation ever, only windows that close from now on count as missed.
      const w = currentWindow(schedule, now);
      floor = previousBoundary(schedule, (w?.boundary ?? now + 1) - 1) ?? now;
    }
    settleMissed(now);
    const due = dueEvaluation(schedule, now, book.get().lastEvaluatedBoundary);
    if (!due.due) {
      open = undefined;
      checkAt = due.nextCheckAt;
      return arm(due.nextCheckAt);
    }
    open = { boundary: due.boundary, closesAt: due.closesAt };
    tryWindow(open, false);
  };

  const evaluateAndRun = async (window: Window, isRetry: boolean) => {
    try {
      const readings = await disks();
      const model = agent.model();
      const idle = idleNow();
      if (!model || !idle) return;
      const now = scheduler.now();
      const e = evaluate({ model, idle, disks: readings, now, ...settings });
      log({ ...decisionNote(e, { trigger: 'schedule', mode, ...window }), ...(isRetry && { retry: true }) });
      book.record({
        lastEvaluatedBoundary: window.boundary,
        lastRunAt: now,
        lastOutcome: e.decision.fire ? (mode === 'off' ? 'would fire' : 'fired') : 'not fired',
      });
      open = undefined;
      retry = undefined;
      if (mode === 'off') return;
      await agent.saveNow(); // before removing anything: a crash mid-prune never repeats the boundary
      if (!e.decision.fire) return;
      const result = await executor.execute({
        plan: e.plan,
        policy: { minAgeMs: settings.minAgeMs },
        dryRun: mode === 'dry-run',
        ...(settings.diskLowPercent !== undefined && { diskLowPercent: settings.diskLowPercent }),
        allowContainerdStoreRemoval: settings.allowContainerdStoreRemoval === true,
        stopRequested: () => stopping,
        context: { trigger: 'schedule', boundary: iso(window.boundary) },
      });
      book.record({ lastOutcome: outcomeText(result) });
      if (result.aborted?.retryable && !stopping) retry = { ...window, at: scheduler.now() + retryDelayMs };
      await agent.saveNow();
    } catch (err) {
      // Give the boundary up rather than try again at once: an error that repeats must not loop.
      book.record({
        lastEvaluatedBoundary: Math.max(book.get().lastEvaluatedBoundary ?? window.boundary, window.boundary),
      });
      open = undefined;
      retry = undefined;
      log({
        event: 'prune.error',
        level: 'error',
        message: err instanceof Error ? err.message : String(err),
      });
    }
  };

  const sub = agent.ticks$.subscribe(() => consider());
  consider();

  return {
    /** The next boundary after now, for `agent.start` and status. */
    nextBoundary: () => nextBoundary(schedule, scheduler.now()),
    /**
     * The evaluation (and prune) under way, if any. A driver of virtual time waits for it before moving
     * the clock on: the prune's real I/O (the state file's fsync, disk readings, the settle barrier's
     * poll) takes no virtual time, so a clock that runs on meanwhile ends its window before it removes.
     */
    inFlight: (): Promise<void> | undefined => inFlight,
    /** Stops scheduling; a prune under way stops before its next removal. */
    async stop(): Promise<void> {
      stopping = true;
      sub.unsubscribe();
      timer.cancel();
      await inFlight;
    },
  };
}

export type BoundaryRunner = ReturnType<typeof startBoundaryRunner>;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function outcomeText(r: ExecuteResult): string {
  if (r.aborted) return `aborted: ${r.aborted.reason}`;
  return `${r.outcome}: ${r.removed.length} removed, ${r.reclaimedBytes} bytes`;
}
