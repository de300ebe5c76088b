import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../src/docker/types.js';
import { createAgentMetrics, type MetricsSources } from '../../src/metrics/metrics.js';
import { countPull, DEFAULT_PULL_BUDGET } from '../../src/model/images/pull-budget.js';
import { createModel } from '../../src/model/create.js';
import type { IdleAnswer } from '../../src/model/idle.js';
import type { Model, ModelInput, Note, PullClass } from '../../src/model/types.js';
import type { DiskReading } from '../../src/prune/gates.js';
import type { PruneDecisionRecord } from '../../src/records/record-types.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';
import { quietSources } from './quiet-sources.js';

const T0 = Date.parse('2025-06-01T10:00:00Z');

function setup(over: Partial<MetricsSources> = {}) {
  const model: Model = createModel();
  let idle: IdleAnswer | undefined;
  const sources = quietSources(() => model, { idle: () => idle, queueDepth: () => 3, ...over });
  const metrics = createAgentMetrics(sources);
  const tick = (notes: Note[], input: ModelInput = { kind: 'stream.up', attempt: 0 }, at = T0): void => {
    metrics.observeTick({ at, input, step: { notes, wants: [] }, model });
    for (const record of notes) metrics.count({ at, record });
  };
  const scrape = async () => parsePrometheusText(await metrics.render());
  const setIdle = (a: IdleAnswer): void => {
    idle = a;
  };
  return { model, metrics, tick, scrape, setIdle };
}

const event = (type: EngineEvent['type'], action: string): ModelInput => ({
  kind: 'event',
  event: {
    type,
    action,
    actorId: 'x',
    attributes: {},
    scope: 'local',
    timeMs: T0,
    timeNano: '0',
  } as EngineEvent,
});
const pull = (cls: PullClass, downloaded: number, reused: number, registry = '127.0.0.1:5000'): Note => ({
  event: 'pull',
  ref: `${registry}/a:1`,
  registry,
  class: cls,
  stacks: [],
  at: new Date(T0).toISOString(),
  bytes: { downloaded, reused, known: true },
});
const counts = { images: 0, layers: 0, containers: 0, services: 0, liveStacks: 0 };
const eviction = (by: 'external' | 'layerwarden', duringRun: boolean, image: string): Note => ({
  event: 'eviction',
  level: 'info',
  at: new Date(T0).toISOString(),
  image,
  refs: [],
  size: 0,
  by,
  duringRun,
  stacks: [],
  cause: 'delete-event',
  activity: 'delete',
});
const gates: PruneDecisionRecord['gates'] = {
  idle: { pass: true, busy: [] },
  disk: { pass: true, path: '/', high: 80 },
  candidates: { pass: true, count: 0, bytes: 0 },
  store: { pass: true, imageStore: 'graphdriver', allowContainerdStoreRemoval: false },
};
const decision = (fire: boolean): Note => ({
  event: 'prune.decision',
  trigger: 'schedule',
  mode: 'on',
  fire,
  reasons: [],
  gates,
  disk: { path: '/', ok: true },
  disks: [{ path: '/', role: 'docker-root', ok: true }],
  minAgeMs: 0,
  candidates: [],
  kept: 0,
});
const removed = (kind: 'image' | 'container', id: string, bytes: number): Note => ({
  event: 'prune.removed',
  trigger: 'schedule',
  kind,
  id,
  refs: [],
  bytes,
  size: bytes,
});

