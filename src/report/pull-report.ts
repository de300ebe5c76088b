import type { PullClass } from '../model/types.js';

/** One `pull` record as the report reads it (from a live note or a saved log line). */
export interface PullRow {
  ref: string;
  image?: string;
  registry: string;
  class: PullClass;
  upToDate?: boolean;
  repeatOf?: string;
  previous?: string;
  layers: { total: number; new: number };
  bytes: { downloaded: number; reused: number; known: boolean };
  stacks: string[];
  at: string;
}

/** One `service.converged` record: a deploy and the pulls made for it. */
export interface DeployRow {
  service: string;
  stack?: string;
  image?: string;
  cause: string;
  since?: string;
  seconds: number;
  pulls: Array<{ ref: string; image?: string; class: PullClass; repeat?: boolean }>;
  layersDownloaded: number;
  bytesDownloaded: number;
}

/** One `pull.budget` warning. */
export interface BudgetRow {
  registry: string;
  pulls: number;
  budget: number;
  windowHours: number;
  threshold: string;
}

export interface ImageRow {
  image: string;
  refs: string[];
  pulls: number;
  cold: number;
  partial: number;
  warm: number;
  bytesDownloaded: number;
  bytesReused: number;
}

export interface PullTotals {
  pulls: number;
  cold: number;
  partial: number;
  warm: number;
  unknown: number;
  /** Warm pulls that repeat a pull made just before (swarm: one per task). */
  repeats: number;
  bytesDownloaded: number;
  bytesReused: number;
  /** Pulls whose bytes could not be known (their bytes count as 0). */
  bytesUnknown: number;
}

export interface PullSummary {
  pulls: PullRow[];
  /** Pulls counted in the totals but not listed (the list is bounded). */
  pullsNotListed: number;
  totals: PullTotals;
  images: ImageRow[];
  deploys: DeployRow[];
  budget: BudgetRow[];
}

export type Accepted =
  | { kind: 'pull'; row: PullRow }
  | { kind: 'deploy'; row: DeployRow }
  | { kind: 'budget'; row: BudgetRow };

/** Pulls listed in a summary at most (the totals count them all): `watch --report` may run for months. */
export const MAX_LISTED_PULLS = 50_000;

/** An empty summary, to be filled with `addToSummary`. */
export function emptySummary(): PullSummary {
  return {
    pulls: [],
    pullsNotListed: 0,
    totals: {
      pulls: 0,
      cold: 0,
      partial: 0,
      warm: 0,
      unknown: 0,
      repeats: 0,
      bytesDownloaded: 0,
      bytesReused: 0,
      bytesUnknown: 0,
    },
    images: [],
    deploys: [],
    budget: [],
  };
}

/** Adds one accepted record to a summary (in place; the live report and `report FILE` share this). */
export function addToSummary(summary: PullSummary, item: Accepted): void {
  if (item.kind === 'deploy') summary.deploys.push(item.row);
  else if (item.kind === 'budget') summary.budget.push(item.row);
  else addPull(summary, item.row);
}

function addPull(summary: PullSummary, row: PullRow): void {
  const t = summary.totals;
  t.pulls++;
  t[row.class]++;
  if (row.repeatOf) t.repeats++;
  if (!row.bytes.known) t.bytesUnknown++;
  t.bytesDownloaded += row.bytes.downloaded;
  t.bytesReused += row.bytes.reused;
  if (summary.pulls.length < MAX_LISTED_PULLS) summary.pulls.push(row);
  else summary.pullsNotListed++;
  if (!row.image) return;
  let img = summary.images.find((i) => i.image === row.image);
  if (!img) {
    img = {
      image: row.image,
      refs: [],
      pulls: 0,
      cold: 0,
      partial: 0,
      warm: 0,
      bytesDownloaded: 0,
      bytesReused: 0,
    };
    summary.images.push(img);
  }
  img.pulls++;
  if (row.class !== 'unknown') img[row.class]++;
  if (!img.refs.includes(row.ref)) img.refs.push(row.ref);
  img.bytesDownloaded += row.bytes.downloaded;
  img.bytesReused += row.bytes.reused;
}
