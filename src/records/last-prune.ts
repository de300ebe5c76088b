import type { Observable, Subscription } from 'rxjs';
import type { StampedRecord } from './record-stream.js';
import type { PruneDoneRecord } from './record-types.js';

/** The last prune run this process saw end, as `/v1/status` shows it. */
export interface LastPruneRun {
  /** When its `prune.done` was recorded, ISO. */
  at: string;
  trigger: PruneDoneRecord['trigger'];
  outcome: PruneDoneRecord['outcome'];
  dryRun: boolean;
  removed: number;
  reclaimedBytes: number;
}

/** Follows the record stream for `prune.done`, whoever ran it (the boundary runner, a `prune --now`). */
export function followLastPrune(records$: Observable<StampedRecord>): {
  last(): LastPruneRun | undefined;
  sub: Subscription;
} {
  let last: LastPruneRun | undefined;
  const sub = records$.subscribe(({ at, record }) => {
    if (record.event !== 'prune.done') return;
    last = {
      at: new Date(at).toISOString(),
      trigger: record.trigger,
      outcome: record.outcome,
      dryRun: record.dryRun === true,
      removed: record.removed,
      reclaimedBytes: record.reclaimedBytes,
    };
  });
  return { last: () => last, sub };
}
