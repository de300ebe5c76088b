import { Cron } from 'croner';
import { LayerwardenError } from '../errors.js';
import { isUtcZone } from './zone.js';

export const DEFAULT_CRON = '0 0 * * *';
export const DEFAULT_WINDOW_MS = 6 * 3600_000;

export interface ScheduleConfig {
  /** Five- or six-field cron expression; default midnight. */
  cron?: string;
  /** IANA time zone; the caller resolves the process's own zone when none is configured. */
  tz: string;
  /** How long a boundary stays open for its one evaluation; default 6 h. */
  windowMs?: number;
}

export interface Schedule {
  cron: string;
  tz: string;
  windowMs: number;
  readonly job: Cron;
  /** Where it reads wall-clock time: as UTC, from the process clock, or from a date-time format (zone.ts). */
  readonly clock: Clock['kind'];
  /** Local wall-clock time of an instant, read as if it were UTC (ms), to whole seconds. */
  readonly wallClock: (at: number) => number;
}

/** The window a boundary opens: [boundary, closesAt), ms since the epoch. */
export interface Window {
  boundary: number;
  closesAt: number;
}

export type Due =
  | { due: true; boundary: number; closesAt: number }
  | { due: false; reason: 'evaluated' | 'outside-window'; nextCheckAt: number };

/** Enough steps to walk past any run of repeated wall-clock times (a DST fall-back hour). */
const MAX_STEPS = 1000;

/**
 * Validates the configuration into a schedule. A bad cron, an unknown zone, a non-positive window or a
 * pattern that never fires is a `config` error with a one-line message.
 */
export function parseSchedule(config: ScheduleConfig): Schedule {
  const cron = config.cron ?? DEFAULT_CRON;
  const windowMs = config.windowMs ?? DEFAULT_WINDOW_MS;
  const { tz } = config;
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new LayerwardenError('config', `prune window must be a positive duration, got ${windowMs} ms`);
  }
  const clock = clockOf(tz);
  let job: Cron;
  try {
    // "no-wildcard": a list or range of hours (`30 1,13 * * *`) is fixed-time too, so croner runs it
    // once on a fall-back day and at the jump on a spring-forward day, like a single time.
    job = new Cron(cron, { ...clock.cron, paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' });
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.replace(/^CronPattern: /, '') : String(cause);
    throw new LayerwardenError('config', `bad prune schedule '${cron}': ${detail}`, { cause });
  }
  const schedule: Schedule = { cron, tz, windowMs, job, clock: clock.kind, wallClock: clock.wallClock };
  if (job.nextRun(new Date(0)) === null) {
    throw new LayerwardenError('config', `prune schedule '${cron}' never fires`);
  }
  return schedule;
}

/** The first boundary strictly after `now`. */
export function nextBoundary(schedule: Schedule, now: number): number {
  let from = now;
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = schedule.job.nextRun(new Date(from))?.getTime();
    if (next === undefined) break;
    if (!isRepeatedWallClock(schedule, next)) return next;
    from = next;
  }
  throw new LayerwardenError('internal', `prune schedule '${schedule.cron}' has no next boundary`);
}

/** The most recent boundary at or before `now`, or undefined when there is none. */
export function previousBoundary(schedule: Schedule, now: number): number | undefined {
  let before = now + 1; // croner's previousRuns excludes the reference itself
  for (let i = 0; i < MAX_STEPS; i++) {
    const prev = schedule.job.previousRuns(1, new Date(before))[0]?.getTime();
    if (prev === undefined) return undefined;
    if (!isRepeatedWallClock(schedule, prev)) return prev;
    before = prev;
  }
  return undefined;
}

/** The window of the most recent boundary at or before `now`, while it is still open. */
export function currentWindow(schedule: Schedule, now: number): Window | undefined {
  const boundary = previousBoundary(schedule, now);
  if (boundary === undefined || now >= boundary + schedule.windowMs) return undefined;
  return { boundary, closesAt: boundary + schedule.windowMs };
}

