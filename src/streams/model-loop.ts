import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import type { DockerPort } from '../docker/port.js';
import type { PullBudget } from '../model/images/pull-budget.js';
import type { RunPolicy } from '../model/services/stacks.js';
import type { ImageClocks, ModelInput } from '../model/types.js';
import type { EventStreamOptions } from './engine-events.js';
import { ListThenWatch, type Tick } from './list-then-watch.js';

export type { Tick } from './list-then-watch.js';

/** Periodic full re-list and diff (`--resync`). */
export const DEFAULT_RESYNC_MS = 300_000;

export interface ModelLoopOptions {
  port: DockerPort;
  policy: RunPolicy;
  scheduler?: SchedulerLike;
  savedClocks?: Map<string, ImageClocks>;
  savedEngineId?: string;
  /** Pulls per registry before a `pull.budget` warning (default 200 per 6 h). */
  pullBudget?: PullBudget;
  /** Periodic full re-list and diff (default 5 min). */
  resyncMs?: number;
  /** Events held while a full list runs; past this the buffer is dropped and the list repeated. */
  bufferLimit?: number;
  stream?: Omit<EventStreamOptions, 'port' | 'scheduler'>;
}

/** A handle on the running loop for code that must act on the engine in step with the model (the executor). */
export interface ModelLoop {
  ticks$: Observable<Tick>;
  /** Apply an input now (the executor announces its own removals this way). */
  push(input: ModelInput): void;
  /** Work not yet applied: refreshes queued or running, a full list in flight, events held during it. */
  queueDepth(): number;
}

/**
 * The one place that holds the live model: each subscription runs one list-then-watch
 * (src/streams/list-then-watch.ts), and `push` and `queueDepth` reach the run subscribed last.
 */
export function createModelLoop(opts: ModelLoopOptions): ModelLoop {
  let run: ListThenWatch | undefined;
  const ticks$ = new Observable<Tick>((out) => {
    const mine = new ListThenWatch(
      {
        port: opts.port,
        policy: opts.policy,
        scheduler: opts.scheduler ?? asyncScheduler,
        savedClocks: opts.savedClocks,
        savedEngineId: opts.savedEngineId,
        pullBudget: opts.pullBudget,
        resyncMs: opts.resyncMs ?? DEFAULT_RESYNC_MS,
        bufferLimit: opts.bufferLimit ?? 10_000,
        stream: opts.stream,
      },
      out,
    );
    run = mine;
    mine.start();
    return () => {
      mine.close();
      if (run === mine) run = undefined;
    };
  });
  return { ticks$, push: (input) => run?.push(input), queueDepth: () => run?.depth() ?? 0 };
}
