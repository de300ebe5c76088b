import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSettle } from '../../src/agent/settle.js';
import type { Note } from '../../src/model/types.js';
import { createExecutor, type ExecuteRequest } from '../../src/prune/executor.js';
import { planPrune } from '../../src/prune/plan.js';
import {
  container,
  fakePort,
  H,
  image,
  liveOf,
  modelOf,
  resnapshot,
  service,
  type World,
  diskAt,
} from './world.js';

const NOW = Date.parse('2025-06-02T01:00:00Z');
const policy = { minAgeMs: 24 * H };
const disk = diskAt;

/** Two old digest-only images (40 h and 30 h untouched) and a container stopped 30 h ago. */
const world = (): World => ({
  images: [image('old'), image('older'), image('base', { tags: ['base:1'] })],
  containers: [container('done', 'base', 'exited', NOW - 30 * H)],
});

function setup(w: World = world(), opts: { disks?: number[] } = {}) {
  const model = modelOf(w, NOW, 30 * H, { 'sha256:older': 40 * H });
  const live = liveOf(model, () => NOW);
  const port = fakePort();
  const notes: Note[] = [];
  const disks = [...(opts.disks ?? [])];
  const executor = createExecutor({
    port,
    live,
    log: (n) => notes.push(n),
    now: () => NOW,
    readDisk: async () => disk(disks.shift() ?? 90),
  });
  const request = (extra: Partial<ExecuteRequest> = {}): ExecuteRequest => ({
    plan: planPrune(model, policy, NOW),
    policy,
    dryRun: false,
    context: { trigger: 'now' },
    ...extra,
  });
  return { model, live, port, notes, executor, request };
}

const events = (notes: Note[]) => notes.map((n) => n.event);

