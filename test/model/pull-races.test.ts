import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PULL_GRACE_MS, PULL_STALL_MS, PULL_STORE_GAP_MS } from '../../src/model/images/pulls.js';
import { event, image, layer, stackContainer, T0, World } from './world.js';

const REF = 'registry.local:5000/ci/app:1';

/** A re-list racing a pull, held events, the engine's clock against the agent's, inspects that fail. */
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

  it('bounds a slow full list by the engine clock at its start plus what it took', () => {
    const app = image('app', ['a', 'b'], { tags: [REF] });
    // /info answered at T0+200 (engine clock), the list took until T0+1000: the image may have been
    // stored as late as T0+1000.
    const list = { engineTimeMs: T0 + 200, startedAt: T0 + 200 };
    const during = new World();
    during.snapshot(T0 + 1000, [app], list);
    during.pull(T0 + 1000, REF, T0 + 900);
    assert.equal(during.resolve(T0 + 1010, REF, app)[0]!.class, 'cold');
    const after = new World();
    after.snapshot(T0 + 1000, [app], list);
    after.pull(T0 + 1100, REF);
    assert.equal(after.resolve(T0 + 1110, REF, app)[0]!.class, 'warm');
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

/** An inspect that read the engine before later image events and is applied after them. */
describe('a pull inspect applied after later image events', () => {
  const app = image('app', ['a', 'b'], { tags: [REF] });

  it('an image deleted meanwhile: the pull is classified, the image does not come back', () => {
    for (const deletedSince of [true, false]) {
      const w = new World();
      w.snapshot(T0, []);
      w.pull(T0 + 1000, REF);
      // `docker rmi` while the inspect was on its way: the delete event names an image not in the model.
      w.apply(T0 + 1005, { kind: 'event', event: event('image', 'delete', app.id, T0 + 1005) });
      const [note] = w.apply(T0 + 1010, {
        kind: 'pull.resolved',
        ref: REF,
        image: app,
        ...(deletedSince && { deletedSince }),
      });
      assert.equal(note!.class, 'cold');
      // Without the loop's flag nothing tells the model: the point of the flag.
      assert.equal(w.model.images.has(app.id), !deletedSince);
      assert.equal(w.model.layers.size, deletedSince ? 0 : 2, 'no layer counted for an image not there');
    }
  });

  it('an image the model has keeps the refs its events gave it, not those the inspect read', () => {
    const w = new World();
    w.snapshot(T0, []);
    w.pull(T0 + 1000, REF);
    // The list the pull asked for lands first, after the tag moved on to another image.
    const other = image('other', ['c'], { tags: [REF] });
    w.apply(T0 + 1005, { kind: 'images', images: [{ ...app, tags: [] }, other] });
    const [note] = w.resolve(T0 + 1010, REF, app);
    assert.equal(note!.image, app.id);
    assert.deepEqual(w.model.images.get(app.id)?.tags, []);
    assert.deepEqual(w.model.images.get(other.id)?.tags, [REF]);
  });
});
