import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PULL_REPEAT_MS } from '../../src/model/images/pulls.js';
import { image, T0, World } from './world.js';

const REF = 'registry.local:5000/ci/app:1';
const iso = (ms: number) => new Date(ms).toISOString();
/** Pull records without the fields every test would repeat. */
const brief = (n: Record<string, unknown>) => {
  const { event, registry, stacks, ...rest } = n;
  return rest;
};

describe('pull classification', () => {
  it('is cold when every layer is new, with bytes from the layer sizes', () => {
    const w = new World();
    w.snapshot(T0, [image('other', ['x'])]);
    const app = image(
      'app',
      [
        ['base', 5000],
        ['a', 300],
        ['b', 20],
      ],
      { tags: [REF] },
    );
    w.pull(T0 + 60_000, REF);
    const [note] = w.resolve(T0 + 60_010, REF, app);
    assert.deepEqual(brief(note!), {
      ref: REF,
      image: 'sha256:app',
      class: 'cold',
      layers: { total: 3, new: 3 },
      bytes: { downloaded: 5320, reused: 0, known: true },
      at: iso(T0 + 60_000),
    });
    assert.equal(note!.registry, 'registry.local:5000');
    assert.ok(w.model.images.has('sha256:app'));
  });

  it('is partial when the base was already there, splitting the bytes', () => {
    const w = new World();
    w.snapshot(T0, [image('old', [['base', 5000], 'x'])]);
    w.pull(T0 + 60_000, REF);
    const [note] = w.resolve(
      T0 + 60_010,
      REF,
      image(
        'app',
        [
          ['base', 5000],
          ['a', 300],
        ],
        { tags: [REF] },
      ),
    );
    assert.equal(note!.class, 'partial');
    assert.deepEqual(note!.layers, { total: 2, new: 1 });
    assert.deepEqual(note!.bytes, { downloaded: 300, reused: 5000, known: true });
  });

  it('is warm and up to date when the ref already named the image', () => {
    const w = new World();
    const app = image('app', ['base', 'a'], { tags: [REF] });
    w.snapshot(T0, [app]);
    w.pull(T0 + 60_000, REF);
    const [note] = w.resolve(T0 + 60_005, REF, app);
    assert.equal(note!.class, 'warm');
    assert.equal(note!.upToDate, true);
    assert.deepEqual(note!.bytes, { downloaded: 0, reused: 2000, known: true });
    assert.equal(note!.previous, undefined);
  });

  it('moves a tag to a new image: the old one is untagged in the model at once', () => {
    const w = new World();
    w.snapshot(T0, [
      image('v1', ['base', 'a'], { tags: [REF, 'app:keep'] }),
      image('v0', ['base'], { tags: ['x:1'] }),
    ]);
    w.pull(T0 + 60_000, REF);
    const [note] = w.resolve(T0 + 60_010, REF, image('v2', ['base', 'b'], { tags: [REF] }));
    assert.equal(note!.class, 'partial');
    assert.equal(note!.previous, 'sha256:v1');
    assert.deepEqual(w.model.images.get('sha256:v1')!.tags, ['app:keep']);
    assert.deepEqual(w.model.images.get('sha256:v1')!.formerRefs, [REF], 'the eviction audit still knows it');

    // Moving the last tag of an image starts its untagged clock.
    w.pull(T0 + 120_000, 'app:keep');
    w.resolve(T0 + 120_010, 'app:keep', image('v3', ['base', 'c'], { tags: ['app:keep'] }));
    const v1 = w.model.images.get('sha256:v1')!;
    assert.deepEqual(v1.tags, []);
    assert.equal(v1.untaggedSince, T0 + 120_010);
  });

  it('is warm but not up to date when the tag moves to an image already here', () => {
    const w = new World();
    w.snapshot(T0, [image('v1', ['base', 'a'], { tags: [REF] }), image('v2', ['base', 'b'])]);
    w.pull(T0 + 60_000, REF);
    const [note] = w.resolve(T0 + 60_010, REF, image('v2', ['base', 'b'], { tags: [REF] }));
    assert.equal(note!.class, 'warm');
    assert.equal(note!.upToDate, false);
    assert.equal(note!.previous, 'sha256:v1');
  });

  it('classifies a pull by digest against the digest ref', () => {
    const digest = 'sha256:d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1';
    const ref = `registry.local:5000/ci/app@${digest}`;
    const w = new World();
    const app = image('app', ['base'], { digests: [ref] });
    w.snapshot(T0, []);
    w.pull(T0 + 60_000, ref);
    assert.equal(w.resolve(T0 + 60_005, ref, app)[0]!.class, 'cold');
    w.pull(T0 + 200_000, ref);
    const [again] = w.resolve(T0 + 200_005, ref, app);
    assert.equal(again!.class, 'warm');
    assert.equal(again!.upToDate, true);
  });
});

