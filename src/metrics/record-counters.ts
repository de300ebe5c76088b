import { Counter, type Registry } from './prom.js';
import type { StampedRecord } from '../records/record-stream.js';
import type { LogRecord } from '../records/record-types.js';
import type { Tick } from '../streams/model-loop.js';

/**
 * The counters, fed by the record stream: each record is counted by its `event` and the fields the
 * union says it carries, whoever produced it (the reducer, the executor, the boundary runner, `prune
 * --now`). Only `layerwarden_events_total` counts something that is not a record: engine events applied.
 */
export function createRecordCounters(registry: Registry) {
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

  const count = (record: LogRecord, at: number) => {
    switch (record.event) {
      case 'stream.up':
        if (connected) reconnects.inc();
        connected = true;
        return;
      case 'stream.down':
        return disconnects.inc();
      case 'stream.malformed':
        return malformed.inc();
      case 'model.resync': {
        resyncs.inc({ reason: record.reason });
        const d = record.drift;
        for (const kind of ['images', 'containers', 'services'] as const) {
          const k = d?.[kind];
          drift.inc({ kind }, k ? k.added + k.removed + k.changed : 0);
        }
        return;
      }
      case 'refresh.failed':
        return refreshFailed.inc({ what: record.what });
      case 'pull':
        pulls.inc({ class: record.class });
        pullBytes.inc({ kind: 'downloaded' }, record.bytes?.downloaded ?? 0);
        pullBytes.inc({ kind: 'reused' }, record.bytes?.reused ?? 0);
        return;
      case 'pull.budget':
        return budgetWarnings.inc({ registry: record.registry });
      case 'eviction':
        return evictions.inc({ by: record.by, during_run: String(record.duringRun) });
      case 'engine.prune':
        return enginePrunes.inc({ what: record.what });
      case 'prune.decision':
        runBytes = 0;
        if (!record.fire) pruneRuns.inc({ outcome: 'gated' });
        return;
      case 'prune.removed':
        pruneRemoved.inc({ kind: record.kind });
        runBytes += record.bytes;
        return reclaimed.inc(record.bytes);
      case 'prune.skipped':
        // A window that closed unevaluated; a per-item skip carries the item's id and is not a run.
        if (record.id === undefined) pruneRuns.inc({ outcome: 'skipped' });
        return;
      case 'prune.aborted':
        return pruneRuns.inc({ outcome: 'aborted' });
      case 'prune.done':
        // An aborted run was counted by its prune.aborted; the low-water stop is a run that completed.
        if (record.outcome !== 'aborted')
          pruneRuns.inc({ outcome: record.dryRun === true ? 'dry-run' : 'completed' });
        if (runBytes === 0) reclaimed.inc(record.reclaimedBytes);
        runBytes = 0;
        lastPruneDoneAt = at;
        return;
    }
  };

  return {
    /** Counts an engine event applied to the model (the one counter that is not a record's). */
    observeTick(tick: Tick): void {
      if (tick.input.kind === 'event') events.inc({ type: tick.input.event.type });
    },
    count: ({ record, at }: StampedRecord): void => count(record, at),
    lastPruneDoneAt: () => lastPruneDoneAt,
  };
}
