import { isRun, liveRuns, type RunPolicy } from './services/stacks.js';
import type { Model } from './types.js';

/**
 * Why the host is busy. Times are the agent's clock in ms since the epoch; records and text format them
 * at the edge (src/records/busy.ts, `busyText`).
 */
export type BusyReason =
  | { reason: 'out-of-sync'; detail: string }
  | { reason: 'run-stack-live'; stack: string; kind: 'swarm' | 'compose'; since: number }
  | {
      reason: 'service-converging';
      service: string;
      stack?: string;
      desired: number;
      running: number;
      updateState?: string;
    }
  | {
      reason: 'service-stuck';
      service: string;
      stack?: string;
      desired: number;
      running: number;
      updateState?: string;
      failingTasks: number;
    }
  | { reason: 'recent-pull'; ref: string; at: number; quietUntil: number }
  | { reason: 'recent-container-start'; container: string; at: number; quietUntil: number };

export interface IdleAnswer {
  idle: boolean;
  busy: BusyReason[];
}

/** Busy this long after a pull or a container start, unless `--quiet-period` says otherwise. */
export const DEFAULT_QUIET_PERIOD_MS = 300_000;

export interface IdlePolicy extends RunPolicy {
  /** Milliseconds after a pull or a container start during which the host is still busy. */
  quietPeriodMs: number;
}

/**
 * Idle = in sync with the engine, no live run stack, no converging or stuck service, no pull or container
 * start within the quiet period. Every busy answer says why.
 */
export function idleAnswer(model: Model, policy: IdlePolicy, now: number): IdleAnswer {
  const busy: BusyReason[] = [];
  if (!model.sync.inSync) busy.push({ reason: 'out-of-sync', detail: model.sync.reason ?? 'not in sync' });
  for (const stack of liveRuns(model, policy)) {
    const s = model.liveStacks.get(stack);
    if (s) busy.push({ reason: 'run-stack-live', stack, kind: s.kind, since: s.since });
  }
  for (const s of model.services.values()) {
    // Infrastructure stacks (not runs, e.g. --ignore-stack) never hold the host busy, not even while they
    // roll out: the agent's own global service would otherwise keep every manager busy.
    if (s.stack && !isRun(policy, s.stack)) continue;
    const base = {
      service: s.name,
      ...(s.stack && { stack: s.stack }),
      desired: s.desired,
      running: s.running,
      ...(s.updateState && { updateState: s.updateState }),
    };
    if (s.state === 'converging') busy.push({ reason: 'service-converging', ...base });
    else if (s.state === 'stuck')
      busy.push({ reason: 'service-stuck', ...base, failingTasks: s.failingTasks });
  }
  busy.push(...quietReasons(model.activity, policy.quietPeriodMs, now));
  const unknown = model.activity.unknown;
  if (unknown && now < unknown.until) busy.push({ reason: 'out-of-sync', detail: unknown.detail });
  return { idle: busy.length === 0, busy };
}

/** The quiet period's busy reasons: a pull or a container start less than `quietPeriodMs` ago. */
function quietReasons(activity: Model['activity'], quietPeriodMs: number, now: number): BusyReason[] {
  const busy: BusyReason[] = [];
  const { pull, containerStart } = activity;
  if (pull && now - pull.at < quietPeriodMs) {
    busy.push({
      reason: 'recent-pull',
      ref: pull.ref,
      at: pull.at,
      quietUntil: pull.at + quietPeriodMs,
    });
  }
  if (containerStart && now - containerStart.at < quietPeriodMs) {
    busy.push({
      reason: 'recent-container-start',
      container: containerStart.name,
      at: containerStart.at,
      quietUntil: containerStart.at + quietPeriodMs,
    });
  }
  return busy;
}
