import type { DockerPort } from '../docker/port.js';
import type { IdleAnswer } from '../model/idle.js';
import type { Model, ModelInput, Note } from '../model/types.js';
import type { DiskReading } from './gates.js';
import type { Candidate, Plan, PrunePolicy } from './plan.js';
import type { RemovalVerdict } from './removal.js';

/** The live model as the executor sees it: read fresh before every removal. */
export interface LiveView {
  model(): Model | undefined;
  /** A fresh idle answer (computed at the call, not cached); undefined before the first list. */
  idle(): IdleAnswer | undefined;
  /** Feeds the model loop (the executor announces its own image removals). */
  push(input: ModelInput): void;
  /**
   * Resolves once the model has applied what the engine has said so far, as far as can be known.
   * `engineJustAnswered`: the engine answered a request of ours and nothing but local work has happened
   * since, so that answer already is the round trip the barrier needs.
   */
  settle(opts?: SettleHint): Promise<{ ok: true } | { ok: false; reason: string }>;
}

export interface SettleHint {
  engineJustAnswered?: boolean;
}

export interface ExecutorDeps {
  port: DockerPort;
  live: LiveView;
  /** Where `prune.*` records go (a logger in the agent, a list in tests). */
  log: (note: Note) => void;
  now: () => number;
  /** The reading that decides (an unknown one, else the fullest of every filesystem holding images). */
  readDisk: () => Promise<DiskReading>;
}

export interface ExecuteRequest {
  plan: Plan;
  policy: PrunePolicy;
  dryRun: boolean;
  diskLowPercent?: number;
  /** The operator's opt-in to removal on the containerd image store, re-checked before every removal. */
  allowContainerdStoreRemoval?: boolean;
  /** Set by the caller to stop before the next removal (the agent is stopping). */
  stopRequested?: () => boolean;
  /** Copied into every record: `schedule` with its boundary, or `now`. */
  context: { trigger: 'schedule' | 'now'; boundary?: string };
}

export type PrunedKind = Candidate['kind'] | 'build-cache';
export interface Removed {
  kind: PrunedKind;
  id: string;
  refs: string[];
  /** What the removal freed: an image's layers no other image holds; the engine's figure for the cache. */
  bytes: number;
  /** The engine's size of an image (layers shared with other images included); 0 for the rest. */
  size: number;
  /**
   * An image removed by its references (they spanned repositories): the references DELETEd in turn,
   * each untagging one, the last deleting the image. A dry run: the references it would send.
   */
  byRefs?: string[];
}
export interface Skipped {
  kind: PrunedKind;
  id: string;
  reason: string;
}
export interface Aborted {
  reason: string;
  busy?: string[];
  /** True when the same evaluation may be tried again later (the engine's own prune held the lock). */
  retryable: boolean;
}

export interface ExecuteResult {
  outcome: 'done' | 'aborted' | 'low-water' | 'refused';
  removed: Removed[];
  /** Dry run: what would have gone. */
  wouldRemove: Removed[];
  skipped: Skipped[];
  alreadyGone: Array<{ kind: PrunedKind; id: string }>;
  reclaimedBytes: number;
  aborted?: Aborted;
  durationMs: number;
}

/** One run as each candidate's removal sees it (built in executor.ts, used by remove-candidate.ts). */
export interface RunContext {
  deps: ExecutorDeps;
  req: ExecuteRequest;
  /** Copied into every record: the request's context, and `dryRun: true` in a dry run. */
  ctx: ExecuteRequest['context'] & { dryRun?: true };
  result: ExecuteResult;
  /** The barrier before every request: settled, idle, above low-water. False: the run stops (logged). */
  settled(): Promise<boolean>;
  /** The engine's answer to a request: a real one is the next barrier's round trip. */
  answered(verdict: RemovalVerdict): void;
  /**
   * Counts and logs an item's final verdict, with `extra` fields for its record. False: the run stops.
   */
  record(verdict: RemovalVerdict, item: Removed, extra?: { untagged?: string[] }): boolean;
}

/** A result with nothing in it yet. */
export function emptyResult(): ExecuteResult {
  return {
    outcome: 'done',
    removed: [],
    wouldRemove: [],
    skipped: [],
    alreadyGone: [],
    reclaimedBytes: 0,
    durationMs: 0,
  };
}
