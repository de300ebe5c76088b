import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PULL_GRACE_MS, PULL_REPEAT_MS, PULL_STALL_MS, PULL_STORE_GAP_MS } from '../../src/model/pulls.js';
import { image, layer, stackContainer, T0, World } from './world.js';

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

describe('races and failures', () => {
  it('stays cold when a periodic re-list sees the new image before the pull is resolved', () => {
    const w = new World();
    const base = image('base-img', [['base', 5000]]);
    w.snapshot(T0, [base]);
    const app = image(
      'app',
      [
        ['base', 5000],
        ['a', 300],
        ['b', 20],
      ],
      { tags: [REF] },
    );
    // The engine stores the image, a re-list running at that moment sees it ...
    w.snapshot(T0 + 60_000, [base, app]);
    // ... and only then is the pull event applied and its inspect answered.
    w.pull(T0 + 60_003, REF);
    const [note] = w.resolve(T0 + 60_010, REF, app);
    assert.equal(note!.class, 'partial');
    assert.deepEqual(note!.layers, { total: 3, new: 2 });
    assert.deepEqual(note!.bytes, { downloaded: 320, reused: 5000, known: true });
  });

  it('stays cold when the re-list lands between the event and its inspect', () => {
    const w = new World();
    w.snapshot(T0, []);
    const app = image('app', ['a', 'b'], { tags: [REF] });
    w.pull(T0 + 60_000, REF);
    w.snapshot(T0 + 60_004, [app]);
    assert.equal(w.resolve(T0 + 60_010, REF, app)[0]!.class, 'cold');
  });

  it('stays cold when the event was held during a full list that shows its image', () => {
    const w = new World();
    w.snapshot(T0, []);
    const app = image('app', ['a', 'b'], { tags: [REF] });
    // Stored and announced during the list; the held event is applied after the snapshot.
    w.snapshot(T0 + 60_040, [app], { engineTimeMs: T0 + 60_030 });
    w.pull(T0 + 60_040, REF, T0 + 60_020);
    assert.equal(w.resolve(T0 + 60_050, REF, app)[0]!.class, 'cold');
  });

  it('takes an image a list showed just before the pull (engine clock) as present: a warm pull right after start', () => {
    const w = new World();
    const app = image('app', ['a'], { tags: [REF] });
    w.snapshot(T0, [app]);
    w.pull(T0 + PULL_STORE_GAP_MS + 40, REF);
    const [note] = w.resolve(T0 + PULL_STORE_GAP_MS + 45, REF, app);
    assert.deepEqual([note!.class, note!.upToDate], ['warm', true]);
  });

  it('falls back to the agent clock and its longer grace when the list gave no engine time', () => {
    const app = image('app', ['a'], { tags: [REF] });
    const soon = new World();
    soon.snapshot(T0, [app], { engineTimeMs: null });
    soon.pull(T0 + PULL_GRACE_MS - 1, REF);
    assert.equal(soon.resolve(T0 + PULL_GRACE_MS, REF, app)[0]!.class, 'cold');
    const later = new World();
    later.snapshot(T0, [app], { engineTimeMs: null });
    later.pull(T0 + PULL_GRACE_MS + 1, REF);
    assert.equal(later.resolve(T0 + PULL_GRACE_MS + 5, REF, app)[0]!.class, 'warm');
  });

  it('is unknown, not an error, when the image is gone before it is inspected', () => {
    const w = new World();
    w.snapshot(T0, []);
    w.pull(T0 + 60_000, REF);
    const notes = w.resolve(T0 + 60_010, REF, null);
    assert.deepEqual(
      notes.map((n) => [n.event, n.class, n.level]),
      [['pull', 'unknown', undefined]],
    );
    assert.match(String(notes[0]!.reason), /gone/);
  });

  it('gives up a pull whose inspect never answers, so later pulls are not held', () => {
    const w = new World();
    w.snapshot(T0, []);
    w.pull(T0 + 60_000, 'stuck:1');
    w.pull(T0 + 60_001, REF);
    assert.deepEqual(w.resolve(T0 + 60_010, REF, image('app', ['a'], { tags: [REF] })), []);
    const later = w.snapshot(T0 + 60_000 + PULL_STALL_MS, []);
    assert.deepEqual(
      later.filter((n) => n.event === 'pull').map((n) => [n.ref, n.class]),
      [
        ['stuck:1', 'unknown'],
        [REF, 'cold'],
      ],
    );
  });

  it('classifies in event order even when a later inspect answers first', () => {
    const w = new World();
    w.snapshot(T0, []);
    const one = image('one', [['base', 5000], 'a'], { tags: ['one:1'] });
    const two = image('two', [['base', 5000], 'b'], { tags: ['two:1'] });
    w.pull(T0 + 60_000, 'one:1');
    w.pull(T0 + 60_050, 'two:1');
    // A re-list sees both before either inspect answers; two's answers first.
    w.snapshot(T0 + 60_060, [one, two]);
    assert.deepEqual(w.resolve(T0 + 60_070, 'two:1', two), []);
    const notes = w.resolve(T0 + 60_080, 'one:1', one);
    assert.deepEqual(
      notes.map((n) => [n.ref, n.class]),
      [
        ['one:1', 'cold'],
        ['two:1', 'partial'],
      ],
    );
  });

  it('derives the bytes from the image size when its own history does not line up', () => {
    const w = new World();
    w.snapshot(T0, [image('base-img', [['base', 5000]])]);
    w.pull(T0 + 60_000, REF);
    const app = image(
      'app',
      [
        ['base', 5000],
        ['a', 700],
      ],
      { tags: [REF], sizesKnown: false },
    );
    const [note] = w.resolve(T0 + 60_010, REF, app);
    assert.deepEqual(note!.bytes, { downloaded: 700, reused: 5000, known: true });
  });

  it('says so when the bytes cannot be known', () => {
    const w = new World();
    w.snapshot(T0, [image('base-img', ['base'], { sizesKnown: false })]);
    w.pull(T0 + 60_000, REF);
    const [note] = w.resolve(
      T0 + 60_010,
      REF,
      image('app', ['base', 'a'], { tags: [REF], sizesKnown: false }),
    );
    assert.equal(note!.class, 'partial');
    assert.equal((note!.bytes as { known: boolean }).known, false);
  });

  it('records the run stacks live when the event came', () => {
    const w = new World();
    const busy = [stackContainer('c1', 'ci-42', 'sha256:other')];
    w.snapshot(T0, [image('other', ['x'])], { containers: busy });
    w.pull(T0 + 60_000, REF);
    w.snapshot(T0 + 60_005, [image('other', ['x'])]); // the run ends before the inspect answers
    assert.deepEqual(w.resolve(T0 + 60_010, REF, image('app', ['a']))[0]!.stacks, ['ci-42']);
    assert.equal(w.model.layers.get(layer('a')), 1);
  });
});
