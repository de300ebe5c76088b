/**
 * The cluster view of several nodes' logs: per node totals, and what a shared pull-through cache would
 * have served, the downloads of an image another node already held at the time, per day and registry.
 * Pure: records in (each tagged with its node), figures out.
 */
import type { PullTotals } from './pull-report.js';

type Rec = Record<string, unknown>;

export interface NodeKey {
  /** The engine ID from the records' `node.id`, or the file's name when its records name no node. */
  id: string;
  name?: string;
}

export interface ClusterNodeRow extends NodeKey {
  pulls: number;
  cold: number;
  partial: number;
  warm: number;
  bytesDownloaded: number;
  evictions: number;
}

export interface SharedCacheRow {
  /** UTC day of the pulls, YYYY-MM-DD. */
  day: string;
  registry: string;
  pulls: number;
  bytes: number;
}

export interface ClusterSection {
  nodes: ClusterNodeRow[];
  /**
   * Pulls that downloaded layers of an image some other node held at that moment (it had pulled that
   * image and not lost it since): what one pull-through cache for the cluster would have served from its
   * own store instead of the registry. Images a node held without pulling (built, loaded, or pulled
   * before its log begins) are not known here, so these are lower bounds.
   */
  sharedCache: { pulls: number; bytes: number; byDay: SharedCacheRow[] };
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const obj = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});

type Step = { at: string; node: string; kind: 'pull' | 'eviction'; r: Rec };

/** The cluster section from each node's audited records (`pull` and `eviction`; others are ignored). */
export function clusterSection(
  nodes: Array<{ node: NodeKey; totals: PullTotals; records: Iterable<unknown> }>,
): ClusterSection {
  const steps: Step[] = [];
  const rows: ClusterNodeRow[] = [];
  for (const { node, totals, records } of nodes) {
    let evictions = 0;
    for (const raw of records) {
      const r = obj(raw);
      if (r.event !== 'pull' && r.event !== 'eviction') continue;
      const at = str(r.at) ?? str(r.time);
      if (!at || !str(r.image)) continue;
      if (r.event === 'eviction') evictions++;
      steps.push({ at, node: node.id, kind: r.event, r });
    }
    rows.push({
      ...node,
      pulls: totals.pulls,
      cold: totals.cold,
      partial: totals.partial,
      warm: totals.warm,
      bytesDownloaded: totals.bytesDownloaded,
      evictions,
    });
  }
  // Time order across nodes (ISO strings of one clock each; NTP keeps a cluster's clocks together). An
  // eviction and a pull at the same instant: the eviction first.
  steps.sort((a, b) => (a.at === b.at ? (a.kind === 'eviction' ? -1 : 1) : a.at < b.at ? -1 : 1));
  const holders = new Map<string, Set<string>>();
  const byDay = new Map<string, SharedCacheRow>();
  let pulls = 0;
  let bytes = 0;
  for (const s of steps) {
    const image = s.r.image as string;
    let held = holders.get(image);
    if (s.kind === 'eviction') {
      held?.delete(s.node);
      if (held?.size === 0) holders.delete(image);
      continue;
    }
    const downloaded = num(obj(s.r.bytes).downloaded);
    const cls = s.r.class;
    if ((cls === 'cold' || cls === 'partial') && held && [...held].some((n) => n !== s.node)) {
      const day = s.at.slice(0, 10);
      const registry = str(s.r.registry) ?? '';
      const key = `${day}|${registry}`;
      const row = byDay.get(key) ?? { day, registry, pulls: 0, bytes: 0 };
      row.pulls++;
      row.bytes += downloaded;
      byDay.set(key, row);
      pulls++;
      bytes += downloaded;
    }
    if (!held) {
      held = new Set();
      holders.set(image, held);
    }
    held.add(s.node);
  }
  const sorted = [...byDay.values()].sort((a, b) =>
    a.day === b.day ? a.registry.localeCompare(b.registry) : a.day < b.day ? -1 : 1,
  );
  return { nodes: rows, sharedCache: { pulls, bytes, byDay: sorted } };
}
