import type { Logger } from 'pino';
import { asyncScheduler, type Observable, type SchedulerLike, type Subscription, share } from 'rxjs';
import type { Config } from '../config/options.js';
import type { DockerPort } from '../docker/port.js';
import { bindNode } from '../log/logger.js';
import { type IdleAnswer, type IdlePolicy, idleAnswer } from '../model/idle.js';
import { PULL_BUDGET_WINDOW_MS } from '../model/images/pull-budget.js';
import type { Model } from '../model/types.js';
import { logRecords } from '../records/log-records.js';
import { createRecordStream, type RecordStream } from '../records/record-stream.js';
import { type AgentState, clocksOf, moveAside, saveState, stateFromModel } from '../state/state-file.js';
import { DEFAULT_BACKOFF } from '../streams/backoff.js';
import { createModelLoop, type ModelLoop, type ModelLoopOptions, type Tick } from '../streams/model-loop.js';
import { createPruneBook, type PruneBook } from './prune-book.js';
import { createIdleWatch, nextQuietExpiry } from './idle-watch.js';

export interface AgentOptions {
  config: Config;
  port: DockerPort;
  /** Where the agent's own record stream is logged when no `records` stream is given. */
  logger: Logger;
  /**
   * The one record stream (src/records): the agent emits its model's, its idle watch's and its state
   * file's records here. The caller that gives it has subscribed the logger; without one, the agent
   * makes its own and logs it to `logger`.
   */
  records?: RecordStream;
  state: AgentState;
  policy: IdlePolicy;
  scheduler?: SchedulerLike;
  /** The state file belongs to another process (an observer beside the agent): never written nor moved. */
  readOnly?: boolean;
  /** How often the clocks are written to the state file (default 60 s); always on stop. */
  saveEveryMs?: number;
  /** Events stream settings over those from the config (tests use short timings here). */
  stream?: ModelLoopOptions['stream'];
}

/** The events stream's watchdog and backoff from the operator's `--watchdog` and `--reconnect-max`. */
export function streamOptions(config: Config): NonNullable<ModelLoopOptions['stream']> {
  const maxMs = config.reconnectMaxMs;
  return {
    silenceMs: config.watchdogMs,
    // Long enough for a busy engine to answer, short enough to notice a frozen one soon after the silence.
    pingTimeoutMs: Math.min(5_000, Math.ceil(config.watchdogMs / 2)),
    backoff: { ...DEFAULT_BACKOFF, maxMs, initialMs: Math.min(DEFAULT_BACKOFF.initialMs, maxMs) },
  };
}

export interface RunningAgent {
  loop: ModelLoop;
  /** Every record an operator may read, whoever made it: the logger, metrics, report and status subscribe. */
  records: RecordStream;
  /** The shared tick stream (one model behind it). */
  ticks$: Observable<Tick>;
  model(): Model | undefined;
  /** Idle or busy now, with the reasons (undefined before the first tick): the one answer every consumer reads. */
  idle(): IdleAnswer | undefined;
  /** The agent's clock (its scheduler's): what idle, the schedule and the metrics are read against. */
  now(): number;
  /** Prune bookkeeping persisted with the clocks: the boundary runner records into it. */
  pruneBook: PruneBook;
  /** Stop watching and write the state file. */
  stop(): Promise<void>;
  saveNow(): Promise<void>;
}

/**
 * The resident agent's core: the model loop, its log records, idle/busy transitions (re-checked when a
 * quiet period runs out, not only on events) and the state file, written atomically on a timer and on stop.
 */
export function startAgent(opts: AgentOptions): RunningAgent {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const { config, policy } = opts;
  const records = opts.records ?? createRecordStream(scheduler);
  const logging = opts.records ? undefined : logRecords(records.records$, opts.logger);
  const emit = records.emit;
  const loop = createModelLoop({
    port: opts.port,
    policy,
    scheduler,
    savedClocks: clocksOf(opts.state),
    ...(opts.state.engineId && { savedEngineId: opts.state.engineId }),
    resyncMs: config.resyncMs,
    stream: { ...streamOptions(config), ...opts.stream },
    pullBudget: { limit: config.pullBudget, windowMs: PULL_BUDGET_WINDOW_MS },
  });
  const ticks$ = loop.ticks$.pipe(share());
  const pruneBook = createPruneBook(opts.state.prune);
  let model: Model | undefined;
  const idleWatch = createIdleWatch();
  let quietTimer: Subscription | undefined;
  let idleCheck: Subscription | undefined;
  let saving: Promise<void> = Promise.resolve();

  // Asked of the live model every time: the executor's re-check before a removal must never read an
  // answer older than the last event applied.
  const idle = () => (model ? idleAnswer(model, policy, scheduler.now()) : undefined);

  /** Logs idle/busy transitions; re-checked when a quiet period runs out, not only on events. */
  const evaluateIdle = () => {
    idleCheck = undefined;
    const answer = idle();
    if (!answer) return;
    const change = idleWatch(answer);
    if (change) emit(change);
    quietTimer?.unsubscribe();
    const expiry = nextQuietExpiry(answer);
    if (expiry !== undefined)
      quietTimer = scheduler.schedule(evaluateIdle, Math.max(0, expiry - scheduler.now()) + 1);
  };
  // Once per burst of ticks rather than per event: per event it was a quarter of the agent's CPU in a
  // profile under container churn (bench/), for transitions that only the last tick of a burst decides.
  const scheduleIdleCheck = () => {
    idleCheck ??= scheduler.schedule(evaluateIdle, 0);
  };

  // At most one write in flight and one queued, holding the newest snapshot: a disk that stalls (an fsync
  // that takes minutes) must not pile up a snapshot of every image per save interval.
  let queued: AgentState | undefined;
  const saveNow = () => {
    if (!model?.engine || opts.readOnly) return saving;
    const waiting = queued !== undefined;
    queued = stateFromModel(model, pruneBook.get(), scheduler.now());
    if (waiting) return saving;
    saving = saving
      .then(() => {
        const snapshot = queued;
        queued = undefined;
        return snapshot && saveState(config.stateFile, snapshot);
      })
      .catch((err: unknown) =>
        emit({ event: 'state.save-failed', level: 'error', err, path: config.stateFile }),
      );
    return saving;
  };

  const sub = ticks$.subscribe((tick) => {
    model = tick.model;
    // The node names every record from the first list on, that list's own records included.
    bindNode(opts.logger, model?.engine);
    for (const note of tick.step.notes) emit(note, { at: tick.at });
    for (const want of tick.step.wants)
      if (want.kind === 'set-state-aside' && !opts.readOnly)
        // The file belongs to another engine: keep it as evidence, start our own.
        moveAside(config.stateFile, tick.at).then(
          (to) => emit({ event: 'state.moved', level: 'warn', to }),
          () => {},
        );
    scheduleIdleCheck();
  });
  const saver = scheduler.schedule(function again(this: { schedule(state?: unknown, delay?: number): void }) {
    void saveNow();
    this.schedule(undefined, opts.saveEveryMs ?? 60_000);
  }, opts.saveEveryMs ?? 60_000);

  return {
    loop,
    records,
    ticks$,
    model: () => model,
    idle,
    now: () => scheduler.now(),
    pruneBook,
    saveNow,
    stop: async () => {
      // Evictions still waiting for their burst to settle are logged now, not lost.
      loop.push({ kind: 'evictions.settle', final: true });
      sub.unsubscribe();
      idleCheck?.unsubscribe();
      saver.unsubscribe();
      quietTimer?.unsubscribe();
      await saveNow();
      logging?.unsubscribe();
    },
  };
}
