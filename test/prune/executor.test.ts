import type { AnyRecord } from '../records.js';
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
  const notes: AnyRecord[] = [];
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

const events = (notes: AnyRecord[]) => notes.map((n) => n.event);

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

/** One image pulled by digest under two names (as swarm leaves it), then an old digest-only image. */
const DIGEST = `sha256:${'d'.repeat(64)}`;
const REF_A = `127.0.0.1:5000/lw/a@${DIGEST}`;
const REF_B = `127.0.0.1:5000/lw/b@${DIGEST}`;
const twoRepos = (digests = [REF_B, REF_A]) => image('multi', { digests });
const multiWorld = (extra: Partial<World> = {}, digests?: string[]): World => ({
  images: [twoRepos(digests), image('old')],
  ...extra,
});

function setupMulti() {
  const model = modelOf(multiWorld(), NOW, 30 * H, { 'sha256:multi': 40 * H });
  const live = liveOf(model, () => NOW);
  const port = fakePort();
  const notes: AnyRecord[] = [];
  /** The model's own records of what the engine showed it (an eviction among them). */
  const modelNotes: AnyRecord[] = [];
  /** What each barrier saw: requests sent so far, and the refs the model held for the image. */
  const barriers: string[] = [];
  live.settle = async () => {
    barriers.push(`${port.calls.length}: ${model.images.get('sha256:multi')?.digests.join(' ') ?? 'gone'}`);
    return { ok: true };
  };
  /** The engine after a request: its untag or delete, seen by the model as the loop would (a list). */
  const engineShows = (w: World) => modelNotes.push(...resnapshot(model, w, NOW));
  const executor = createExecutor({
    port,
    live,
    log: (n) => notes.push(n),
    now: () => NOW,
    readDisk: async () => disk(90),
  });
  const request = (extra: Partial<ExecuteRequest> = {}): ExecuteRequest => ({
    plan: planPrune(model, policy, NOW),
    policy,
    dryRun: false,
    context: { trigger: 'now' },
    ...extra,
  });
  const evictions = () => [...modelNotes, ...live.notes].filter((n) => n.event === 'eviction');
  const own = () =>
    live.pushed.map((p) =>
      p.kind === 'own-removal' ? `${p.id.slice(7)} ${p.answer ?? 'announced'}` : p.kind,
    );
  return { model, live, port, notes, barriers, engineShows, executor, request, evictions, own };
}

