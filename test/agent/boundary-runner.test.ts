import { createRecordStream } from '../../src/records/record-stream.js';
import type { AnyRecord } from '../records.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SchedulerLike, Subject } from 'rxjs';
import { type BoundaryRunnerOptions, startBoundaryRunner } from '../../src/agent/boundary-runner.js';
import { apply } from '../../src/model/apply.js';
import { idleAnswer } from '../../src/model/idle.js';
import type { Model, Note } from '../../src/model/types.js';
import { parseSchedule } from '../../src/prune/schedule.js';
import type { AgentState } from '../../src/state/state-file.js';
import type { Tick } from '../../src/streams/model-loop.js';
import { createPruneBook } from '../../src/agent/prune-book.js';
import { createAgentMetrics } from '../../src/metrics/metrics.js';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { ManualScheduler, settle } from './manual-scheduler.js';
import { fakePort, H, image, modelOf, POLICY, resnapshot, service, type World } from '../prune/world.js';
import { quietSources } from '../metrics/quiet-sources.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const busyWorld = (w: World): World => ({ ...w, services: [service('ci-1', 'app:1', 1, 0)] });
const oldImages: World = { images: [image('a'), image('b')] };

function setup(opts: {
  start: string;
  world?: World;
  state?: AgentState['prune'];
  mode?: BoundaryRunnerOptions['mode'];
  cron?: string;
  tz?: string;
  settings?: Partial<BoundaryRunnerOptions['settings']>;
  settle?: BoundaryRunnerOptions['settle'];
}) {
  const clock = new ManualScheduler(at(opts.start));
  const world = opts.world ?? oldImages;
  const model: Model = modelOf(world, clock.t, 30 * H);
  const ticks$ = new Subject<Tick>();
  const port = fakePort();
  const notes: AnyRecord[] = [];
  const pruneBook = createPruneBook(opts.state);
  const saves: Array<AgentState['prune'] & { callsSoFar: number }> = [];
  const records = createRecordStream(clock);
  records.records$.subscribe(({ record }) => notes.push(record));
  // The agent's metrics on the same stream, as `watch` subscribes them (src/agent/serve.ts).
  const metrics = createAgentMetrics(quietSources(() => model, { now: () => clock.now() }));
  records.records$.subscribe((r) => metrics.count(r));
  const counter = async (name: string, labels?: Record<string, string>) =>
    sampleValue(parsePrometheusText(await metrics.render()), name, labels);
  const agent = {
    records,
    ticks$,
    model: () => model,
    pruneBook,
    saveNow: async () => {
      saves.push({ ...pruneBook.get(), callsSoFar: port.calls.length });
    },
    // The agent's one idle answer, read on its clock (src/agent/agent.ts).
    idle: () => idleAnswer(model, POLICY, clock.now()),
    loop: {
      ticks$,
      push: (input: Parameters<typeof apply>[1]) => apply(model, input, { now: clock.t, policy: POLICY }),
      queueDepth: () => 0,
    },
  };
  const start = () =>
    startBoundaryRunner({
      agent,
      port,
      schedule: parseSchedule({ cron: opts.cron ?? '0 0 * * *', tz: opts.tz ?? 'UTC', windowMs: 6 * H }),
      policy: POLICY,
      settings: { minAgeMs: 24 * H, diskHighPercent: 80, ...opts.settings },
      mode: opts.mode ?? 'on',
      scheduler: clock as unknown as SchedulerLike,
      readDisk: async (path) => ({
        path,
        ok: true,
        usedPercent: 90,
        usedBytes: 90,
        totalBytes: 100,
        freeBytes: 10,
      }),
      settle: opts.settle ?? (async () => ({ ok: true })),
    });
  /** The engine's truth changes and the loop ticks. */
  const change = async (w: World) => {
    resnapshot(model, w, clock.t);
    ticks$.next({} as Tick);
    await settle();
  };
  const tick = async (when: string) => {
    await clock.advanceTo(at(when));
    ticks$.next({} as Tick);
    await settle();
  };
  const named = (event: string) => notes.filter((n) => n.event === event);
  return {
    clock,
    model,
    port,
    notes,
    /** What the state file would hold. */
    get pruneState() {
      return pruneBook.get();
    },
    saves,
    start,
    change,
    tick,
    named,
    world,
    counter,
  };
}

