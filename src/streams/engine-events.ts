import { asyncScheduler, Observable, type SchedulerLike, Subscription } from 'rxjs';
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

/** A stream silent this long is pinged (`--watchdog`). */
export const DEFAULT_SILENCE_MS = 30_000;

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
  const silenceMs = opts.silenceMs ?? DEFAULT_SILENCE_MS;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 5_000;
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;

  return new Observable<StreamSignal>((out) => {
    let attempt = 0;
    let lastNano: string | undefined;
    let current: Subscription | undefined;
    let retryTimer: Subscription | undefined;
    let closed = false;

    const connect = () => {
      if (closed) return;
      // Everything one connection owns (its socket, its watchdog and ping timers) lives and dies with it:
      // a late answer to an old connection's ping must not touch the next connection's timers. One slot
      // per timer: a connection that lives for months must not accumulate handles.
      const own = new Subscription();
      current = own;
      let watchTimer: Subscription | undefined;
      let pingTimer: Subscription | undefined;
      own.add(() => {
        watchTimer?.unsubscribe();
        pingTimer?.unsubscribe();
      });
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
        own.unsubscribe();
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

      // The watchdog runs from the moment we dial, not from `open`: a frozen daemon accepts the
      // connection (the kernel does) but never answers the request, and that must be noticed too.
      const watch = () => {
        if (done || closed) return;
        const quiet = scheduler.now() - lastByteAt;
        if (quiet < silenceMs) {
          watchTimer = scheduler.schedule(watch, silenceMs - quiet);
          return;
        }
        let answered = false;
        const what = openedAt === undefined ? 'no answer to the events request' : 'engine silent';
        pingTimer = scheduler.schedule(() => {
          if (!answered) down(`${what} for ${silenceMs} ms and ping timed out`);
        }, pingTimeoutMs);
        opts.port.ping(pingTimeoutMs).then(
          () => {
            answered = true;
            if (done || closed) return;
            pingTimer?.unsubscribe();
            // A live engine with nothing to say is fine; one that answers pings but not our request is not.
            if (openedAt === undefined) return down(`${what} for ${silenceMs} ms (ping answered)`);
            lastByteAt = scheduler.now();
            watchTimer = scheduler.schedule(watch, silenceMs);
          },
          (err: unknown) => {
            answered = true;
            down(`ping failed after silence: ${message(err)}`, codeOf(err));
          },
        );
      };
      watchTimer = scheduler.schedule(watch, silenceMs);

      own.add(
        opts.port.events({ ...(since && { since }), ...(until && { until }) }).subscribe({
          next: (frame) => {
            lastByteAt = scheduler.now();
            if (frame.kind === 'open') {
              openedAt = scheduler.now();
              out.next({ kind: 'up', attempt });
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
        }),
      );
    };

    connect();
    return () => {
      closed = true;
      current?.unsubscribe();
      retryTimer?.unsubscribe();
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
