import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import type { DockerPort } from '../docker/port.js';
import type { IdleAnswer } from '../model/idle.js';
import type { SettleHint } from '../prune/execute-types.js';

export interface SettleOptions {
  port: DockerPort;
  /** Refreshes (lists, inspects) the model loop still has to apply. */
  queueDepth: () => number;
  idle: () => IdleAnswer | undefined;
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * A barrier before each removal: a round trip to the engine (an event it published before answering has
 * had time to reach our events socket), a turn of the event loop (so the socket's data is applied), then
 * the refreshes those events asked for (a `service create` becomes busy only once the service list is in).
 * The round trip is a ping, unless the caller says the engine has just answered one of its requests (the
 * previous removal): that answer bounds what we may have missed exactly as a ping's would, one round trip
 * sooner. It gives up early once the host is busy anyway. What it cannot close: an event the engine has
 * not published yet when it answers — a deploy that starts during the removal itself.
 */
export function createSettle(
  opts: SettleOptions,
): (hint?: SettleHint) => Promise<{ ok: true } | { ok: false; reason: string }> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 20;
  return async (hint) => {
    if (!hint?.engineJustAnswered) {
      try {
        await opts.port.ping(5_000);
      } catch (err) {
        return {
          ok: false,
          reason: `engine not answering: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
    await tick();
    const deadline = performance.now() + timeoutMs;
    while (opts.queueDepth() > 0) {
      if (opts.idle()?.idle === false) return { ok: true };
      if (performance.now() >= deadline) return { ok: false, reason: 'model did not settle' };
      await sleep(pollMs);
    }
    return { ok: true };
  };
}