describe('swarm repeats', () => {
  const SWARM_REF = `${REF}@sha256:${'e'.repeat(64)}`;
  const app = image('app', ['base', 'a'], {
    digests: [`registry.local:5000/ci/app@sha256:${'e'.repeat(64)}`],
  });

  it('gives one record per event: the first classified, the rest warm repeats of it', () => {
    const w = new World();
    w.snapshot(T0, []);
    for (const dt of [0, 1, 1]) w.pull(T0 + 60_000 + dt, SWARM_REF);
    const notes = w.resolve(T0 + 60_020, SWARM_REF, app);
    assert.deepEqual(
      notes.map((n) => [n.class, n.repeatOf]),
      [
        ['cold', undefined],
        ['warm', iso(T0 + 60_000)],
        ['warm', iso(T0 + 60_000)],
      ],
    );
    assert.deepEqual(notes[1]!.bytes, { downloaded: 0, reused: 2000, known: true });
  });

  it('answers only for the events its inspect started after; a later inspect takes the rest', () => {
    const w = new World();
    w.snapshot(T0, []);
    w.pull(T0 + 60_000, SWARM_REF);
    const upTo = w.model.pullSeq; // the loop starts the inspect here
    w.pull(T0 + 60_001, SWARM_REF);
    w.pull(T0 + 60_002, SWARM_REF);
    assert.deepEqual(
      w.resolve(T0 + 60_010, SWARM_REF, app, upTo).map((n) => n.class),
      ['cold'],
    );
    const rest = w.resolve(T0 + 60_020, SWARM_REF, app);
    assert.deepEqual(
      rest.map((n) => [n.class, n.repeatOf]),
      [
        ['warm', iso(T0 + 60_000)],
        ['warm', iso(T0 + 60_000)],
      ],
    );
    // A coalesced inspect that finds nothing left to answer says nothing.
    assert.deepEqual(w.resolve(T0 + 60_030, SWARM_REF, app), []);
  });

  it('does not call a pull a repeat once the repeat window has passed', () => {
    const w = new World();
    w.snapshot(T0, []);
    w.pull(T0 + 60_000, SWARM_REF);
    w.resolve(T0 + 60_010, SWARM_REF, app);
    w.pull(T0 + 60_000 + PULL_REPEAT_MS + 1, SWARM_REF);
    const [late] = w.resolve(T0 + 60_000 + PULL_REPEAT_MS + 10, SWARM_REF, app);
    assert.equal(late!.class, 'warm');
    assert.equal(late!.repeatOf, undefined);
  });
});

describe('a long queue of pulls waiting for their inspects', () => {
  it('gives up the oldest past 10,000 and still classifies the rest in event order', () => {
    const w = new World();
    w.snapshot(T0, [image('other', ['x'])]);
    const refs = Array.from({ length: 10_050 }, (_, i) => `registry.local:5000/ci/app-${i}:1`);
    refs.forEach((ref, i) => w.pull(T0 + 1000 + i, ref));
    // The 50 oldest were given up, one for each pull past the bound, oldest first.
    const given = w.pulls();
    assert.equal(given.length, 50);
    assert.deepEqual(
      given.map((n) => n.ref),
      refs.slice(0, 50),
    );
    assert.ok(given.every((n) => n.class === 'unknown' && /too many pulls/.test(String(n.reason))));
    assert.equal(w.model.pendingPulls.size, 10_000);
    // Answered out of order: each is classified only once every earlier one is.
    const t = T0 + 20_000;
    w.resolve(t, refs[51] as string, image('b', ['b'], { tags: [refs[51] as string] }));
    assert.equal(w.pulls().length, 50);
    w.resolve(t, refs[50] as string, image('a', ['a'], { tags: [refs[50] as string] }));
    assert.deepEqual(
      w
        .pulls()
        .slice(50)
        .map((n) => [n.ref, n.class]),
      [
        [refs[50], 'cold'],
        [refs[51], 'cold'],
      ],
    );
    // Stalled: the rest are given up in order once PULL_STALL_MS has passed, in one step.
    w.apply(T0 + 1000 + 10_050 + 120_000, { kind: 'stream.up', attempt: 1 });
    const rest = w.pulls().slice(52);
    assert.equal(rest.length, 9_998);
    assert.deepEqual(
      rest.map((n) => n.ref),
      refs.slice(52),
    );
    assert.equal(w.model.pendingPulls.size, 0);
  });
});
