import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { idleAnswer } from '../../src/model/idle.js';
import { untouchedFor } from '../../src/model/images/images.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Note } from '../../src/model/types.js';
import { container, event, image, service, snapshot } from '../builders.js';

const T0 = Date.parse('2026-01-10T12:00:00Z');
const policy = ALL_STACKS_ARE_RUNS;
const idlePolicy = { ...policy, quietPeriodMs: 60_000 };

function run(model: Model, inputs: Array<[number, ModelInput]>): Note[] {
  const notes: Note[] = [];
  for (const [now, input] of inputs) notes.push(...apply(model, input, { now, policy }).notes);
  // External evictions are held briefly to be matched with an engine prune; close the burst.
  const last = inputs.at(-1)?.[0] ?? T0;
  notes.push(...apply(model, { kind: 'evictions.settle', final: true }, { now: last, policy }).notes);
  return notes;
}

function synced(parts: Parameters<typeof snapshot>[0] = {}, now = T0): Model {
  const model = createModel();
  run(model, [
    [now, { kind: 'stream.up', attempt: 0 }],
    [now, { kind: 'snapshot', snapshot: snapshot(parts), reason: 'start' }],
  ]);
  return model;
}

describe('apply: snapshots', () => {
  it('counts layers shared between images once per image and releases them on removal', () => {
    const model = synced({
      images: [image('a', { tags: ['a:1'], layers: ['L1', 'L2'] }), image('b', { layers: ['L1', 'L3'] })],
    });
    assert.equal(model.layers.get('L1'), 2);
    assert.equal(model.layers.get('L2'), 1);
    const notes = run(model, [
      [
        T0 + 1,
        {
          kind: 'snapshot',
          snapshot: snapshot({ images: [image('b', { layers: ['L1', 'L3'] })] }),
          reason: 'periodic',
        },
      ],
    ]);
    assert.equal(model.layers.get('L1'), 1);
    assert.equal(model.layers.has('L2'), false);
    const resync = notes.find((n) => n.event === 'model.resync');
    assert.ok(resync);
    assert.deepEqual((resync.drift as { images: unknown }).images, { added: 0, removed: 1, changed: 0 });
    const eviction = notes.find((n) => n.event === 'eviction');
    assert.equal(eviction?.image, 'sha256:a');
    assert.equal(eviction?.freedBytes, 1000, 'only L2 was unique to the image');
  });

  it('is in sync only after the list that follows a connect', () => {
    const model = createModel();
    run(model, [[T0, { kind: 'stream.up', attempt: 0 }]]);
    assert.equal(model.sync.inSync, false);
    run(model, [[T0, { kind: 'snapshot', snapshot: snapshot(), reason: 'start' }]]);
    assert.equal(model.sync.inSync, true);
    run(model, [[T0, { kind: 'stream.down', reason: 'ECONNRESET', retryInMs: 1000, attempt: 1 }]]);
    assert.equal(model.sync.inSync, false);
    assert.equal(idleAnswer(model, idlePolicy, T0 + 10 * 60_000).busy[0]?.reason, 'out-of-sync');
  });

  it('starts unknown images at now, restores saved clocks, and drops clocks of another engine', () => {
    const saved = new Map([['sha256:old', { firstSeen: T0 - 48 * 3600_000, lastUsed: T0 - 48 * 3600_000 }]]);
    const mine = createModel(new Map(saved), 'ENGINE:A');
    run(mine, [
      [
        T0,
        { kind: 'snapshot', snapshot: snapshot({ images: [image('old'), image('new')] }), reason: 'start' },
      ],
    ]);
    assert.equal(mine.images.get('sha256:old')?.firstSeen, T0 - 48 * 3600_000);
    assert.equal(mine.images.get('sha256:new')?.firstSeen, T0);
    assert.equal(untouchedFor(mine.images.get('sha256:new')!, T0), 0);

    const foreign = createModel(new Map(saved), 'ENGINE:OTHER');
    const notes = run(foreign, [
      [T0, { kind: 'snapshot', snapshot: snapshot({ images: [image('old')] }), reason: 'start' }],
    ]);
    assert.equal(foreign.images.get('sha256:old')?.firstSeen, T0, 'a foreign clock never makes an image old');
    assert.ok(notes.some((n) => n.event === 'state.foreign'));
  });

  it('records when an image lost its last tag', () => {
    const model = synced({ images: [image('a', { tags: ['app:1'] })] });
    run(model, [[T0 + 5000, { kind: 'images', images: [image('a')] }]]);
    assert.equal(model.images.get('sha256:a')?.untaggedSince, T0 + 5000);
    run(model, [[T0 + 9000, { kind: 'images', images: [image('a', { tags: ['app:2'] })] }]]);
    assert.equal(model.images.get('sha256:a')?.untaggedSince, undefined);
    assert.equal(model.images.get('sha256:a')?.lastUsed, T0 + 9000, 'a tag counts as a use');
  });
});