/**
 * Whether an evaluation is due now. At most one per boundary, and never for a boundary at or before the
 * last one evaluated (so a clock that jumps back repeats nothing); only the latest boundary can be due,
 * so a clock that jumps forward over several boundaries catches up once. When not due, `nextCheckAt` is
 * the next boundary that could be: sleep until then.
 */
export function dueEvaluation(schedule: Schedule, now: number, lastEvaluatedBoundary?: number): Due {
  const window = currentWindow(schedule, now);
  const last = lastEvaluatedBoundary ?? Number.NEGATIVE_INFINITY;
  if (window && window.boundary > last) return { due: true, ...window };
  const nextCheckAt = nextBoundary(schedule, Math.max(now, last));
  return { due: false, reason: window ? 'evaluated' : 'outside-window', nextCheckAt };
}

/**
 * Boundaries after `lastEvaluatedBoundary` that will never be evaluated: their window closed, or a later
 * boundary superseded them. Oldest first, at most `limit` (the most recent ones). The caller logs each as
 * `prune.skipped` and records the latest as settled. Nothing is missed before a first evaluation.
 */
export function missedWindows(
  schedule: Schedule,
  lastEvaluatedBoundary: number | undefined,
  now: number,
  limit = 31,
): Window[] {
  if (lastEvaluatedBoundary === undefined) return [];
  const open = currentWindow(schedule, now)?.boundary;
  const missed: Window[] = [];
  let boundary = previousBoundary(schedule, now);
  while (boundary !== undefined && boundary > lastEvaluatedBoundary && missed.length < limit) {
    if (boundary !== open) missed.unshift({ boundary, closesAt: boundary + schedule.windowMs });
    boundary = previousBoundary(schedule, boundary - 1);
  }
  return missed;
}

/**
 * True when `at` is the second occurrence of a wall-clock time (the repeated hour of a DST fall-back):
 * a daily boundary there would run twice. Croner already runs fixed-time patterns once; this also holds
 * for stepped patterns (`*\/30 1 * * *`), which croner treats as intervals.
 */
function isRepeatedWallClock(schedule: Schedule, at: number): boolean {
  const shift = offsetAt(schedule, at - 3 * 3600_000) - offsetAt(schedule, at);
  return shift > 0 && schedule.wallClock(at - shift) === schedule.wallClock(at);
}

const offsetAt = (schedule: Schedule, at: number) => schedule.wallClock(at) - wholeSeconds(at);

interface Clock {
  kind: 'utc' | 'process' | 'format';
  cron: { utcOffset: 0 } | { timezone: string } | Record<string, never>;
  wallClock: (at: number) => number;
}

const wholeSeconds = (at: number) => Math.floor(at / 1000) * 1000;

/**
 * How the schedule reads wall-clock time in `tz`: as UTC for a zero-offset zone; from the process clock
 * when `tz` is the process's own zone (`adoptZone`), which costs no memory; else from a date-time format,
 * which costs ICU's locale data (zone.ts). All three read the same times (test/prune/schedule.test.ts).
 */
function clockOf(tz: string): Clock {
  if (isUtcZone(tz)) return { kind: 'utc', cron: { utcOffset: 0 }, wallClock: wholeSeconds };
  if (process.env.TZ === tz) {
    return {
      kind: 'process',
      cron: {},
      wallClock: (at) => {
        const d = new Date(at);
        return Date.UTC(
          d.getFullYear(),
          d.getMonth(),
          d.getDate(),
          d.getHours(),
          d.getMinutes(),
          d.getSeconds(),
        );
      },
    };
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (cause) {
    throw new LayerwardenError('config', `unknown time zone '${tz}'`, { cause });
  }
  return {
    kind: 'format',
    cron: { timezone: tz },
    wallClock: (at) => {
      const f: Record<string, number> = {};
      for (const p of format.formatToParts(at)) if (p.type !== 'literal') f[p.type] = Number(p.value);
      return Date.UTC(f.year ?? 0, (f.month ?? 1) - 1, f.day, f.hour, f.minute, f.second);
    },
  };
}