describe('boundary runner on the containerd image store', () => {
  const containerd: World = { ...oldImages, imageStore: 'containerd' };

  it('plans as usual but removes nothing without the opt-in; the store gate says why', async () => {
    const s = setup({ start: '2025-06-02T00:30:00Z', world: containerd });
    const runner = s.start();
    await s.tick('2025-06-02T00:30:01Z');
    const [decision] = s.named('prune.decision');
    assert.equal(decision?.fire, false);
    const gates = decision?.gates as { store: Record<string, unknown>; disk: { pass: boolean } };
    assert.equal(gates.disk.pass, true);
    assert.deepEqual(
      { ...gates.store, reason: undefined },
      { pass: false, imageStore: 'containerd', allowContainerdStoreRemoval: false, reason: undefined },
    );
    assert.deepEqual(decision?.reasons, [gates.store.reason], 'the store is the only reason');
    assert.equal((decision?.candidates as unknown[]).length, 2, 'the plan is made as usual');
    assert.deepEqual(s.port.calls, [], 'nothing removed, not even the build cache');
    await runner.stop();
  });

  it('removes as on the graphdriver store with --allow-containerd-store-removal', async () => {
    const s = setup({
      start: '2025-06-02T00:30:00Z',
      world: containerd,
      settings: { allowContainerdStoreRemoval: true },
    });
    const runner = s.start();
    await s.tick('2025-06-02T00:30:01Z');
    const [decision] = s.named('prune.decision');
    assert.equal(decision?.fire, true);
    assert.equal((decision?.gates as { store: { pass: boolean } }).store.pass, true);
    assert.deepEqual(s.port.calls, ['image sha256:a', 'image sha256:b', 'build-cache 24h']);
    await runner.stop();
  });

  it('stops before the next removal when the engine comes back on the containerd store mid-run', async () => {
    let settles = 0;
    const holder: { s?: ReturnType<typeof setup> } = {};
    const s = setup({
      start: '2025-06-02T00:30:00Z',
      settle: async () => {
        // The daemon restarted after the first removal and migrated to the containerd store.
        const w = holder.s;
        if (++settles === 2 && w)
          resnapshot(w.model, { images: [image('b')], imageStore: 'containerd' }, w.clock.t);
        return { ok: true };
      },
    });
    holder.s = s;
    const runner = s.start();
    await s.tick('2025-06-02T00:30:01Z');
    assert.equal(s.named('prune.decision')[0]?.fire, true);
    assert.deepEqual(s.port.calls, ['image sha256:a'], 'the second image was never asked for');
    const [aborted] = s.named('prune.aborted');
    assert.match(String(aborted?.reason), /^image store containerd: removal off/);
    await runner.stop();
  });
});