describe('executor: an image whose digest refs span repositories', () => {
  it('is removed by its refs in turn, each request after its own barrier; only the last is an eviction, the agent’s', async () => {
    const { port, notes, barriers, engineShows, executor, request, evictions, own } = setupMulti();
    port.outcomes.set(REF_A, { kind: 'untagged' });
    port.after = (call) => {
      if (call === `image ${REF_A}`) engineShows(multiWorld({}, [REF_B]));
      if (call === `image ${REF_B}`) engineShows({ images: [image('old')] });
    };
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, [`image ${REF_A}`, `image ${REF_B}`, 'image sha256:old', 'build-cache 24h']);
    // One barrier (settle, idle, re-check) before every request, the second seeing the untag applied.
    assert.deepEqual(barriers, [`0: ${REF_B} ${REF_A}`, `1: ${REF_B}`, '2: gone', '3: gone']);
    assert.deepEqual(result.removed.map((r) => [r.id, r.bytes, r.byRefs]).slice(0, 1), [
      ['sha256:multi', 1000, [REF_A, REF_B]],
    ]);
    assert.equal(result.reclaimedBytes, 2000);
    const removed = notes.find((n) => n.event === 'prune.removed' && n.id === 'sha256:multi');
    assert.deepEqual(removed?.byRefs, [REF_A, REF_B]);
    assert.deepEqual(removed?.refs, [REF_B, REF_A]);
    // Each DELETE announced as the agent's, and answered: the untag removed nothing.
    assert.deepEqual(own(), [
      'multi announced',
      'multi not-removed',
      'multi announced',
      'multi removed',
      'old announced',
      'old removed',
    ]);
    const multi = evictions().filter((e) => e.image === 'sha256:multi');
    assert.equal(multi.length, 1, 'no eviction for the untag');
    assert.equal(multi[0]?.by, 'layerwarden');
    assert.deepEqual(new Set(multi[0]?.refs as string[]), new Set([REF_A, REF_B]));
  });

  it('re-checks before the last ref: a container created from it meanwhile stops there, and the record says what went', async () => {
    const { port, notes, engineShows, executor, request, model } = setupMulti();
    port.outcomes.set(REF_A, { kind: 'untagged' });
    port.after = (call) => {
      if (call === `image ${REF_A}`)
        engineShows(multiWorld({ containers: [container('new', 'multi', 'created')] }, [REF_B]));
    };
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, [`image ${REF_A}`, 'image sha256:old', 'build-cache 24h']);
    assert.deepEqual(result.skipped, [
      { kind: 'image', id: 'sha256:multi', reason: 'in use by container new (created)' },
    ]);
    const skipped = notes.find((n) => n.event === 'prune.skipped');
    assert.deepEqual(skipped?.untagged, [REF_A]);
    assert.ok(model.images.has('sha256:multi'));
    assert.ok(!model.ownRemovals.has('sha256:multi'), 'not left marked as its own removal');
  });

  it('passes over a ref someone else removed meanwhile (404) and never sends it twice', async () => {
    const { port, notes, engineShows, executor, request, evictions } = setupMulti();
    // The model still lists the ref after the 404 (no event seen yet): the executor must not loop on it.
    port.outcomes.set(REF_A, { kind: 'gone' });
    port.after = (call) => {
      if (call === `image ${REF_B}`) engineShows({ images: [image('old')] });
    };
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, [`image ${REF_A}`, `image ${REF_B}`, 'image sha256:old', 'build-cache 24h']);
    assert.deepEqual(result.removed[0]?.byRefs, [REF_B]);
    assert.deepEqual(result.alreadyGone, []);
    assert.ok(!notes.some((n) => n.event === 'prune.skipped'));
    assert.equal(evictions().find((e) => e.image === 'sha256:multi')?.by, 'layerwarden');
  });

  it('stops when the host turns busy between two refs; the image stays with the rest, logged as stopped midway', async () => {
    const { port, notes, engineShows, executor, request, model } = setupMulti();
    port.outcomes.set(REF_A, { kind: 'untagged' });
    port.after = (call) => {
      if (call === `image ${REF_A}`)
        engineShows(multiWorld({ services: [service('ci-7', 'app:1', 1, 0)] }, [REF_B]));
    };
    const result = await executor.execute(request());
    assert.deepEqual(port.calls, [`image ${REF_A}`]);
    assert.equal(result.outcome, 'aborted');
    assert.equal(result.aborted?.reason, 'host busy');
    assert.deepEqual(result.skipped, [
      { kind: 'image', id: 'sha256:multi', reason: 'stopped midway: host busy' },
    ]);
    assert.deepEqual(events(notes), ['prune.aborted', 'prune.skipped', 'prune.done']);
    const midway = notes[1];
    assert.deepEqual(
      { reason: midway?.reason, detail: midway?.detail, untagged: midway?.untagged, level: midway?.level },
      { reason: 'stopped midway', detail: 'host busy', untagged: [REF_A], level: 'warn' },
    );
    assert.deepEqual(model.images.get('sha256:multi')?.digests, [REF_B]);
  });

  it('the last ref refused (409: a container holds it) is skipped as in use, never forced', async () => {
    const { port, notes, executor, request, model, own } = setupMulti();
    port.outcomes.set(REF_A, { kind: 'untagged' });
    const message = `conflict: unable to remove repository reference "${REF_B}" (must force) - container 6490953a9b32 is using its referenced image 8d8fbbff9b05`;
    port.outcomes.set(REF_B, { kind: 'conflict', message });
    const result = await executor.execute(request());
    assert.deepEqual(port.calls.slice(0, 2), [`image ${REF_A}`, `image ${REF_B}`]);
    assert.deepEqual(result.skipped, [{ kind: 'image', id: 'sha256:multi', reason: `in use: ${message}` }]);
    const skipped = notes.find((n) => n.event === 'prune.skipped');
    assert.deepEqual([skipped?.reason, skipped?.untagged], ['in use', [REF_A]]);
    assert.deepEqual(own().slice(0, 4), [
      'multi announced',
      'multi not-removed',
      'multi announced',
      'multi not-removed',
    ]);
    assert.ok(!model.ownRemovals.has('sha256:multi'), 'not left marked as its own removal');
  });

  it('a ref that turns out to be the last (the engine deleted the image) ends it there, as the agent’s removal', async () => {
    const { port, executor, request, own } = setupMulti();
    const result = await executor.execute(request());
    assert.deepEqual(port.calls.slice(0, 2), [`image ${REF_A}`, 'image sha256:old']);
    assert.deepEqual(result.removed[0]?.byRefs, [REF_A]);
    assert.deepEqual(own().slice(0, 2), ['multi announced', 'multi removed']);
  });

  it('a dry run lists the refs it would send; refs in one repository still go by id', async () => {
    const dry = setupMulti();
    const result = await dry.executor.execute(dry.request({ dryRun: true }));
    assert.deepEqual(dry.port.calls, []);
    assert.deepEqual(result.wouldRemove[0]?.byRefs, [REF_A, REF_B]);
    assert.equal(result.wouldRemove[1]?.byRefs, undefined);

    const sameRepo = [`127.0.0.1:5000/lw/a@${DIGEST}`, `127.0.0.1:5000/lw/a@sha256:${'e'.repeat(64)}`];
    const model = modelOf(multiWorld({}, sameRepo), NOW, 30 * H);
    const port = fakePort();
    await createExecutor({
      port,
      live: liveOf(model, () => NOW),
      log: () => {},
      now: () => NOW,
      readDisk: async () => disk(90),
    }).execute({ ...dry.request(), plan: planPrune(model, policy, NOW) });
    assert.deepEqual(port.calls.slice(0, 2), ['image sha256:multi', 'image sha256:old']);
  });
});
