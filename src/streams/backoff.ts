export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A connection that stayed up this long resets the backoff. */
  resetAfterMs: number;
  /** Fraction of the delay added or taken away at random (0.2 = ±20 %). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  maxMs: 30_000,
  resetAfterMs: 60_000,
  jitter: 0.2,
};

/** Delay before reconnect attempt `attempt` (0-based): doubling from initial to max, with jitter. */
export function backoffDelay(
  opts: BackoffOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * opts.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}
