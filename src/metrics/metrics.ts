import { collectDefaultMetrics, Gauge, Registry } from './prom.js';
import type { BusyReason, IdleAnswer } from '../model/idle.js';
import { PULL_BUDGET_WINDOW_MS, pullsInWindow } from '../model/images/pull-budget.js';
import type { Model } from '../model/types.js';
import type { DiskReading } from '../prune/gates.js';
import type { StampedRecord } from '../records/record-stream.js';
import type { Tick } from '../streams/model-loop.js';
import { createRecordCounters } from './record-counters.js';

/** What the gauges read on each scrape: live values, never a copy taken at start. */
export interface MetricsSources {
  model(): Model | undefined;
  /** A fresh idle answer (undefined before the first tick). */
  idle(): IdleAnswer | undefined;
  queueDepth(): number;
  /**
   * Every filesystem that holds images (the Docker root or `--disk-path`s, containerd's root on that
   * store); read on scrape (one statfs each), empty before the first list.
   */
  disks(): Promise<DiskReading[]>;
  /** Last prune run and next boundary (ms since the epoch) with its schedule; undefined when unknown or off. */
  prune(): { lastRunAt?: number; nextBoundary?: number; schedule?: string; tz?: string };
  /** Pulls per registry per window before a warning (`--pull-budget`). */
  pullBudget: number;
  /** The agent's clock (the scheduler's), for the pulls still in the budget window. */
  now(): number;
}

export interface AgentMetrics {
  registry: Registry;
  /** Counts the engine event a tick applied (`layerwarden_events_total`). */
  observeTick(tick: Tick): void;
  /** Counts one record of the record stream (every other counter). */
  count(record: StampedRecord): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  contentType: string;
}

const BUSY_REASONS: readonly BusyReason['reason'][] = [
  'out-of-sync',
  'run-stack-live',
  'service-converging',
  'service-stuck',
  'recent-pull',
  'recent-container-start',
];

/**
 * The agent's metrics in a registry of its own (several agents can run in one process, as in tests).
 * Counters are fed from the ticks; gauges read the live model, idle answer, disk and schedule on scrape.
 */
