import { busyFields } from '../records/busy.js';
import type { IdleAnswer } from '../model/idle.js';
import type { Model, Note } from '../model/types.js';
import { decidingReading } from './filesystems.js';
import { type Decision, type DiskReading, decide, type ImageDiskReading, storeGate } from './gates.js';
import { type Plan, planPrune } from './plan.js';

export interface EvaluateInput {
  model: Model;
  idle: IdleAnswer;
  /** A reading of every filesystem that holds images (filesystems.ts `imageFilesystems`). */
  disks: ImageDiskReading[];
  minAgeMs: number;
  diskHighPercent: number;
  diskLowPercent?: number;
  /** The operator's opt-in to removal on the containerd image store (default off). */
  allowContainerdStoreRemoval?: boolean;
  now: number;
}

export interface Evaluation {
  at: number;
  plan: Plan;
  decision: Decision;
  /** The reading that decided: an unknown one, else the fullest. */
  disk: DiskReading;
  disks: ImageDiskReading[];
}

/**
 * One evaluation: the plan, then every gate on it, the image store's among them (from the model's
 * engine). Pure: the idle answer and the disk readings come in.
 */
export function evaluate(input: EvaluateInput): Evaluation {
  const plan = planPrune(input.model, { minAgeMs: input.minAgeMs }, input.now);
  const disk = decidingReading(input.disks);
  const decision = decide({
    idle: input.idle,
    disk,
    store: storeGate(input.model.engine?.imageStore, input.allowContainerdStoreRemoval === true),
    plan,
    diskHighPercent: input.diskHighPercent,
    ...(input.diskLowPercent !== undefined && { diskLowPercent: input.diskLowPercent }),
  });
  return { at: input.now, plan, decision, disk, disks: input.disks };
}

/** Candidates listed in full in a decision record; past this only the count and bytes are there. */
export const DECISION_CANDIDATES_MAX = 50;

export interface DecisionContext {
  trigger: 'schedule' | 'now';
  /** `on`, `dry-run`, or `off` (`--no-prune`: decided and logged, never executed). */
  mode: 'on' | 'dry-run' | 'off';
  boundary?: number;
  closesAt?: number;
}

/** The gates as records and documents show them (`prune.decision`, `plan --json`, `prune --json`). */
export function gatesFields(gates: Decision['gates']) {
  return { ...gates, idle: { ...gates.idle, busy: gates.idle.busy.map(busyFields) } };
}

/** The `prune.decision` record: whether it fires, every gate's value, the disk figures and the candidates. */
export function decisionNote(e: Evaluation, ctx: DecisionContext): Note {
  const shown = e.plan.candidates.slice(0, DECISION_CANDIDATES_MAX);
  return {
    event: 'prune.decision',
    trigger: ctx.trigger,
    mode: ctx.mode,
    ...(ctx.boundary !== undefined && { boundary: new Date(ctx.boundary).toISOString() }),
    ...(ctx.closesAt !== undefined && { windowClosesAt: new Date(ctx.closesAt).toISOString() }),
    fire: e.decision.fire,
    reasons: e.decision.reasons,
    gates: gatesFields(e.decision.gates),
    disk: e.disk,
    disks: e.disks,
    minAgeMs: e.plan.minAgeMs,
    candidates: shown.map((c) => ({
      kind: c.kind,
      id: c.id,
      refs: c.refs,
      bytes: c.bytes,
      untouchedFor: c.untouchedForText,
    })),
    ...(e.plan.candidates.length > shown.length && {
      candidatesOmitted: e.plan.candidates.length - shown.length,
    }),
    kept: e.plan.totals.kept,
  };
}