describe('apply: events', () => {
  it('drops an image at once on delete, and notes the eviction with the live runs', () => {
    const model = synced({
      images: [image('a'), image('b', { tags: ['b:1'] })],
      containers: [container('job', 'b', 'running', { labels: { stackNamespace: 'ci-1' } })],
    });
    const notes = run(model, [[T0 + 1, { kind: 'event', event: event('image', 'delete', 'sha256:a') }]]);
    assert.equal(model.images.has('sha256:a'), false);
    const ev = notes.find((n) => n.event === 'eviction');
    assert.equal(ev?.by, 'external');
    assert.equal(ev?.duringRun, true);
    assert.deepEqual(ev?.stacks, ['ci-1']);
    assert.equal(ev?.level, 'warn');
  });

  it('marks the executor’s own removals', () => {
    const model = synced({ images: [image('a')] });
    const notes = run(model, [
      [T0, { kind: 'own-removal', id: 'sha256:a' }],
      [T0 + 1, { kind: 'event', event: event('image', 'delete', 'sha256:a') }],
      [T0 + 2, { kind: 'own-removal', id: 'sha256:a', answer: 'removed' }],
    ]);
    assert.equal(notes.find((n) => n.event === 'eviction')?.by, 'layerwarden');
    assert.equal(model.ownRemovals.size, 0);
  });

  it('tracks a container through start, die and destroy, and the stack it belongs to', () => {
    const model = synced({
      images: [image('a', { tags: ['a:1'] })],
      containers: [container('w', 'a', 'created', { labels: { composeProject: 'demo' } })],
    });
    const up = run(model, [
      [T0 + 1, { kind: 'event', event: event('container', 'start', 'c-w', { name: 'w' }) }],
    ]);
    assert.equal(model.containers.get('c-w')?.state, 'running');
    assert.ok(up.some((n) => n.event === 'stack.up' && n.stack === 'demo' && n.kind === 'compose'));
    assert.equal(idleAnswer(model, idlePolicy, T0 + 2).idle, false);

    const down = run(model, [
      [T0 + 2, { kind: 'event', event: event('container', 'die', 'c-w', {}, T0 + 2) }],
    ]);
    assert.equal(model.containers.get('c-w')?.state, 'exited');
    assert.equal(model.containers.get('c-w')?.finishedAt, T0 + 2);
    assert.ok(down.some((n) => n.event === 'stack.down' && n.stack === 'demo'));

    run(model, [[T0 + 3, { kind: 'event', event: event('container', 'destroy', 'c-w') }]]);
    assert.equal(model.containers.has('c-w'), false);
    // The quiet period after the start still holds; past it the host is idle.
    const busy = idleAnswer(model, idlePolicy, T0 + 30_000);
    assert.deepEqual(
      busy.busy.map((b) => b.reason),
      ['recent-container-start'],
    );
    assert.equal(idleAnswer(model, idlePolicy, T0 + 61_000).idle, true);
  });

  it('asks for work instead of doing it: inspects, lists, pull resolution', () => {
    const model = synced();
    const step = apply(
      model,
      { kind: 'event', event: event('image', 'pull', 'reg:5000/app:1', { name: 'reg:5000/app' }) },
      { now: T0, policy },
    );
    assert.deepEqual(step.wants, [{ kind: 'resolve-pull', ref: 'reg:5000/app:1' }, { kind: 'list-images' }]);
    assert.deepEqual(
      apply(model, { kind: 'event', event: event('container', 'create', 'c-x') }, { now: T0, policy }).wants,
      [{ kind: 'inspect-container', id: 'c-x' }],
    );
    assert.deepEqual(
      apply(model, { kind: 'event', event: event('container', 'exec_start: sh', 'c-x') }, { now: T0, policy })
        .wants,
      [],
    );
  });

  it('ignores attributes it does not know (labels merge into events)', () => {
    const model = synced();
    const e = event('container', 'start', 'c-y', { name: 'y' });
    (e.attributes as Record<string, string>).password = 'hunter2';
    const notes = run(model, [[T0, { kind: 'event', event: e }]]);
    assert.ok(!JSON.stringify(notes).includes('hunter2'));
  });
});

