/** The soak's verdicts over its samples, and what the agent's own log says it did. */

export interface SampleLike {
  heapMB: number;
  heapAfterGcMB: number;
  rssMB: number;
  fds: number;
  queueDepth: number;
}

export interface Verdict {
  middle: number;
  last: number;
  changePercent: number;
  flat: boolean;
}

const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Flat = the last third's average within `percent` of the middle third's (the first third is warm-up:
 * caches and lists fill). Small counts get a little slack: file descriptors ±2, queue depth ±1.
 */
export function verdicts(samples: SampleLike[], percent = 10): Record<keyof SampleLike, Verdict> {
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const one = (key: keyof SampleLike, slack: number): Verdict => {
    const m = avg(middle.map((s) => s[key]));
    const l = avg(last.map((s) => s[key]));
    const changePercent = m === 0 ? (l === 0 ? 0 : 100) : ((l - m) / m) * 100;
    return {
      middle: round(m),
      last: round(l),
      changePercent: round(changePercent),
      flat: l <= m * (1 + percent / 100) + slack,
    };
  };
  return {
    heapMB: one('heapMB', 0),
    heapAfterGcMB: one('heapAfterGcMB', 0),
    rssMB: one('rssMB', 0),
    fds: one('fds', 2),
    queueDepth: one('queueDepth', 1),
  };
}

/** Counts of the records an operator would look at after the soak. */
export function summarize(records: Array<Record<string, unknown>>) {
  const count = (pred: (r: Record<string, unknown>) => boolean) => records.filter(pred).length;
  const by = (event: string, key: string) => {
    const out: Record<string, number> = {};
    for (const r of records) if (r.event === event) out[String(r[key])] = (out[String(r[key])] ?? 0) + 1;
    return out;
  };
  return {
    records: records.length,
    streamDowns: count((r) => r.event === 'stream.down'),
    resyncs: by('model.resync', 'reason'),
    driftRepaired: records
      .filter((r) => r.event === 'model.resync')
      .reduce((s, r) => s + Number(r.driftTotal ?? 0), 0),
    decisions: by('prune.decision', 'fire'),
    // The first reason of each decision that did not fire, times and ids masked.
    notFiredBecause: records
      .filter((r) => r.event === 'prune.decision' && r.fire === false)
      .reduce<Record<string, number>>((acc, r) => {
        const why = String((r.reasons as string[] | undefined)?.[0] ?? '?').replace(/\d[\d:.TZ-]*/g, '…');
        acc[why] = (acc[why] ?? 0) + 1;
        return acc;
      }, {}),
    pruneOutcomes: by('prune.done', 'outcome'),
    pruneAborted: by('prune.aborted', 'reason'),
    pruneRemoved: count((r) => r.event === 'prune.removed'),
    windowsSkipped: by('prune.skipped', 'reason'),
    evictionsBy: by('eviction', 'by'),
    ownEvictionsDuringRun: count(
      (r) => r.event === 'eviction' && r.by === 'layerwarden' && r.duringRun === true,
    ),
    pulls: by('pull', 'class'),
    errors: count((r) => r.level === 'error' || r.level === 'fatal'),
  };
}
