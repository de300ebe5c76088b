import type { PullBudget } from './images/pull-budget.js';
import type { RunPolicy } from './services/stacks.js';

/** What the reducer is given beside the model and the input: no clock nor policy of its own. */
export interface ApplyContext {
  /** The agent's clock, ms since the epoch. */
  now: number;
  policy: RunPolicy;
  /** Pulls per registry before a `pull.budget` warning (default 200 per 6 h). */
  pullBudget?: PullBudget;
}