describe('boundary runner', () => {
  it('holds the prune under way as in flight until its last removal, however long real I/O takes', async () => {
    // The settle barrier waits on something outside the clock (a slow fsync, a disk reading).
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const s = setup({
      start: '2025-06-02T00:30:00Z',
      settle: () => held.then(() => ({ ok: true }) as const),
    });
    const runner = s.start();
    await s.tick('2025-06-02T00:30:01Z');
    const pending = runner.inFlight();
    assert.ok(pending, 'the evaluation is in flight while its removal waits');
    assert.deepEqual(s.port.calls, [], 'nothing removed yet');
    release();
    await pending;
    assert.deepEqual(s.port.calls, ['image sha256:a', 'image sha256:b', 'build-cache 24h']);
    assert.equal(s.named('prune.done')[0]?.outcome, 'done');
    assert.equal(runner.inFlight(), undefined, 'nothing in flight once done');
    await runner.stop();
  });

  it('evaluates once per boundary, at the first idle moment, saving the boundary before removing', async () => {
    const s = setup({ start: '2025-06-01T22:00:00Z', world: busyWorld(oldImages) });
    const runner = s.start();
    await s.tick('2025-06-02T00:30:00Z');
    assert.equal(s.named('prune.decision').length, 0, 'busy: no evaluation');
    await s.change(oldImages); // the run ends
    const [decision] = s.named('prune.decision');
    assert.equal(decision?.fire, true);
    assert.equal(decision?.boundary, '2025-06-02T00:00:00.000Z');
    assert.deepEqual(s.port.calls, ['image sha256:a', 'image sha256:b', 'build-cache 24h']);
    assert.equal(s.saves[0]?.lastEvaluatedBoundary, at('2025-06-02T00:00:00Z'));
    assert.equal(s.saves[0]?.callsSoFar, 0, 'saved before the first removal');
    await s.tick('2025-06-02T02:00:00Z');
    await s.tick('2025-06-02T05:59:00Z');
    assert.equal(s.named('prune.decision').length, 1, 'one evaluation per boundary');
    await s.clock.advanceTo(at('2025-06-03T00:00:01Z'));
    assert.equal(s.named('prune.decision').length, 2, 'the next boundary, by timer');
    await runner.stop();
  });

  it('neither repeats nor loses a boundary across a restart inside its window', async () => {
    const s = setup({
      start: '2025-06-02T01:00:00Z',
      state: { lastEvaluatedBoundary: at('2025-06-01T00:00:00Z') },
    });
    const first = s.start();
    await s.tick('2025-06-02T01:00:01Z');
    assert.equal(
      s.named('prune.decision').length,
      1,
      'the missed boundary is caught up while its window is open',
    );
    await first.stop();
    const again = s.start(); // same prune book: what the state file holds
    await s.tick('2025-06-02T02:00:00Z');
    assert.equal(s.named('prune.decision').length, 1, 'not repeated after the restart');
    await again.stop();
  });

  it('logs a window that closes while busy as skipped, once, and settles it', async () => {
    const s = setup({ start: '2025-06-01T23:00:00Z', world: busyWorld(oldImages) });
    const runner = s.start();
    await s.tick('2025-06-02T03:00:00Z');
    await s.clock.advanceTo(at('2025-06-02T12:00:00Z'));
    const skipped = s.named('prune.skipped');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]?.reason, 'window closed while busy');
    assert.equal(skipped[0]?.boundary, '2025-06-02T00:00:00.000Z');
    assert.match(String(skipped[0]?.busy), /service ci-1 converging/);
    assert.equal(s.named('prune.decision').length, 0);
    assert.equal(s.pruneState.lastEvaluatedBoundary, at('2025-06-02T00:00:00Z'));
    assert.equal(s.port.calls.length, 0);
    await runner.stop();
  });

  it('never evaluates while the model is out of sync', async () => {
    const s = setup({ start: '2025-06-02T00:10:00Z' });
    s.model.sync = { inSync: false, connected: false, reason: 'events stream down' };
    const runner = s.start();
    await s.tick('2025-06-02T01:00:00Z');
    await s.clock.advanceTo(at('2025-06-02T07:00:00Z'));
    assert.equal(s.named('prune.decision').length, 0);
    assert.match(String(s.named('prune.skipped')[0]?.busy), /out of sync/);
    await runner.stop();
  });

  it("retries after the engine's own prune held the lock, later in the window, not in a loop", async () => {
    const s = setup({ start: '2025-06-02T00:00:30Z' });
    s.port.outcomes.set('sha256:a', { kind: 'conflict', message: 'a prune operation is already running' });
    const runner = s.start();
    await s.tick('2025-06-02T00:01:00Z');
    assert.equal(s.named('prune.aborted')[0]?.reason, 'engine prune running');
    assert.deepEqual(s.port.calls, ['image sha256:a']);
    s.port.outcomes.clear();
    await s.tick('2025-06-02T00:03:00Z');
    assert.equal(s.named('prune.decision').length, 1, 'no retry before the delay');
    await s.clock.advanceTo(at('2025-06-02T00:07:00Z'));
    const decisions = s.named('prune.decision');
    assert.equal(decisions.length, 2);
    assert.equal(decisions[1]?.retry, true);
    assert.deepEqual(s.port.calls, ['image sha256:a', 'image sha256:a', 'image sha256:b', 'build-cache 24h']);
    await runner.stop();
  });

  it('sleeps on timers (no busy loop) and repeats nothing when the clock jumps back', async () => {
    const s = setup({ start: '2025-06-01T12:00:00Z', world: busyWorld(oldImages) });
    const runner = s.start();
    await s.clock.advanceTo(at('2025-06-04T12:00:00Z'));
    assert.ok(s.clock.scheduled < 120, `timers over three busy days: ${s.clock.scheduled}`);
    assert.equal(s.named('prune.skipped').length, 3);
    await s.change(oldImages);
    await s.tick('2025-06-05T00:30:00Z');
    assert.equal(s.named('prune.decision').length, 1);
    s.clock.t = at('2025-06-04T23:00:00Z'); // NTP steps the clock back over the boundary
    await s.tick('2025-06-05T00:10:00Z');
    await s.tick('2025-06-05T01:00:00Z');
    assert.equal(s.named('prune.decision').length, 1);
    await runner.stop();
  });

  it('jumps forward over two boundaries: one catch-up, for the latest; the one jumped over is reported', async () => {
    const s = setup({
      start: '2025-06-02T12:00:00Z',
      state: { lastEvaluatedBoundary: at('2025-06-02T00:00:00Z') },
      mode: 'dry-run',
    });
    const runner = s.start();
    await s.tick('2025-06-02T12:10:00Z');
    s.clock.t = at('2025-06-04T01:00:00Z'); // NTP steps the clock forward by a day and a half
    await s.tick('2025-06-04T01:00:01Z');
    await s.tick('2025-06-04T02:00:00Z');
    const decisions = s.named('prune.decision');
    assert.deepEqual(
      decisions.map((d) => d.boundary),
      ['2025-06-04T00:00:00.000Z'],
    );
    assert.deepEqual(
      s.named('prune.skipped').map((n) => `${n.boundary} ${n.reason}`),
      ['2025-06-03T00:00:00.000Z window jumped over by the clock'],
    );
    await runner.stop();
  });

  it('killed at 23:59:59, restarted at 00:00:01: nothing before the model is in sync, then one evaluation', async () => {
    const s = setup({
      start: '2025-06-01T23:59:50Z',
      state: { lastEvaluatedBoundary: at('2025-06-01T00:00:00Z') },
    });
    const first = s.start();
    await s.tick('2025-06-01T23:59:59Z');
    await first.stop(); // kill -9: nothing more from it
    assert.equal(s.named('prune.decision').length, 0);
    s.model.sync = { inSync: false, connected: true, reason: 'listing after connect' };
    await s.clock.advanceTo(at('2025-06-02T00:00:01Z'));
    const second = s.start();
    await s.tick('2025-06-02T00:00:02Z');
    assert.equal(s.named('prune.decision').length, 0, 'not before the first list');
    s.model.sync = { inSync: true, connected: true };
    await s.tick('2025-06-02T00:00:03Z');
    await s.tick('2025-06-02T00:30:00Z');
    await s.clock.advanceTo(at('2025-06-02T05:00:00Z'));
    const decisions = s.named('prune.decision');
    assert.deepEqual(
      decisions.map((d) => d.boundary),
      ['2025-06-02T00:00:00.000Z'],
    );
    await second.stop();
  });

  for (const [tz, day, cron] of [
    ['Europe/Berlin', '2025-10-26', '30 2 * * *'],
    ['America/New_York', '2025-11-02', '30 1 * * *'],
    ['Europe/Berlin', '2025-03-30', '30 2 * * *'],
  ] as const) {
    it(`evaluates once on ${day} in ${tz} ('${cron}'), ticking every 10 minutes`, async () => {
      const s = setup({ start: `${day}T00:00:00Z`, cron, tz, mode: 'dry-run' });
      const runner = s.start();
      for (let t = at(`${day}T00:00:00Z`); t < at(`${day}T23:59:00Z`); t += 10 * 60_000) await s.tick(iso(t));
      assert.equal(s.named('prune.decision').length, 1);
      assert.equal(s.port.calls.length, 0, 'dry run');
      assert.equal(s.named('prune.would-remove').length, 3);
      await runner.stop();
    });
  }

  it('--no-prune decides and logs, removes nothing, and leaves the saved bookkeeping alone', async () => {
    const s = setup({ start: '2025-06-02T00:05:00Z', mode: 'off' });
    const runner = s.start();
    await s.tick('2025-06-02T00:06:00Z');
    await s.tick('2025-06-02T01:00:00Z');
    const decisions = s.named('prune.decision');
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]?.mode, 'off');
    assert.equal(decisions[0]?.fire, true);
    assert.deepEqual(s.port.calls, []);
    assert.deepEqual(s.pruneState, {});
    assert.equal(s.saves.length, 0);
    await runner.stop();
  });

  it('says when the next boundary is', async () => {
    const s = setup({ start: '2025-06-02T13:00:00Z' });
    const runner = s.start();
    assert.equal(iso(runner.nextBoundary()), '2025-06-03T00:00:00.000Z');
    await runner.stop();
  });

  describe('its records move the prune counters of /metrics (docs/metrics.md)', () => {
    const runs = 'layerwarden_prune_runs_total';

    it('a run that fires: completed, removed by kind, bytes reclaimed as prune.done says', async () => {
      const s = setup({ start: '2025-06-01T22:00:00Z', world: busyWorld(oldImages) });
      const runner = s.start();
      await s.tick('2025-06-02T00:30:00Z');
      await s.change(oldImages); // the run ends: the first idle moment in the window
      const [done] = s.named('prune.done');
      assert.equal(done?.outcome, 'done');
      assert.equal(await s.counter(runs, { outcome: 'completed' }), 1);
      assert.equal(await s.counter('layerwarden_prune_removed_total', { kind: 'image' }), 2);
      assert.equal(await s.counter('layerwarden_prune_reclaimed_bytes_total'), done?.reclaimedBytes);
      assert.ok((done?.reclaimedBytes ?? 0) > 0);
      await runner.stop();
    });

    it('a window that closes while busy: skipped', async () => {
      const s = setup({ start: '2025-06-01T22:00:00Z', world: busyWorld(oldImages) });
      const runner = s.start();
      await s.tick('2025-06-02T03:00:00Z');
      await s.clock.advanceTo(at('2025-06-02T12:00:00Z'));
      assert.equal(s.named('prune.skipped').length, 1);
      assert.equal(await s.counter(runs, { outcome: 'skipped' }), 1);
      assert.equal(await s.counter(runs, { outcome: 'completed' }), 0);
      await runner.stop();
    });

    it("the engine's own prune holds the lock: aborted, then the retry completes", async () => {
      const s = setup({ start: '2025-06-02T00:00:30Z' });
      s.port.outcomes.set('sha256:a', { kind: 'conflict', message: 'a prune operation is already running' });
      const runner = s.start();
      await s.tick('2025-06-02T00:01:00Z');
      assert.equal(await s.counter(runs, { outcome: 'aborted' }), 1);
      s.port.outcomes.clear();
      await s.clock.advanceTo(at('2025-06-02T00:07:00Z'));
      assert.equal(await s.counter(runs, { outcome: 'completed' }), 1);
      assert.equal(await s.counter('layerwarden_prune_removed_total', { kind: 'image' }), 2);
      await runner.stop();
    });

    it('nothing to remove: gated', async () => {
      const s = setup({ start: '2025-06-02T00:05:00Z', world: { images: [] } });
      const runner = s.start();
      await s.tick('2025-06-02T00:06:00Z');
      assert.equal(s.named('prune.decision')[0]?.fire, false);
      assert.equal(await s.counter(runs, { outcome: 'gated' }), 1);
      await runner.stop();
    });

    it('a dry run: dry-run, nothing removed nor reclaimed', async () => {
      const s = setup({ start: '2025-06-02T00:05:00Z', mode: 'dry-run' });
      const runner = s.start();
      await s.tick('2025-06-02T00:06:00Z');
      assert.equal(s.named('prune.would-remove').length > 0, true);
      assert.equal(await s.counter(runs, { outcome: 'dry-run' }), 1);
      assert.equal(await s.counter('layerwarden_prune_removed_total', { kind: 'image' }), undefined);
      assert.equal(await s.counter('layerwarden_prune_reclaimed_bytes_total'), 0);
      await runner.stop();
    });
  });
});
