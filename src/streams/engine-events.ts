import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { DockerPort } from '../docker/port.js';
import type { EngineEvent } from '../docker/types.js';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { decodeEvent, nanoToSince } from './decode-event.js';
import { createSplitter, MAX_LINE_BYTES } from './split-lines.js';

export type StreamSignal =
  | { kind: 'up'; attempt: number }
  | { kind: 'event'; event: EngineEvent }
  | { kind: 'malformed'; reason: string; sample: string }
  | { kind: 'down'; reason: string; code?: string; retryInMs: number; attempt: number };

export interface EventStreamOptions {
  port: DockerPort;
  scheduler?: SchedulerLike;
  backoff?: BackoffOptions;
  maxLineBytes?: number;
  /** After this long without a byte, ping the engine; a ping that fails or hangs recycles the stream. */
  silenceMs?: number;
  pingTimeoutMs?: number;
  /** When set, each connection asks the engine to end it after this long (`until`), and a fresh one follows. */
  recycleMs?: number;
  random?: () => number;
}

/** Slow retries for a socket we may not open: the fix is an operator's, and a log flood helps nobody. */
const PERMISSION_CODES = new Set(['EACCES', 'EPERM']);

/**
 * The engine's events, forever. Drains the socket at once (no work but splitting and decoding on the
 * reading path), reconnects with jittered exponential backoff (reset after a healthy period), resumes
 * with `since` the last event seen to narrow a gap, and recycles a connection that has gone silent
 * when a ping with a timeout fails. Every connect is announced with `up`: the caller must re-list.
 */
export function engineEvents$(opts: EventStreamOptions): Observable<StreamSignal> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const silenceMs = opts.silenceMs ?? 30_000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 5_000;
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;

  return new Observable<StreamSignal>((out) => {
    let attempt = 0;
    let lastNano: string | undefined;
    let conn: Subscription | undefined;
    // One slot per timer: a connection that lives for months must not accumulate handles.
    let watchTimer: Subscription | undefined;
    let pingTimer: Subscription | undefined;
    let retryTimer: Subscription | undefined;
    let closed = false;

    const clearTimers = () => {
      watchTimer?.unsubscribe();
      pingTimer?.unsubscribe();
      retryTimer?.unsubscribe();
    };

    const connect = () => {
      if (closed) return;
      const splitter = createSplitter(maxLine);
      let openedAt: number | undefined;
      let lastByteAt = scheduler.now();
      let done = false;
      const since = lastNano ? nanoToSince(lastNano) : undefined;
      const until = opts.recycleMs
        ? nanoToSince(`${BigInt(scheduler.now() + opts.recycleMs) * 1_000_000n}`)
        : undefined;

      const down = (reason: string, code?: string) => {
        if (done || closed) return;
        done = true;
        conn?.unsubscribe();
        clearTimers();
        const healthy = openedAt !== undefined && scheduler.now() - openedAt >= backoff.resetAfterMs;
        if (healthy) attempt = 0;
        const planned = reason === 'recycled';
        const retryInMs = planned
          ? 0
          : code && PERMISSION_CODES.has(code)
            ? backoff.maxMs
            : backoffDelay(backoff, attempt, opts.random);
        if (!planned) attempt++;
        out.next({ kind: 'down', reason, ...(code && { code }), retryInMs, attempt });
        retryTimer = scheduler.schedule(connect, retryInMs);
      };

      const watch = () => {
        if (done || closed) return;
        const quiet = scheduler.now() - lastByteAt;
        if (quiet < silenceMs) {
          watchTimer = scheduler.schedule(watch, silenceMs - quiet);
          return;
        }
        let answered = false;
        pingTimer = scheduler.schedule(() => {
          if (!answered) down(`engine silent for ${silenceMs} ms and ping timed out`);
        }, pingTimeoutMs);
        opts.port.ping(pingTimeoutMs).then(
          () => {
            answered = true;
            pingTimer?.unsubscribe();
            lastByteAt = scheduler.now();
            if (!done) watchTimer = scheduler.schedule(watch, silenceMs);
          },
          (err: unknown) => {
            answered = true;
            down(`ping failed after silence: ${message(err)}`, codeOf(err));
          },
        );
      };

      conn = opts.port.events({ ...(since && { since }), ...(until && { until }) }).subscribe({
        next: (frame) => {
          lastByteAt = scheduler.now();
          if (frame.kind === 'open') {
            openedAt = scheduler.now();
            out.next({ kind: 'up', attempt });
            watchTimer = scheduler.schedule(watch, silenceMs);
            return;
          }
          for (const line of splitter.push(frame.chunk)) {
            if (line.kind === 'too-long') {
              out.next({
                kind: 'malformed',
                reason: `line over ${maxLine} bytes (${line.bytes})`,
                sample: line.sample,
              });
              continue;
            }
            const decoded = decodeEvent(line.text);
            if (decoded.ok) {
              lastNano = decoded.event.timeNano;
              out.next({ kind: 'event', event: decoded.event });
            } else out.next({ kind: 'malformed', reason: decoded.reason, sample: decoded.sample });
          }
        },
        error: (err: unknown) => down(message(err), codeOf(err)),
        complete: () => down(until ? 'recycled' : 'engine ended the stream'),
      });
    };

    connect();
    return () => {
      closed = true;
      conn?.unsubscribe();
      clearTimers();
    };
  });
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
