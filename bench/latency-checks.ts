/** What "reflected" means per event for benchmark 2, and its result rows. */
import type { EngineEvent } from '../src/docker/types.js';
import type { Model } from '../src/model/types.js';
import type { Tick } from '../src/streams/model-loop.js';
import { fmt, percentile } from './stats.js';
import type { BenchResult } from './types.js';

export interface Pending {
  event: EngineEvent;
  pull: boolean;
  done(tick: Tick): boolean;
}

type Check = { reflected: (m: Model) => boolean; untaggedRef?: string };

/** What "the model reflects it" means for each event we time; undefined for events we do not time. */
export function checkFor(e: EngineEvent, untagged: Map<string, string[]>): Check | undefined {
  const id = e.actorId;
  if (e.type === 'container') {
    if (e.action === 'create') return { reflected: (m) => m.containers.has(id) };
    if (e.action === 'start') return { reflected: (m) => m.containers.get(id)?.state === 'running' };
    if (e.action === 'die')
      return { reflected: (m) => /^(exited|dead)$/.test(m.containers.get(id)?.state ?? '') };
    if (e.action === 'destroy') return { reflected: (m) => !m.containers.has(id) };
  }
  if (e.type === 'image') {
    const name = e.attributes.name ?? '';
    if (e.action === 'tag') return { reflected: (m) => m.images.get(id)?.tags.includes(name) ?? false };
    if (e.action === 'delete') return { reflected: (m) => !m.images.has(id) };
    if (e.action === 'untag') {
      // No untag event names the ref it removed: the workload says, in order, per image.
      const ref = untagged.get(id)?.shift();
      if (ref === undefined) return undefined;
      return { reflected: (m) => !(m.images.get(id)?.tags.includes(ref) ?? false), untaggedRef: ref };
    }
  }
  return undefined;
}

/**
 * A destroy supersedes its container's earlier events not reflected yet, a delete its image's, an
 * untag the tag of the same ref: the model can only ever show the state after them. Returns how many.
 */
export function supersede(pending: Pending[], e: EngineEvent, untaggedRef: string | undefined): number {
  const drops = (p: Pending) =>
    !p.pull &&
    p.event.type === e.type &&
    p.event.actorId === e.actorId &&
    ((e.type === 'container' && e.action === 'destroy') ||
      (e.type === 'image' && e.action === 'delete') ||
      (e.action === 'untag' && p.event.action === 'tag' && p.event.attributes.name === untaggedRef));
  let n = 0;
  for (let i = pending.length - 1; i >= 0; i--) {
    if (!drops(pending[i]!)) continue;
    pending.splice(i, 1);
    n++;
  }
  return n;
}

function byAction(samples: Map<string, number>): string {
  const groups = new Map<string, number[]>();
  for (const [key, ms] of samples) {
    const [, type, action] = key.split('|');
    const g = `${type} ${action}`;
    groups.set(g, [...(groups.get(g) ?? []), ms]);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([g, xs]) => `${g} ${fmt(percentile(xs, 50))}/${fmt(percentile(xs, 99))}`)
    .join(', ');
}

/** One result row: p99 of ours beside p99 of the bare reader over the same events. */
export function latencyRow(
  name: string,
  ours: Map<string, number>,
  raw: Map<string, number>,
  targetMs: number,
  wanted: number,
  how: string,
): BenchResult {
  const xs = [...ours.values()];
  const base = [...ours.keys()].map((k) => raw.get(k)).filter((x): x is number => x !== undefined);
  const p99 = percentile(xs, 99);
  const added = [...ours].flatMap(([k, ms]) => (raw.has(k) ? [ms - (raw.get(k) as number)] : []));
  return {
    name,
    figure: p99,
    unit: 'ms p99',
    baseline: percentile(base, 99),
    baselineUnit: 'ms p99 (bare /events reader)',
    target: `p99 <= ${targetMs} ms`,
    met: xs.length >= wanted * 0.9 && p99 <= targetMs,
    note:
      `${xs.length} events; p50 ${fmt(percentile(xs, 50))} ms, max ${fmt(Math.max(...xs))} ms; bare reader ` +
      `p50 ${fmt(percentile(base, 50))} ms; added by the agent p50/p99 ${fmt(percentile(added, 50))}/` +
      `${fmt(percentile(added, 99))} ms; by event (p50/p99 ms): ${byAction(ours)}; ${how}.`,
  };
}
