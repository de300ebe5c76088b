import type { Model, Note, RegistryWindow } from '../types.js';

/** How many pulls a registry allows per window (Docker Hub, authenticated: 200 per 6 h). */
export interface PullBudget {
  limit: number;
  windowMs: number;
}

/** The budget's window, fixed at Docker Hub's (6 h); `--pull-budget` sets the count. */
export const PULL_BUDGET_WINDOW_MS = 6 * 3_600_000;
export const DEFAULT_PULL_BUDGET: PullBudget = { limit: 200, windowMs: PULL_BUDGET_WINDOW_MS };
/** Share of the budget at which a `near` warning is written. */
export const NEAR_SHARE = 0.8;

const BUCKET_MS = 60_000;
/** Registries tracked at once; the one idle longest is forgotten first. */
const MAX_REGISTRIES = 64;

type Level = RegistryWindow['reported'];
const RANK: Record<Level, number> = { ok: 0, near: 1, exceeded: 2 };

/** `near` from 80 % of the limit (rounded up), `exceeded` past the limit. */
export function budgetLevel(pulls: number, budget: PullBudget): Level {
  if (pulls > budget.limit) return 'exceeded';
  return pulls >= Math.ceil(budget.limit * NEAR_SHARE) ? 'near' : 'ok';
}

/**
 * Counts one pull against its registry's rolling window (one-minute buckets, so memory per registry is
 * bounded by the window, not by the pulls) and returns a `pull.budget` warning when the count crosses
 * a level upwards: once per crossing, not once per pull. Falling back below re-arms it.
 */
export function countPull(model: Model, registry: string, at: number, budget: PullBudget): Note | undefined {
  const window = windowOf(model, registry, at);
  const minute = Math.floor(at / BUCKET_MS);
  window.buckets.set(minute, (window.buckets.get(minute) ?? 0) + 1);
  window.lastAt = Math.max(window.lastAt, at);
  const pulls = pullsInWindow(window, at, budget);
  const level = budgetLevel(pulls, budget);
  const before = window.reported;
  window.reported = level;
  if (level === 'ok' || RANK[level] <= RANK[before]) return undefined;
  return {
    event: 'pull.budget',
    // `level` is the log level of every record: the crossing is named `threshold`.
    level: level === 'exceeded' ? 'error' : 'warn',
    registry,
    pulls,
    budget: budget.limit,
    windowHours: budget.windowMs / 3_600_000,
    threshold: level,
  };
}

/** Pulls counted for a registry within the window ending at `now` (minute resolution). */
export function pullsInWindow(window: RegistryWindow, now: number, budget: PullBudget): number {
  const oldest = Math.floor((now - budget.windowMs) / BUCKET_MS) + 1;
  let total = 0;
  for (const [minute, count] of window.buckets) {
    if (minute < oldest) window.buckets.delete(minute);
    else total += count;
  }
  return total;
}

function windowOf(model: Model, registry: string, at: number): RegistryWindow {
  const known = model.pullWindows.get(registry);
  if (known) return known;
  if (model.pullWindows.size >= MAX_REGISTRIES) {
    let idlest: string | undefined;
    let idlestAt = Number.POSITIVE_INFINITY;
    for (const [name, w] of model.pullWindows) if (w.lastAt < idlestAt) [idlest, idlestAt] = [name, w.lastAt];
    if (idlest !== undefined) model.pullWindows.delete(idlest);
  }
  const fresh: RegistryWindow = { buckets: new Map(), reported: 'ok', lastAt: at };
  model.pullWindows.set(registry, fresh);
  return fresh;
}
