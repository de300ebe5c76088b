import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTLE_MS } from '../../src/model/services/services.js';
import type { Note } from '../../src/model/types.js';
import { event, image, service, T0, World } from './world.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const PINNED = `reg.example/ci/web:1@${DIGEST}`;
const web = image('web', ['base', 'w'], { digests: [`reg.example/ci/web@${DIGEST}`] });

const converged = (notes: Note[]) => notes.filter((n) => n.event === 'service.converged');
const list = (w: World, now: number, desired: number, running: number, extra = {}) =>
  w.apply(now, { kind: 'services', services: [service('s1', PINNED, desired, running, extra)], tasks: [] });

describe('service convergence', () => {
  it('reports a create once stable, with the seconds and the pulls made for it', () => {
    const w = new World();
    w.snapshot(T0, []);
    w.apply(T0 + 1000, { kind: 'event', event: event('service', 'create', 's1', T0 + 1000) });
    w.apply(T0 + 1000, { kind: 'event', event: event('service', 'update', 's1', T0 + 1000) });
    list(w, T0 + 1010, 2, 0);
    for (const dt of [1500, 1501]) w.pull(T0 + dt, PINNED);
    w.resolve(T0 + 1520, PINNED, web);
    w.pull(T0 + 1600, 'unrelated:1');
    w.resolve(T0 + 1610, 'unrelated:1', image('u', ['u']));
    list(w, T0 + 2010, 2, 1);
    assert.deepEqual(converged(w.notes), []);
    const [note] = converged(list(w, T0 + 3010, 2, 2));
    assert.deepEqual(note, {
      event: 'service.converged',
      service: 's1',
      stack: 'ci',
      desired: 2,
      running: 2,
      image: PINNED,
      cause: 'create',
      since: new Date(T0 + 1000).toISOString(),
      seconds: 2.01,
      pulls: [
        { ref: PINNED, image: 'sha256:web', class: 'cold', at: new Date(T0 + 1500).toISOString() },
        {
          ref: PINNED,
          image: 'sha256:web',
          class: 'warm',
          repeat: true,
          at: new Date(T0 + 1501).toISOString(),
        },
      ],
      layersDownloaded: 2,
      bytesDownloaded: 2000,
    });
    assert.equal(w.model.services.get('s1')!.state, 'converged');
    assert.deepEqual(converged(list(w, T0 + 4010, 2, 2)), [], 'reported once');
  });

  it('reports a redeploy of a local image with no pull at all', () => {
    const w = new World();
    w.snapshot(T0, [web]);
    w.apply(T0 + 1000, { kind: 'event', event: event('service', 'create', 's1', T0 + 1000) });
    list(w, T0 + 1010, 1, 0);
    const [note] = converged(list(w, T0 + 1800, 1, 1));
    assert.deepEqual(
      [note!.cause, note!.seconds, note!.pulls, note!.layersDownloaded],
      ['create', 0.8, [], 0],
    );
  });

  it('does not believe a list that still shows the old tasks right after an update', () => {
    const w = new World();
    w.snapshot(T0, [], { services: [service('s1', PINNED, 1, 1)] });
    w.apply(T0 + 1000, { kind: 'event', event: event('service', 'update', 's1', T0 + 1000) });
    // The list taken just after the update: old task still running, no update state yet.
    list(w, T0 + 1005, 1, 1);
    assert.equal(w.model.services.get('s1')!.state, 'converging');
    list(w, T0 + 1500, 1, 1, { updateState: 'updating' });
    // Progress events do not restart the clock.
    w.apply(T0 + 1500, {
      kind: 'event',
      event: event('service', 'update', 's1', T0 + 1500, { 'updatestate.new': 'updating' }),
    });
    const [note] = converged(list(w, T0 + 4000, 1, 1, { updateState: 'completed' }));
    assert.deepEqual([note!.cause, note!.seconds], ['update', 3]);
  });

  it('reports an update that changed no task after it held for the settle period', () => {
    const w = new World();
    w.snapshot(T0, [], { services: [service('s1', PINNED, 1, 1)] });
    w.apply(T0 + 1000, { kind: 'event', event: event('service', 'update', 's1', T0 + 1000) });
    assert.deepEqual(converged(list(w, T0 + 1005, 1, 1)), []);
    const [note] = converged(list(w, T0 + 1000 + SETTLE_MS, 1, 1));
    assert.deepEqual([note!.cause, note!.seconds], ['update', 0.005]);
  });

  it('still reports convergence it only observed (tasks replaced), with no create behind it', () => {
    const w = new World();
    w.snapshot(T0, [], { services: [service('s1', PINNED, 2, 2)] });
    list(w, T0 + 1000, 2, 1);
    const [note] = converged(list(w, T0 + 3000, 2, 2));
    assert.deepEqual([note!.cause, note!.seconds], ['observed', 2]);
  });
});