export function createAgentMetrics(
  sources: MetricsSources,
  opts: { processMetrics?: boolean } = {},
): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];
  const counters = createRecordCounters(registry);
  const bool = (v: boolean | undefined) => (v ? 1 : 0);

  new Gauge({
    name: 'layerwarden_stream_connected',
    help: 'The engine events stream is connected (1) or not (0)',
    registers,
    collect() {
      this.set(bool(sources.model()?.sync.connected));
    },
  });
  new Gauge({
    name: 'layerwarden_model_in_sync',
    help: 'A full list was applied since the last connect (1) or not (0)',
    registers,
    collect() {
      this.set(bool(sources.model()?.sync.inSync));
    },
  });
  new Gauge({
    name: 'layerwarden_model_objects',
    help: 'Objects held by the live model, by kind',
    labelNames: ['kind'],
    registers,
    collect() {
      const m = sources.model();
      this.set({ kind: 'images' }, m?.images.size ?? 0);
      this.set({ kind: 'layers' }, m?.layers.size ?? 0);
      this.set({ kind: 'containers' }, m?.containers.size ?? 0);
      this.set({ kind: 'services' }, m?.services.size ?? 0);
      this.set({ kind: 'live_stacks' }, m?.liveStacks.size ?? 0);
      this.set({ kind: 'pending_pulls' }, m?.pendingPulls.size ?? 0);
    },
  });
  new Gauge({
    name: 'layerwarden_engine_info',
    help: 'The engine as last listed (value 1): its release, the API version spoken with it, its image store',
    labelNames: ['engine_version', 'api_version', 'image_store'],
    registers,
    collect() {
      this.reset();
      const e = sources.model()?.engine;
      if (e)
        this.set(
          { engine_version: e.serverVersion, api_version: e.apiVersion, image_store: e.imageStore },
          1,
        );
    },
  });
  new Gauge({
    name: 'layerwarden_idle',
    help: 'The host is idle (1) or busy (0) as the prune gate sees it',
    registers,
    collect() {
      this.set(bool(sources.idle()?.idle));
    },
  });
  new Gauge({
    name: 'layerwarden_busy_reasons',
    help: 'Current busy reasons, by kind (0 for each kind when idle)',
    labelNames: ['reason'],
    registers,
    collect() {
      const answer = sources.idle();
      for (const reason of BUSY_REASONS)
        this.set({ reason }, answer?.busy.filter((b) => b.reason === reason).length ?? 0);
    },
  });
  new Gauge({
    name: 'layerwarden_refresh_queue_depth',
    help: 'Lists and inspects waiting to run (coalesced by key)',
    registers,
    collect() {
      this.set(sources.queueDepth());
    },
  });

  // One statfs per path per scrape, shared by the disk gauges (the registry collects them concurrently).
  let diskRead: { at: number; readings: Promise<DiskReading[]> } | undefined;
  const disks = () => {
    const now = sources.now();
    if (!diskRead || now - diskRead.at > 1000) diskRead = { at: now, readings: sources.disks() };
    return diskRead.readings;
  };
  new Gauge({
    name: 'layerwarden_disk_reading_ok',
    help: 'Every filesystem holding images could be read (1); unknown (0) never lets a prune fire',
    registers,
    async collect() {
      const ds = await disks();
      this.set(bool(ds.length > 0 && ds.every((d) => d.ok)));
    },
  });
  // prom-client writes NaN as "Nan", which strict parsers refuse: an unknown value is no sample at all.
  new Gauge({
    name: 'layerwarden_disk_used_percent',
    help: 'Usage of each filesystem holding images, like df (no sample while unknown); the fullest decides',
    labelNames: ['path'],
    registers,
    async collect() {
      this.reset();
      for (const d of await disks()) if (d.ok) this.set({ path: d.path }, d.usedPercent);
    },
  });
  new Gauge({
    name: 'layerwarden_disk_bytes',
    help: 'Used and free (for unprivileged writers) bytes of each filesystem holding images',
    labelNames: ['path', 'kind'],
    registers,
    async collect() {
      this.reset();
      for (const d of await disks()) {
        if (!d.ok) continue;
        this.set({ path: d.path, kind: 'used' }, d.usedBytes);
        this.set({ path: d.path, kind: 'free' }, d.freeBytes);
      }
    },
  });

  new Gauge({
    name: 'layerwarden_prune_last_run_timestamp_seconds',
    help: 'When the last prune ran, seconds since the epoch (0: never)',
    registers,
    collect() {
      const last = [sources.prune().lastRunAt, counters.lastPruneDoneAt()].filter((t) => t !== undefined);
      this.set(last.length > 0 ? Math.max(...last) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'layerwarden_prune_next_boundary_timestamp_seconds',
    help: 'The next prune schedule boundary, seconds since the epoch (no sample: prune off)',
    labelNames: ['schedule', 'tz'],
    registers,
    collect() {
      this.reset();
      const { nextBoundary, schedule, tz } = sources.prune();
      if (nextBoundary !== undefined)
        this.set({ schedule: schedule ?? '', tz: tz ?? '' }, nextBoundary / 1000);
    },
  });
  new Gauge({
    name: 'layerwarden_registry_pull_budget',
    help: 'Pulls per registry per window before a budget warning (--pull-budget)',
    registers,
    collect() {
      this.set(sources.pullBudget);
    },
  });
  new Gauge({
    name: 'layerwarden_registry_pulls_in_window',
    help: `Pulls per registry in the last ${PULL_BUDGET_WINDOW_MS / 3_600_000} h, against the budget`,
    labelNames: ['registry'],
    registers,
    collect() {
      this.reset();
      // The model's own budget windows: the count the `pull.budget` warnings are decided on.
      const now = sources.now();
      const budget = { limit: sources.pullBudget, windowMs: PULL_BUDGET_WINDOW_MS };
      for (const [registry, window] of sources.model()?.pullWindows ?? []) {
        const n = pullsInWindow(window, now, budget);
        if (n > 0) this.set({ registry }, n);
      }
    },
  });

  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'layerwarden_' });

  return {
    registry,
    observeTick: counters.observeTick,
    count: counters.count,
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
