import type { AnyRecord } from '../records.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent, ImageDetail } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import {
  BURST_MAX_EVICTIONS,
  BURST_MAX_MS,
  BURST_QUIET_MS,
  claimedByPrune,
} from '../../src/model/evictions/evictions.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Note, Step } from '../../src/model/types.js';
import { ENGINE_INFO, IMAGE_A, IMAGE_B, IMAGE_C, replayFixture } from './eviction-fixture.js';

const evictions = (notes: AnyRecord[]) => notes.filter((n) => n.event === 'eviction');
const byImage = (notes: AnyRecord[], id: string) => evictions(notes).filter((n) => n.image === id);

describe('eviction records from the recorded run/rmi/prune stream', () => {
  const { notes } = replayFixture();

  it('logs each image that left the host once, with the refs it had before the untag stripped them', () => {
    assert.deepEqual(
      evictions(notes).map((n) => n.image),
      [IMAGE_B.id, IMAGE_C.id, IMAGE_A.id],
    );
    for (const image of [IMAGE_A, IMAGE_B, IMAGE_C]) {
      const [note] = byImage(notes, image.id);
      assert.deepEqual(note?.refs, [...image.tags, ...image.digests]);
      assert.equal(note?.size, image.size);
      assert.equal(note?.by, 'external');
      assert.equal(note?.cause, 'delete-event');
    }
  });

  it('flags the evictions made while the compose run was live, with its name, at warn', () => {
    for (const id of [IMAGE_B.id, IMAGE_C.id]) {
      const [note] = byImage(notes, id);
      assert.equal(note?.duringRun, true);
      assert.deepEqual(note?.stacks, ['ci-run']);
      assert.equal(note?.level, 'warn');
    }
    const [after] = byImage(notes, IMAGE_A.id);
    assert.equal(after?.duringRun, false);
    assert.deepEqual(after?.stacks, []);
    assert.equal(after?.level, 'info');
  });

  it('gives the prune its own burst (reclaimed bytes) and leaves the rmi 20 ms before it a delete', () => {
    const [rmi] = byImage(notes, IMAGE_B.id);
    const [pruned] = byImage(notes, IMAGE_C.id);
    assert.equal(rmi?.activity, 'delete');
    assert.equal(rmi?.prune, undefined);
    assert.equal(pruned?.activity, 'engine-prune');
    const prune = notes.find((n) => n.event === 'engine.prune');
    assert.deepEqual(pruned?.prune, { at: prune?.at, reclaimed: 12288 });
    assert.equal(prune?.evictions, 1);
    assert.equal(prune?.claimedBy, 'reclaimed-bytes');
    // What the model freed is what the engine says it reclaimed: the layer c did not share.
    assert.equal(pruned?.freedBytes, 12288);
    assert.equal(rmi?.freedBytes, 8192);
  });

  it('links the re-pull of the pruned image to the prune', () => {
    const pull = notes.find((n) => n.event === 'pull');
    assert.equal(pull?.class, 'partial');
    assert.deepEqual(pull?.bytes, { downloaded: 12288, reused: 1982502, known: true });
    const link = pull?.afterEviction as Record<string, unknown>;
    assert.equal(link.image, IMAGE_C.id);
    assert.equal(link.by, 'external');
    assert.equal(link.activity, 'engine-prune');
    assert.equal(link.match, 'image');
    assert.equal(link.at, byImage(notes, IMAGE_C.id)[0]?.at);
    assert.ok((link.afterSeconds as number) > 0 && (link.afterSeconds as number) < 1);
  });

  it('logs the eviction after the run once its burst has been quiet for BURST_QUIET_MS', () => {
    const replay = replayFixture();
    const lastDelete = [...replay.inputs]
      .reverse()
      .find((i) => i.input.kind === 'event' && i.input.event.action === 'delete');
    const settle = replay.inputs.at(-1);
    assert.equal(settle?.input.kind, 'evictions.settle');
    assert.equal(settle?.at, (lastDelete?.at ?? 0) + BURST_QUIET_MS);
  });
});