describe('apply: services', () => {
  it('follows a service from converging to converged with the seconds it took', () => {
    const model = synced({ info: { swarm: 'active', isManager: true } });
    const first = run(model, [
      [
        T0,
        {
          kind: 'services',
          services: [service('web', 'app:1@sha256:x', { stack: 'ci', desired: 2, running: 0 })],
          tasks: [],
        },
      ],
    ]);
    assert.ok(first.some((n) => n.event === 'service.converging'));
    assert.equal(
      idleAnswer(model, idlePolicy, T0 + 120_000).busy.some((b) => b.reason === 'service-converging'),
      true,
    );
    const done = run(model, [
      [
        T0 + 4000,
        {
          kind: 'services',
          services: [service('web', 'app:1@sha256:x', { stack: 'ci', desired: 2, running: 2 })],
          tasks: [],
        },
      ],
    ]);
    const converged = done.find((n) => n.event === 'service.converged');
    assert.equal(converged?.seconds, 4);
  });

  it('calls a service stuck when its tasks fail or its update is paused', () => {
    const model = synced();
    const notes = run(model, [
      [
        T0,
        {
          kind: 'services',
          services: [service('bad', 'nope:1', { desired: 1, running: 0 })],
          tasks: [
            {
              id: 't1',
              serviceId: 's-bad',
              desiredState: 'shutdown',
              state: 'rejected',
              err: 'No such image',
              at: T0,
            },
          ],
        },
      ],
    ]);
    assert.ok(notes.some((n) => n.event === 'service.stuck'));
    run(model, [
      [
        T0 + 1,
        { kind: 'services', services: [service('upd', 'app:2', { updateState: 'paused' })], tasks: [] },
      ],
    ]);
    assert.equal(model.services.get('s-upd')?.state, 'stuck');
  });

  it('does not hold the host busy for a converging service of an ignored stack', () => {
    const model = synced();
    run(model, [
      [
        T0,
        {
          kind: 'services',
          services: [service('agent', 'lw:1', { stack: 'layerwarden', desired: 3, running: 1 })],
          tasks: [],
        },
      ],
    ]);
    const ignoring = { ...idlePolicy, ignoreStack: /^layerwarden$/ };
    assert.equal(idleAnswer(model, ignoring, T0 + 120_000).idle, true);
    assert.equal(idleAnswer(model, idlePolicy, T0 + 120_000).idle, false);
  });

  it('counts a stack with services that want tasks as live, and not one scaled to zero', () => {
    const model = synced();
    run(model, [
      [
        T0,
        {
          kind: 'services',
          services: [
            service('a', 'x', { stack: 's1', desired: 0, running: 0 }),
            service('b', 'y', { stack: 's2' }),
          ],
          tasks: [],
        },
      ],
    ]);
    assert.deepEqual([...model.liveStacks.keys()], ['s2']);
  });
});
