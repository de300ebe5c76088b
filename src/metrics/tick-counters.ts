import { Counter, type Registry } from 'prom-client';
import type { Note } from '../model/types.js';
import type { Tick } from '../streams/model-loop.js';

/** The window of the registry pull budget (`--pull-budget` counts pulls per registry per 6 h). */
export const BUDGET_WINDOW_MS = 6 * 3_600_000;
/** Pull times kept per registry: far above any budget, so the window count stays exact where it matters. */
const MAX_PULLS_KEPT = 10_000;

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown, fallback: string) => (typeof v === 'string' && v !== '' ? v : fallback);

/**
 * The counters fed by ticks. Each log record (note) is counted by its `event` name and the fields it is
 * documented to carry; records this version does not know the shape of (the prune executor's) are read
 * defensively, so a missing field counts as zero rather than throwing on the tick path.
 */
export function createTickCounters(registry: Registry) {
  const registers = [registry];
  const c = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers });
  const events = c('layerwarden_events_total', 'Engine events applied, by type', ['type']);
  const disconnects = c('layerwarden_stream_disconnects_total', 'Events stream losses (stream.down)');
  const reconnects = c('layerwarden_stream_reconnects_total', 'Events stream connects after the first');
  const malformed = c('layerwarden_stream_malformed_total', 'Event lines that did not parse');
  const resyncs = c('layerwarden_resyncs_total', 'Full re-lists applied, by reason', ['reason']);
  const drift = c('layerwarden_resync_drift_total', 'Objects a re-list found added, removed or changed', [
    'kind',
  ]);
  const refreshFailed = c('layerwarden_refresh_failures_total', 'Lists or inspects that failed', ['what']);
  const pulls = c('layerwarden_pulls_total', 'Image pulls, by class', ['class']);
  const pullBytes = c('layerwarden_pull_bytes_total', 'Layer bytes of pulls, downloaded or reused', ['kind']);
  const evictions = c('layerwarden_evictions_total', 'Images that left the host, by actor and during a run', [
    'by',
    'during_run',
  ]);
  const enginePrunes = c('layerwarden_engine_prunes_total', 'Prunes run by others on the engine', ['what']);
  const pruneRuns = c('layerwarden_prune_runs_total', 'Prune evaluations, by outcome', ['outcome']);
  const pruneRemoved = c('layerwarden_prune_removed_total', 'Items the agent removed, by kind', ['kind']);
  const reclaimed = c('layerwarden_prune_reclaimed_bytes_total', 'Bytes the agent reclaimed');
  const budgetWarnings = c('layerwarden_registry_budget_warnings_total', 'Pull budget warnings', [
    'registry',
  ]);

  // Known label values start at 0, so a rate() or an absent() alert works before the first occurrence.
  for (const cls of ['cold', 'partial', 'warm', 'unknown']) pulls.inc({ class: cls }, 0);
  for (const kind of ['downloaded', 'reused']) pullBytes.inc({ kind }, 0);
  for (const by of ['layerwarden', 'external'])
    for (const during_run of ['true', 'false']) evictions.inc({ by, during_run }, 0);
  for (const outcome of ['completed', 'dry-run', 'aborted', 'gated', 'skipped'])
    pruneRuns.inc({ outcome }, 0);

  let connected = false;
  let lastPruneDoneAt: number | undefined;
  /** Bytes counted from prune.removed in the current run, so prune.done does not count them twice. */
  let runBytes = 0;
  const pullTimes = new Map<string, number[]>();

  const trim = (times: number[], now: number) => {
    while (
      times.length > 0 &&
      ((times[0] as number) <= now - BUDGET_WINDOW_MS || times.length > MAX_PULLS_KEPT)
    )
      times.shift();
  };

  const count = (note: Note, at: number) => {
    switch (note.event) {
      case 'stream.up':
        if (connected) reconnects.inc();
        connected = true;
        return;
      case 'stream.down':
        return disconnects.inc();
      case 'stream.malformed':
        return malformed.inc();
      case 'model.resync': {
        resyncs.inc({ reason: str(note.reason, 'unknown') });
        const d = (note.drift ?? {}) as Record<string, Record<string, unknown>>;
        for (const kind of ['images', 'containers', 'services'])
          drift.inc({ kind }, num(d[kind]?.added) + num(d[kind]?.removed) + num(d[kind]?.changed));
        return;
      }
      case 'refresh.failed':
        return refreshFailed.inc({ what: str(note.what, 'unknown') });
      case 'pull': {
        pulls.inc({ class: str(note.class, 'unknown') });
        const bytes = (note.bytes ?? {}) as Record<string, unknown>;
        pullBytes.inc({ kind: 'downloaded' }, num(bytes.downloaded));
        pullBytes.inc({ kind: 'reused' }, num(bytes.reused));
        const registry = str(note.registry, 'unknown');
        const times = pullTimes.get(registry) ?? [];
        times.push(at);
        trim(times, at);
        pullTimes.set(registry, times);
        return;
      }
      case 'pull.budget':
        return budgetWarnings.inc({ registry: str(note.registry, 'unknown') });
      case 'eviction':
        return evictions.inc({ by: str(note.by, 'external'), during_run: String(note.duringRun === true) });
      case 'engine.prune':
        return enginePrunes.inc({ what: str(note.what, 'unknown') });
      case 'prune.decision':
        runBytes = 0;
        if ((note.fired ?? note.fire) === false) pruneRuns.inc({ outcome: 'gated' });
        return;
      case 'prune.removed':
        pruneRemoved.inc({ kind: str(note.kind, 'unknown') });
        runBytes += num(note.bytes);
        return reclaimed.inc(num(note.bytes));
      case 'prune.skipped':
        // A window that closed unevaluated; a per-item skip carries the item's id and is not a run.
        if (note.id === undefined) pruneRuns.inc({ outcome: 'skipped' });
        return;
      case 'prune.aborted':
        return pruneRuns.inc({ outcome: 'aborted' });
      case 'prune.done': {
        pruneRuns.inc({ outcome: note.dryRun === true ? 'dry-run' : 'completed' });
        if (runBytes === 0) reclaimed.inc(num(note.reclaimedBytes));
        runBytes = 0;
        lastPruneDoneAt = at;
        return;
      }
    }
  };

  return {
    budgetWindowMs: BUDGET_WINDOW_MS,
    observe(tick: Tick): void {
      if (tick.input.kind === 'event') events.inc({ type: tick.input.event.type });
      for (const note of tick.step.notes) count(note, tick.at);
    },
    lastPruneDoneAt: () => lastPruneDoneAt,
    pullsInWindow(now: number): Array<[string, number]> {
      const out: Array<[string, number]> = [];
      for (const [registry, times] of pullTimes) {
        trim(times, now);
        if (times.length === 0) pullTimes.delete(registry);
        else out.push([registry, times.length]);
      }
      return out;
    },
  };
}