const policy = ALL_STACKS_ARE_RUNS;
function image(id: string, tags: string[], digests: string[] = [], layers = [`l-${id}`]): ImageDetail {
  return { id, tags, digests, size: 100, created: 0, layers, layerSizes: layers.map(() => 10) };
}
function event(type: string, action: string, actorId: string, timeMs: number, attrs = {}): EngineEvent {
  return { type, action, actorId, attributes: attrs, scope: 'local', timeMs, timeNano: `${timeMs}000000` };
}
function modelWith(images: ImageDetail[], now = 0): Model {
  const model = createModel();
  apply(model, { kind: 'stream.up', attempt: 0 }, { now, policy });
  apply(
    model,
    {
      kind: 'snapshot',
      reason: 'start',
      snapshot: { info: ENGINE_INFO, images, containers: [], services: [], tasks: [] },
    },
    { now, policy },
  );
  return model;
}
const step = (model: Model, input: ModelInput, now: number): Step => apply(model, input, { now, policy });
const ev = (model: Model, e: EngineEvent) => step(model, { kind: 'event', event: e }, e.timeMs);

describe('what counts as an eviction', () => {
  it('an image that loses its last ref but stays is not one; its later delete reports the ref', () => {
    const model = modelWith([image('sha256:x', ['app:1'], ['app@sha256:d1'])]);
    const strip = step(model, { kind: 'images', images: [image('sha256:x', [], [])] }, 1000);
    assert.deepEqual(evictions(strip.notes), []);
    assert.deepEqual(model.images.get('sha256:x')?.formerRefs, ['app:1', 'app@sha256:d1']);
    // Tagged again, then the tag moves away: the refs it lost are what it had.
    step(model, { kind: 'images', images: [image('sha256:x', ['app:2'], [])] }, 2000);
    assert.deepEqual(model.images.get('sha256:x')?.formerRefs, ['app:1', 'app@sha256:d1']);
    step(model, { kind: 'images', images: [image('sha256:x', [], [])] }, 3000);
    ev(model, event('image', 'delete', 'sha256:x', 4000));
    const done = step(model, { kind: 'evictions.settle' }, 4000 + BURST_QUIET_MS);
    assert.deepEqual(evictions(done.notes)[0]?.refs, ['app:2', 'app:1', 'app@sha256:d1']);
  });

  it("the executor's own removal is logged when its DELETE answers, by layerwarden, at info even during a run", () => {
    const model = modelWith([image('sha256:x', [])]);
    model.liveStacks.set('ci-1', { kind: 'swarm', since: 0 });
    step(model, { kind: 'own-removal', id: 'sha256:x' }, 10);
    const seen = ev(model, event('image', 'delete', 'sha256:x', 20));
    assert.deepEqual(evictions(seen.notes), [], 'whose it is waits for the answer');
    const s = step(model, { kind: 'own-removal', id: 'sha256:x', answer: 'removed' }, 21);
    const [note] = evictions(s.notes);
    assert.equal(note?.by, 'layerwarden');
    assert.equal(note?.activity, 'delete');
    assert.equal(note?.duringRun, true);
    assert.deepEqual(note?.stacks, ['ci-1']);
    assert.equal(note?.level, 'info');
    assert.equal(model.ownRemovals.size, 0);
    assert.equal(model.heldEvictions, undefined);
  });

  it('an answer that comes before the event: the eviction is logged at the event, by layerwarden', () => {
    const model = modelWith([image('sha256:x', [])]);
    step(model, { kind: 'own-removal', id: 'sha256:x' }, 10);
    assert.deepEqual(
      evictions(step(model, { kind: 'own-removal', id: 'sha256:x', answer: 'removed' }, 11).notes),
      [],
    );
    const [note] = evictions(ev(model, event('image', 'delete', 'sha256:x', 12)).notes);
    assert.equal(note?.by, 'layerwarden');
    assert.equal(model.ownRemovals.size, 0);
  });

  it('someone else removed it between our announcement and our DELETE (404): external, held in the burst', () => {
    const model = modelWith([image('sha256:x', [])]);
    model.liveStacks.set('ci-1', { kind: 'swarm', since: 0 });
    step(model, { kind: 'own-removal', id: 'sha256:x' }, 10);
    ev(model, event('image', 'delete', 'sha256:x', 20));
    const answered = step(model, { kind: 'own-removal', id: 'sha256:x', answer: 'not-removed' }, 30);
    assert.deepEqual(evictions(answered.notes), [], 'held with the external burst');
    const [note] = evictions(step(model, { kind: 'evictions.settle' }, 30 + BURST_QUIET_MS).notes);
    assert.equal(note?.by, 'external');
    assert.equal(note?.activity, 'delete');
    assert.equal(note?.level, 'warn', 'external during a run');
    assert.equal(model.ownRemovals.size, 0);
  });

  it('an unanswered removal is logged on stop as the agent’s; a 409 leaves nothing behind', () => {
    const model = modelWith([image('sha256:x', []), image('sha256:y', [])]);
    step(model, { kind: 'own-removal', id: 'sha256:x' }, 10);
    ev(model, event('image', 'delete', 'sha256:x', 20));
    step(model, { kind: 'own-removal', id: 'sha256:y' }, 30);
    step(model, { kind: 'own-removal', id: 'sha256:y', answer: 'not-removed' }, 31);
    assert.equal(model.ownRemovals.size, 1);
    const [note] = evictions(step(model, { kind: 'evictions.settle', final: true }, 40).notes);
    assert.equal(note?.by, 'layerwarden');
    assert.equal(note?.image, 'sha256:x');
    assert.equal(model.ownRemovals.size, 0);
  });

  it('a settle before the burst is quiet asks again for the rest of the wait', () => {
    const model = modelWith([image('sha256:x', ['a:1']), image('sha256:y', ['b:1'])]);
    const first = ev(model, event('image', 'delete', 'sha256:x', 1000));
    assert.deepEqual(evictions(first.notes), []);
    assert.deepEqual(first.wants.at(-1), { kind: 'settle-evictions', delayMs: BURST_QUIET_MS });
    ev(model, event('image', 'untag', 'sha256:y', 1500));
    const early = step(model, { kind: 'evictions.settle' }, 1000 + BURST_QUIET_MS);
    assert.deepEqual(evictions(early.notes), []);
    assert.deepEqual(early.wants, [{ kind: 'settle-evictions', delayMs: 500 }]);
    const late = step(model, { kind: 'evictions.settle' }, 1500 + BURST_QUIET_MS);
    assert.equal(evictions(late.notes)[0]?.activity, 'delete');
  });

  it('a final settle (agent stop) logs what is held at once', () => {
    const model = modelWith([image('sha256:x', ['a:1'])]);
    ev(model, event('image', 'delete', 'sha256:x', 1000));
    const s = step(model, { kind: 'evictions.settle', final: true }, 1001);
    assert.equal(evictions(s.notes).length, 1);
  });

  it('an image a list no longer shows is an eviction of unknown activity, named by a late delete event', () => {
    const model = modelWith([image('sha256:x', ['a:1']), image('sha256:y', ['b:1'])]);
    step(model, { kind: 'images', images: [image('sha256:y', ['b:1'])] }, 1000);
    ev(model, event('image', 'delete', 'sha256:x', 1005));
    const s = step(model, { kind: 'evictions.settle' }, 1005 + BURST_QUIET_MS);
    const [note] = evictions(s.notes);
    assert.equal(note?.cause, 'delete-event');
    assert.equal(note?.activity, 'delete');
    assert.equal(note?.at, new Date(1005).toISOString());

    const lone = modelWith([image('sha256:z', ['c:1'])]);
    step(lone, { kind: 'images', images: [] }, 1000);
    const quiet = step(lone, { kind: 'evictions.settle' }, 1000 + BURST_QUIET_MS);
    assert.deepEqual(
      evictions(quiet.notes).map((n) => [n.cause, n.activity]),
      [['list', 'unknown']],
    );
  });

  it('a burst that never goes quiet is logged once it holds BURST_MAX_EVICTIONS; the next one opens anew', () => {
    const n = BURST_MAX_EVICTIONS + 1;
    const ids = Array.from({ length: n }, (_, i) => `sha256:${i}`);
    const model = modelWith(ids.map((id) => image(id, [`app:${id.slice(7)}`])));
    const logged: AnyRecord[] = [];
    // One delete every millisecond: never 2 s of quiet, never a minute open.
    ids.forEach((id, i) =>
      logged.push(...evictions(ev(model, event('image', 'delete', id, 1000 + i)).notes)),
    );
    assert.deepEqual(
      logged.map((e) => e.image),
      ids.slice(0, BURST_MAX_EVICTIONS),
      'the full burst, in order, when the next eviction comes',
    );
    assert.ok(logged.every((e) => e.activity === 'delete'));
    assert.deepEqual(
      model.heldEvictions?.items.map((i) => i.note.image),
      [ids.at(-1)],
    );
    // A prune that ends now claims only what is still held.
    const prune = ev(model, event('image', 'prune', '', 5000, { reclaimed: '10' }));
    assert.deepEqual(
      evictions(prune.notes).map((e) => [e.image, e.activity]),
      [[ids.at(-1), 'engine-prune']],
    );
  });

  it('a burst open for BURST_MAX_MS is logged at its next eviction, however busy the host', () => {
    const gapMs = 1500;
    const count = Math.ceil(BURST_MAX_MS / gapMs) + 1;
    const ids = Array.from({ length: count }, (_, i) => `sha256:${i}`);
    const model = modelWith(ids.map((id) => image(id, [])));
    const logged: AnyRecord[] = [];
    ids.forEach((id, i) =>
      logged.push(...evictions(ev(model, event('image', 'delete', id, 1000 + i * gapMs)).notes)),
    );
    assert.deepEqual(
      logged.map((e) => e.image),
      ids.slice(0, -1),
    );
    assert.equal(model.heldEvictions?.items.length, 1);
    assert.equal(model.heldEvictions?.openedAt, 1000 + (count - 1) * gapMs);
  });

  it('a prune event with no burst claims nothing', () => {
    const model = modelWith([]);
    const s = ev(model, event('image', 'prune', '', 1000, { reclaimed: '0' }));
    assert.deepEqual(s.notes, [
      {
        event: 'engine.prune',
        what: 'image',
        at: new Date(1000).toISOString(),
        reclaimed: 0,
        evictions: 0,
        claimedBy: 'burst',
      },
    ]);
  });
});

describe('claimedByPrune', () => {
  const items = (...bytes: Array<number | undefined>) =>
    bytes.map((b) => ({ note: b === undefined ? {} : { freedBytes: b } }));
  const table: Array<[string, ReturnType<typeof items>, number, { count: number; by: string }]> = [
    ['the last one adds up', items(8192, 12288), 12288, { count: 1, by: 'reclaimed-bytes' }],
    ['all add up', items(8192, 12288), 20480, { count: 2, by: 'reclaimed-bytes' }],
    [
      'shared layers: zeros are the prune, the longest run wins',
      items(0, 0),
      0,
      { count: 2, by: 'reclaimed-bytes' },
    ],
    ['a prune that freed nothing claims none', items(8192), 0, { count: 0, by: 'reclaimed-bytes' }],
    ['nothing adds up: the whole burst', items(100, 200), 150, { count: 2, by: 'burst' }],
    ['a size unknown: the whole burst', items(100, undefined), 100, { count: 2, by: 'burst' }],
  ];
  for (const [name, held, reclaimed, want] of table) {
    it(name, () => assert.deepEqual(claimedByPrune(held, reclaimed), want));
  }
});