describe('agent metrics', () => {
  it('renders valid Prometheus text from a fresh registry, with a content type', async () => {
    const { metrics, scrape } = setup();
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
    const exp = await scrape();
    assert.equal(exp.types.get('layerwarden_pulls_total'), 'counter');
    assert.equal(exp.types.get('layerwarden_idle'), 'gauge');
    assert.equal(sampleValue(exp, 'layerwarden_refresh_queue_depth'), 3);
    assert.equal(sampleValue(exp, 'layerwarden_stream_connected'), 0);
    assert.equal(sampleValue(exp, 'layerwarden_disk_used_percent'), undefined, 'unknown disk: no sample');
    assert.equal(sampleValue(exp, 'layerwarden_disk_reading_ok'), 0);
    assert.equal(sampleValue(exp, 'layerwarden_prune_last_run_timestamp_seconds'), 0, 'never');
    assert.equal(sampleValue(exp, 'layerwarden_prune_next_boundary_timestamp_seconds'), undefined);
  });

  it('layerwarden_engine_info: no sample before the first list, then the engine, the API spoken and the store', async () => {
    const { model, scrape } = setup();
    assert.equal(sampleValue(await scrape(), 'layerwarden_engine_info'), undefined);
    model.engine = {
      id: 'e',
      name: 'host',
      serverVersion: '29.1.3',
      apiVersion: '1.52',
      apiRange: { min: '1.44', max: '1.52' },
      dockerRootDir: '/var/lib/docker',
      swarm: 'inactive',
      isManager: false,
      imageStore: 'containerd',
    };
    const labels = { engine_version: '29.1.3', api_version: '1.52', image_store: 'containerd' };
    assert.equal(sampleValue(await scrape(), 'layerwarden_engine_info', labels), 1);
    // A reconnect to an upgraded engine: the old sample goes, the new one is the only one.
    model.engine = { ...model.engine, serverVersion: '29.3.0', apiVersion: '1.52' };
    const samples = (await scrape()).samples.filter((s) => s.name === 'layerwarden_engine_info');
    assert.deepEqual(
      samples.map((s) => s.labels.engine_version),
      ['29.3.0'],
    );
  });

  it('counts events by type, stream losses and reconnects, resyncs and their drift', async () => {
    const { tick, scrape } = setup();
    tick([{ event: 'stream.up', attempt: 0 }]);
    tick([], event('image', 'pull'));
    tick([], event('container', 'start'));
    tick([], event('container', 'die'));
    tick([{ event: 'model.resync', reason: 'start', initial: true, driftTotal: 0, counts }]);
    tick([{ event: 'stream.down', level: 'warn', reason: 'ECONNRESET', retryInMs: 1000, attempt: 1 }]);
    tick([{ event: 'stream.up', attempt: 1 }]);
    tick([
      {
        event: 'model.resync',
        reason: 'reconnect',
        initial: false,
        driftTotal: 4,
        counts,
        drift: {
          images: { added: 1, removed: 2, changed: 0 },
          containers: { added: 0, removed: 0, changed: 1 },
          services: { added: 0, removed: 0, changed: 0 },
        },
      },
    ]);
    const exp = await scrape();
    assert.equal(sampleValue(exp, 'layerwarden_events_total', { type: 'container' }), 2);
    assert.equal(sampleValue(exp, 'layerwarden_events_total', { type: 'image' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_stream_disconnects_total'), 1);
    assert.equal(sampleValue(exp, 'layerwarden_stream_reconnects_total'), 1, 'the first connect is not one');
    assert.equal(sampleValue(exp, 'layerwarden_resyncs_total', { reason: 'start' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_resyncs_total', { reason: 'reconnect' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_resync_drift_total', { kind: 'images' }), 3);
    assert.equal(sampleValue(exp, 'layerwarden_resync_drift_total', { kind: 'containers' }), 1);
  });

  it('counts pulls by class with bytes downloaded and reused, and pulls per registry in the window', async () => {
    const { tick, scrape, model } = setup({ pullBudget: 7 });
    // The window is the model's (the reducer counts each pull as it classifies it), read on scrape.
    const counted = (note: Note, at: number) => {
      if (note.event === 'pull') countPull(model, note.registry, at, { ...DEFAULT_PULL_BUDGET, limit: 7 });
      return note;
    };
    const outside = Date.now() - DEFAULT_PULL_BUDGET.windowMs - 60_000; // outside the window
    tick([counted(pull('cold', 1000, 0), outside)], undefined, outside);
    tick([counted(pull('partial', 300, 700), T0)]);
    tick(
      [
        counted(pull('warm', 0, 1000), Date.now()),
        counted(pull('warm', 0, 1000, 'registry.example'), Date.now()),
      ],
      undefined,
      Date.now(),
    );
    const exp = await scrape();
    assert.equal(sampleValue(exp, 'layerwarden_pulls_total', { class: 'cold' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_pulls_total', { class: 'partial' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_pulls_total', { class: 'warm' }), 2);
    assert.equal(sampleValue(exp, 'layerwarden_pull_bytes_total', { kind: 'downloaded' }), 1300);
    assert.equal(sampleValue(exp, 'layerwarden_pull_bytes_total', { kind: 'reused' }), 2700);
    assert.equal(sampleValue(exp, 'layerwarden_registry_pull_budget'), 7);
    assert.equal(
      sampleValue(exp, 'layerwarden_registry_pulls_in_window', { registry: '127.0.0.1:5000' }),
      1,
      'the cold pull left the window; the partial one (T0 is older than 6 h) too',
    );
    assert.equal(
      sampleValue(exp, 'layerwarden_registry_pulls_in_window', { registry: 'registry.example' }),
      1,
    );
  });

  it('counts evictions by actor and during runs, and prune records by outcome', async () => {
    const { tick, scrape } = setup();
    tick([eviction('external', true, 'sha256:a')]);
    tick([eviction('external', false, 'sha256:b')]);
    tick([eviction('layerwarden', false, 'sha256:c')]);
    tick([decision(false)]);
    tick([decision(true)]);
    tick([removed('image', 'sha256:c', 5000)]);
    tick([removed('container', 'c1', 10)]);
    const done = { trigger: 'schedule', outcome: 'done', skipped: 0, alreadyGone: 0, durationMs: 1 } as const;
    tick([{ event: 'prune.done', ...done, removed: 2, reclaimedBytes: 5010 }], undefined, T0 + 5000);
    tick([decision(true)]);
    tick([
      {
        event: 'prune.aborted',
        level: 'warn',
        trigger: 'schedule',
        reason: 'run started',
        retryable: false,
        removedSoFar: 0,
      },
    ]);
    tick([
      {
        event: 'prune.skipped',
        level: 'warn',
        reason: 'window closed while busy',
        boundary: new Date(T0).toISOString(),
      },
    ]);
    const exp = await scrape();
    assert.equal(sampleValue(exp, 'layerwarden_evictions_total', { by: 'external', during_run: 'true' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_evictions_total', { by: 'external' }), 2);
    assert.equal(sampleValue(exp, 'layerwarden_evictions_total', { by: 'layerwarden' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_prune_runs_total', { outcome: 'gated' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_prune_runs_total', { outcome: 'completed' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_prune_runs_total', { outcome: 'aborted' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_prune_runs_total', { outcome: 'skipped' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_prune_removed_total', { kind: 'image' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_prune_reclaimed_bytes_total'), 5010, 'not counted twice');
    assert.equal(sampleValue(exp, 'layerwarden_prune_last_run_timestamp_seconds'), (T0 + 5000) / 1000);
  });

  it('reads gauges on scrape: model sizes, idle and busy reasons, disk, schedule', async () => {
    const disk: DiskReading = {
      path: '/var/lib/docker',
      ok: true,
      usedPercent: 81.5,
      usedBytes: 815,
      totalBytes: 1000,
      freeBytes: 185,
    };
    const containerd: DiskReading = {
      path: '/var/lib/containerd',
      ok: true,
      usedPercent: 40,
      usedBytes: 400,
      totalBytes: 1000,
      freeBytes: 600,
    };
    let reads = 0;
    const { model, scrape, setIdle } = setup({
      disks: async () => {
        reads++;
        return [disk, containerd];
      },
      prune: () => ({
        lastRunAt: T0 - 86_400_000,
        nextBoundary: T0 + 3_600_000,
        schedule: '0 0 * * *',
        tz: 'UTC',
      }),
    });
    model.sync = { connected: true, inSync: true, lastResyncAt: T0 };
    model.layers.set('sha256:l1', 1).set('sha256:l2', 2);
    setIdle({
      idle: false,
      busy: [
        { reason: 'run-stack-live', stack: 'ci-1', kind: 'swarm', since: T0 },
        { reason: 'run-stack-live', stack: 'ci-2', kind: 'compose', since: T0 },
        { reason: 'recent-pull', ref: 'a', at: T0, quietUntil: T0 + 1 },
      ],
    });
    const exp = await scrape();
    assert.equal(reads, 1, 'one statfs per scrape, shared by the disk gauges');
    assert.equal(sampleValue(exp, 'layerwarden_stream_connected'), 1);
    assert.equal(sampleValue(exp, 'layerwarden_model_in_sync'), 1);
    assert.equal(sampleValue(exp, 'layerwarden_model_objects', { kind: 'layers' }), 2);
    assert.equal(sampleValue(exp, 'layerwarden_idle'), 0);
    assert.equal(sampleValue(exp, 'layerwarden_busy_reasons', { reason: 'run-stack-live' }), 2);
    assert.equal(sampleValue(exp, 'layerwarden_busy_reasons', { reason: 'recent-pull' }), 1);
    assert.equal(sampleValue(exp, 'layerwarden_busy_reasons', { reason: 'service-converging' }), 0);
    assert.equal(sampleValue(exp, 'layerwarden_disk_used_percent', { path: '/var/lib/docker' }), 81.5);
    assert.equal(sampleValue(exp, 'layerwarden_disk_bytes', { path: '/var/lib/docker', kind: 'free' }), 185);
    assert.equal(sampleValue(exp, 'layerwarden_disk_used_percent', { path: '/var/lib/containerd' }), 40);
    assert.equal(
      sampleValue(exp, 'layerwarden_disk_bytes', { path: '/var/lib/containerd', kind: 'used' }),
      400,
    );
    assert.equal(sampleValue(exp, 'layerwarden_disk_reading_ok'), 1);
    assert.equal(
      sampleValue(exp, 'layerwarden_prune_next_boundary_timestamp_seconds', {
        schedule: '0 0 * * *',
        tz: 'UTC',
      }),
      (T0 + 3_600_000) / 1000,
    );
    assert.equal(sampleValue(exp, 'layerwarden_prune_last_run_timestamp_seconds'), (T0 - 86_400_000) / 1000);
    setIdle({ idle: true, busy: [] });
    const later = await scrape();
    assert.equal(sampleValue(later, 'layerwarden_idle'), 1);
    assert.equal(sampleValue(later, 'layerwarden_busy_reasons', { reason: 'run-stack-live' }), 0);
  });

  it('keeps two agents in one process apart (a registry each)', async () => {
    const a = setup();
    const b = setup();
    a.tick([pull('cold', 1, 0)]);
    assert.equal(sampleValue(await a.scrape(), 'layerwarden_pulls_total', { class: 'cold' }), 1);
    assert.equal(sampleValue(await b.scrape(), 'layerwarden_pulls_total', { class: 'cold' }), 0);
  });
});
