import type { BusyReason, IdleAnswer } from '../model/idle.js';
import { busyText } from '../records/busy.js';
import type { Plan } from './plan.js';

export const DEFAULT_DISK_HIGH_PERCENT = 80;

/** Usage of the filesystem holding the Docker root, or why it is unknown (an unknown disk never prunes). */
export type DiskReading =
  | { path: string; ok: true; usedPercent: number; usedBytes: number; totalBytes: number; freeBytes: number }
  | { path: string; ok: false; reason: string };

/** The figures of `fs.statfs` we read (numbers, or bigints from `{ bigint: true }`). */
export interface StatfsFigures {
  blocks: number | bigint;
  bfree: number | bigint;
  bavail: number | bigint;
  bsize: number | bigint;
}

export interface DecideInput {
  idle: IdleAnswer;
  disk: DiskReading;
  plan: Plan;
  diskHighPercent: number;
  diskLowPercent?: number;
}

export interface Decision {
  fire: boolean;
  gates: {
    idle: { pass: boolean; busy: BusyReason[] };
    disk: { pass: boolean; usedPercent?: number; high: number; low?: number; reason?: string };
    candidates: { pass: boolean; count: number; bytes: number };
  };
  /** Why it does not fire, one line per failing gate (busy reasons one each); empty when it fires. */
  reasons: string[];
}

/**
 * Computes usage like df: used = (blocks − bfree) × bsize, free = bavail × bsize (what unprivileged
 * writers can still use), percent = used / (used + free). Zero or inconsistent figures are unknown.
 */
export function diskReadingFromStatfs(path: string, figures: StatfsFigures): DiskReading {
  const blocks = Number(figures.blocks);
  const bfree = Number(figures.bfree);
  const bavail = Number(figures.bavail);
  const bsize = Number(figures.bsize);
  const unknown = (why: string): DiskReading => ({
    path,
    ok: false,
    reason: `${why} (blocks ${figures.blocks}, bfree ${figures.bfree}, bavail ${figures.bavail}, bsize ${figures.bsize})`,
  });
  if (![blocks, bfree, bavail, bsize].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    return unknown('statfs figures are not whole non-negative numbers');
  }
  if (blocks === 0 || bsize === 0) return unknown('statfs reports an empty filesystem');
  if (bfree > blocks || bavail > bfree) return unknown('statfs figures are inconsistent');
  const usedBytes = (blocks - bfree) * bsize;
  const freeBytes = bavail * bsize;
  if (usedBytes + freeBytes === 0) return unknown('statfs reports no usable space');
  const usedPercent = (usedBytes / (usedBytes + freeBytes)) * 100;
  return { path, ok: true, usedPercent, usedBytes, totalBytes: blocks * bsize, freeBytes };
}

/**
 * The prune decision: idle, disk at or above the high-water mark, and candidates (the build cache alone
 * is not one). Every gate's value is in the result, so `prune.decision` can log all of them.
 */
export function decide(input: DecideInput): Decision {
  const { idle, disk, plan, diskHighPercent: high, diskLowPercent: low } = input;
  const reasons: string[] = [];

  if (!idle.idle) reasons.push(...idle.busy.map(busyText));

  const diskGate: Decision['gates']['disk'] = { pass: false, high, ...(low !== undefined && { low }) };
  if (!disk.ok) {
    diskGate.reason = `disk usage of ${disk.path} unknown: ${disk.reason}`;
  } else {
    diskGate.usedPercent = disk.usedPercent;
    diskGate.pass = disk.usedPercent >= high;
    if (!diskGate.pass) diskGate.reason = `disk ${percentText(disk.usedPercent)} below high-water ${high}%`;
  }
  if (diskGate.reason) reasons.push(diskGate.reason);

  const count = plan.candidates.length;
  if (count === 0) reasons.push('no candidates');

  return {
    fire: reasons.length === 0,
    gates: {
      idle: { pass: idle.idle, busy: idle.busy },
      disk: diskGate,
      candidates: { pass: count > 0, count, bytes: plan.totals.bytes },
    },
    reasons,
  };
}

/**
 * Whether the executor should stop early: the disk is below the low-water mark, or can no longer be
 * read (stop rather than go on blind). Without a low-water mark it never stops on disk grounds.
 */
export function belowLowWater(disk: DiskReading, low: number | undefined): boolean {
  if (low === undefined) return false;
  return !disk.ok || disk.usedPercent < low;
}

function percentText(p: number): string {
  return `${p.toFixed(1)}%`;
}