describe('executor', () => {
  it('removes containers, then images oldest-untouched first, then the build cache, logging each', async () => {
    const { port, notes, executor, request, live } = setup();
    port.buildCacheReclaimed = 4096;
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, [
      'container c-done',
      'image sha256:older',
      'image sha256:old',
      'build-cache 24h',
    ]);
    assert.equal(result.outcome, 'done');
    assert.deepEqual(
      result.removed.map((r) => [r.kind, r.id, r.bytes]),
      [
        ['container', 'c-done', 0],
        ['image', 'sha256:older', 1000],
        ['image', 'sha256:old', 1000],
        ['build-cache', 'until=24h', 4096],
      ],
    );
    assert.equal(result.reclaimedBytes, 6096);
    assert.deepEqual(events(notes), [...Array(4).fill('prune.removed'), 'prune.done']);
    const done = notes.at(-1);
    assert.equal(done?.removed, 4);
    assert.equal(done?.reclaimedBytes, 6096);
    // Each image removal was announced to the loop first, then its answer: the eviction is the agent's.
    assert.deepEqual(
      live.pushed.map((p) => (p.kind === 'own-removal' ? `${p.id} ${p.answer ?? 'announced'}` : p.kind)),
      ['sha256:older announced', 'sha256:older removed', 'sha256:old announced', 'sha256:old removed'],
    );
  });

  it('stops before the next removal the moment the host turns busy, with the reasons', async () => {
    const { model, port, notes, executor, request } = setup();
    const w = world();
    port.after = (call) => {
      // A stack is deployed while the first removal runs.
      if (call === 'container c-done')
        resnapshot(model, { ...w, services: [service('ci-7', 'app:1', 1, 0)] }, NOW);
    };
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, ['container c-done']);
    assert.equal(result.outcome, 'aborted');
    assert.equal(result.aborted?.reason, 'host busy');
    assert.match(result.aborted?.busy?.join() ?? '', /service ci-7 converging \(0\/1\)/);
    assert.deepEqual(events(notes), ['prune.removed', 'prune.aborted', 'prune.done']);
    assert.equal(notes.at(-1)?.aborted, 'host busy');
  });

  it('skips an item that is no longer eligible and goes on', async () => {
    const { model, port, notes, executor, request } = setup();
    const w = world();
    const plan = request().plan;
    // Between plan and removal a container was created from the oldest image.
    resnapshot(
      model,
      { ...w, containers: [...(w.containers ?? []), container('new', 'older', 'created')] },
      NOW,
    );
    const result = await executor.execute(request({ plan }));
    assert.deepEqual(port.calls, ['container c-done', 'image sha256:old', 'build-cache 24h']);
    assert.deepEqual(result.skipped, [
      { kind: 'image', id: 'sha256:older', reason: 'in use by container new (created)' },
    ]);
    assert.ok(notes.some((n) => n.event === 'prune.skipped' && n.id === 'sha256:older'));
  });

  it('counts 404 as already gone and skips 409 as in use; neither is left marked as its own removal', async () => {
    const { port, executor, request, model } = setup();
    port.outcomes.set('sha256:older', { kind: 'gone' });
    port.outcomes.set('sha256:old', {
      kind: 'conflict',
      message: 'conflict: unable to delete (image is being used)',
    });
    const result = await executor.execute(request());
    assert.deepEqual(result.alreadyGone, [{ kind: 'image', id: 'sha256:older' }]);
    assert.equal(result.skipped[0]?.id, 'sha256:old');
    assert.match(result.skipped[0]?.reason ?? '', /^in use: conflict/);
    assert.equal(result.outcome, 'done');
    assert.equal(model.ownRemovals.size, 0);
  });

  it("abandons the run when the engine's own prune holds the lock, as retryable", async () => {
    const { port, executor, request, notes } = setup();
    port.outcomes.set('sha256:older', { kind: 'conflict', message: 'a prune operation is already running' });
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, ['container c-done', 'image sha256:older']);
    assert.equal(result.outcome, 'aborted');
    assert.deepEqual(
      { reason: result.aborted?.reason, retryable: result.aborted?.retryable },
      { reason: 'engine prune running', retryable: true },
    );
    assert.ok(notes.some((n) => n.event === 'prune.aborted' && n.reason === 'engine prune running'));
  });

  it('turns a throwing port into a skipped item, never an exception', async () => {
    const { port, executor, request } = setup();
    port.outcomes.set('sha256:older', new Error('socket hang up'));
    const result = await executor.execute(request());
    assert.equal(result.outcome, 'done');
    assert.deepEqual(result.skipped, [
      { kind: 'image', id: 'sha256:older', reason: 'engine error: socket hang up' },
    ]);
    assert.ok(port.calls.includes('image sha256:old'));
  });

  it('stops early below the low-water mark', async () => {
    const { port, executor, request, notes } = setup(world(), { disks: [70, 65, 55] });
    const result = await executor.execute(request({ diskLowPercent: 60 }));
    assert.deepEqual(port.calls, ['container c-done', 'image sha256:older']);
    assert.equal(result.outcome, 'low-water');
    assert.ok(notes.some((n) => n.event === 'prune.low-water' && n.usedPercent === 55));
  });

  it('removes nothing in a dry run and logs what would go', async () => {
    const { port, executor, request, notes } = setup();
    const result = await executor.execute(request({ dryRun: true }));
    assert.deepEqual(port.calls, []);
    assert.deepEqual(
      result.wouldRemove.map((r) => r.id),
      ['c-done', 'sha256:older', 'sha256:old'],
    );
    assert.equal(result.removed.length, 0);
    assert.equal(notes.filter((n) => n.event === 'prune.would-remove').length, 4);
    assert.equal(notes.at(-1)?.dryRun, true);
  });

  it('is single-flight: a second run while one is under way is refused', async () => {
    const { port, executor, request, notes } = setup();
    let second: Promise<unknown> | undefined;
    port.after = (call) => {
      if (call === 'container c-done') second = executor.execute(request());
    };
    const first = await executor.execute(request());
    const refused = (await second) as { outcome: string };
    assert.equal(first.outcome, 'done');
    assert.equal(refused.outcome, 'refused');
    assert.equal(port.calls.filter((c) => c === 'container c-done').length, 1);
    assert.ok(notes.some((n) => n.event === 'prune.refused'));
  });

  it("pings before the first removal only: each later barrier uses the engine's answer to the previous one", async () => {
    const { port, executor, request, live } = setup();
    let pings = 0;
    port.ping = async () => {
      pings += 1;
    };
    const answers: string[] = [];
    const settle = createSettle({ port, queueDepth: () => 0, idle: live.idle });
    live.settle = (hint) => {
      answers.push(`${port.calls.length}:${pings}`);
      return settle(hint);
    };
    // The second removal gets no answer at all: the barrier before the third must ping again.
    port.outcomes.set('sha256:older', new Error('socket hang up'));
    await executor.execute(request());
    assert.deepEqual(port.calls, [
      'container c-done',
      'image sha256:older',
      'image sha256:old',
      'build-cache 24h',
    ]);
    assert.equal(pings, 2);
    // Calls made : pings made, as each barrier began (the build cache's barrier comes after sha256:old).
    assert.deepEqual(answers, ['0:0', '1:1', '2:1', '3:2']);
  });

  it('aborts when the model does not settle', async () => {
    const { port, executor, request, live } = setup();
    live.settle = async () => ({ ok: false, reason: 'model did not settle' });
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, []);
    assert.equal(result.aborted?.reason, 'model did not settle');
  });
});
