import type { EngineInfo } from '../docker/types.js';
import type { BusyReason, IdleAnswer } from '../model/idle.js';
import { busyText } from '../records/busy.js';
import type { Plan } from './plan.js';

export const DEFAULT_DISK_HIGH_PERCENT = 80;

/** The flag that lets the agent remove on the containerd image store (docs/containerd-store.md). */
export const CONTAINERD_STORE_OPT_IN = '--allow-containerd-store-removal';

/** Why a path is measured: the engine's root, containerd's root (that store only), or named by the operator. */
export type DiskRole = 'docker-root' | 'containerd-root' | 'disk-path';
/** A reading of one filesystem that holds images, with what it holds (src/prune/filesystems.ts). */
export type ImageDiskReading = DiskReading & { role: DiskRole };

/** Usage of a filesystem that holds images, or why it is unknown (an unknown disk never prunes). */
export type DiskReading = (
  | { path: string; ok: true; usedPercent: number; usedBytes: number; totalBytes: number; freeBytes: number }
  | { path: string; ok: false; reason: string }
) & { role?: DiskRole };

/**
 * Whether the agent may remove on this engine's image store. The graphdriver store is what the engine
 * suite proves; the containerd store's semantics were read from moby's source only, so removal there
 * waits for the operator's opt-in. An engine not known yet removes nothing.
 */
export interface StoreGate {
  pass: boolean;
  imageStore: EngineInfo['imageStore'] | 'unknown';
  allowContainerdStoreRemoval: boolean;
  reason?: string;
}

export function storeGate(imageStore: EngineInfo['imageStore'] | undefined, allow: boolean): StoreGate {
  const gate = { imageStore: imageStore ?? ('unknown' as const), allowContainerdStoreRemoval: allow };
  if (imageStore === 'graphdriver' || (imageStore === 'containerd' && allow)) return { pass: true, ...gate };
  const reason =
    imageStore === 'containerd'
      ? `image store containerd: removal off until the suite has run on a real engine with this store (${CONTAINERD_STORE_OPT_IN} opts in; docs/containerd-store.md)`
      : 'image store unknown: the engine has not answered /info yet';
  return { pass: false, ...gate, reason };
}

/** The figures of `fs.statfs` we read (numbers, or bigints from `{ bigint: true }`). */
export interface StatfsFigures {
  blocks: number | bigint;
  bfree: number | bigint;
  bavail: number | bigint;
  bsize: number | bigint;
}

export interface DecideInput {
  idle: IdleAnswer;
  /** The reading that decides (filesystems.ts `decidingReading`: an unknown one, else the fullest). */
  disk: DiskReading;
  store: StoreGate;
  plan: Plan;
  diskHighPercent: number;
  diskLowPercent?: number;
}

export interface Decision {
  fire: boolean;
  gates: {
    idle: { pass: boolean; busy: BusyReason[] };
    disk: { pass: boolean; path: string; usedPercent?: number; high: number; low?: number; reason?: string };
    candidates: { pass: boolean; count: number; bytes: number };
    store: StoreGate;
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
  const { idle, disk, store, plan, diskHighPercent: high, diskLowPercent: low } = input;
  const reasons: string[] = [];

  if (!idle.idle) reasons.push(...idle.busy.map(busyText));

  const diskGate: Decision['gates']['disk'] = {
    pass: false,
    path: disk.path,
    high,
    ...(low !== undefined && { low }),
  };
  if (!disk.ok) {
    diskGate.reason = `disk usage of ${disk.path} unknown: ${disk.reason}`;
  } else {
    diskGate.usedPercent = disk.usedPercent;
    diskGate.pass = disk.usedPercent >= high;
    if (!diskGate.pass)
      diskGate.reason = `disk ${percentText(disk.usedPercent)} below high-water ${high}% (fullest: ${disk.path})`;
  }
  if (diskGate.reason) reasons.push(diskGate.reason);

  const count = plan.candidates.length;
  if (count === 0) reasons.push('no candidates');
  if (store.reason) reasons.push(store.reason);

  return {
    fire: reasons.length === 0,
    gates: {
      idle: { pass: idle.idle, busy: idle.busy },
      disk: diskGate,
      candidates: { pass: count > 0, count, bytes: plan.totals.bytes },
      store,
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
