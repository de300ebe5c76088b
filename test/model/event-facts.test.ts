import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { resolveImage } from '../../src/model/images/resolve.js';
import { liveRuns } from '../../src/model/services/stacks.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Step } from '../../src/model/types.js';
import { planPrune } from '../../src/prune/plan.js';
import { container, event, image, snapshot } from '../builders.js';

const T0 = Date.parse('2026-01-10T12:00:00Z');
const DAY = 24 * 3600_000;
const policy = ALL_STACKS_ARE_RUNS;

const step = (model: Model, now: number, input: ModelInput): Step => apply(model, input, { now, policy });
const ev = (model: Model, now: number, ...args: Parameters<typeof event>) =>
  step(model, now, { kind: 'event', event: event(...args) });

function synced(parts: Parameters<typeof snapshot>[0] = {}, now = T0): Model {
  const model = createModel();
  step(model, now, { kind: 'stream.up', attempt: 0 });
  step(model, now, { kind: 'snapshot', snapshot: snapshot(parts), reason: 'start' });
  return model;
}

describe('tag events: applied at once, confirmed by the list', () => {
  it('adds the ref to the image and takes it from the image that held it', () => {
    const model = synced({ images: [image('a', { tags: ['app:1'] }), image('b', { tags: ['app:2'] })] });
    const s = ev(model, T0 + 1000, 'image', 'tag', 'sha256:b', { name: 'app:1' });
    assert.deepEqual(s.wants, [{ kind: 'list-images' }], 'the list still follows');
    const a = model.images.get('sha256:a');
    const b = model.images.get('sha256:b');
    assert.deepEqual(b?.tags, ['app:2', 'app:1']);
    assert.equal(b?.lastUsed, T0 + 1000);
    assert.deepEqual(a?.tags, []);
    assert.equal(a?.untaggedSince, T0 + 1000, 'a lost its last tag now');
    assert.deepEqual(a?.formerRefs, ['app:1'], 'its eviction can still say what it was');
    // The list confirms: nothing changes, nothing is drift.
    step(model, T0 + 1010, {
      kind: 'images',
      images: [image('a'), image('b', { tags: ['app:2', 'app:1'] })],
    });
    assert.deepEqual(model.images.get('sha256:b')?.tags, ['app:2', 'app:1']);
    assert.equal(model.images.get('sha256:a')?.untaggedSince, T0 + 1000);
  });

  it('tags an untagged image: it is no longer untagged, nor a prune candidate', () => {
    const model = synced({ images: [image('a')] });
    assert.equal(planPrune(model, { minAgeMs: DAY }, T0 + 2 * DAY).candidates.length, 1);
    ev(model, T0 + 2 * DAY, 'image', 'tag', 'sha256:a', { name: 'keep:1' });
    const a = model.images.get('sha256:a');
    assert.equal(a?.untaggedSince, undefined);
    assert.equal(planPrune(model, { minAgeMs: DAY }, T0 + 2 * DAY).candidates.length, 0);
  });

  it('a tag for an image the model does not hold yet (a build) only takes the ref from its old holder', () => {
    const model = synced({ images: [image('old', { tags: ['app:1'] })] });
    ev(model, T0 + 1, 'image', 'tag', 'sha256:new', { name: 'app:1' });
    assert.equal(model.images.has('sha256:new'), false, 'nothing known about it but its id');
    assert.deepEqual(model.images.get('sha256:old')?.tags, []);
    step(model, T0 + 5, {
      kind: 'images',
      images: [image('old'), image('new', { tags: ['app:1'] })],
    });
    assert.deepEqual(model.images.get('sha256:new')?.tags, ['app:1']);
  });

  it('leaves to the list what the event does not say: an untag, a digest, an id', () => {
    const model = synced({ images: [image('a', { tags: ['app:1', 'app:2'] })] });
    const s = ev(model, T0 + 1, 'image', 'untag', 'sha256:a', { name: 'sha256:a' });
    assert.deepEqual(s.wants, [{ kind: 'list-images' }]);
    ev(model, T0 + 2, 'image', 'tag', 'sha256:a', { name: 'app@sha256:0123' });
    ev(model, T0 + 3, 'image', 'tag', 'sha256:a', {});
    assert.deepEqual(model.images.get('sha256:a')?.tags, ['app:1', 'app:2']);
  });

  it('tag then delete: the image goes, the ref stays taken from its old holder, the list agrees', () => {
    const model = synced({ images: [image('a', { tags: ['app:1'] }), image('b', { tags: ['b:1'] })] });
    ev(model, T0 + 1, 'image', 'tag', 'sha256:b', { name: 'app:1' });
    ev(model, T0 + 2, 'image', 'untag', 'sha256:b', { name: 'sha256:b' });
    ev(model, T0 + 3, 'image', 'delete', 'sha256:b', { name: 'sha256:b' });
    assert.equal(model.images.has('sha256:b'), false);
    assert.deepEqual(model.images.get('sha256:a')?.tags, []);
    step(model, T0 + 4, { kind: 'images', images: [image('a')] });
    assert.deepEqual([...model.images.keys()], ['sha256:a']);
  });
});

describe('container create events: a provisional container at once, replaced by the inspect', () => {
  const labels = { 'com.docker.compose.project': 'ci-7', 'com.example.image': 'app' };

  it('is there at once, created, in its stack, and its image counts as used at once', () => {
    const model = synced({ images: [image('a', { digests: ['app@sha256:d1'] })] });
    // An untagged image untouched for two days: a candidate, until a container is created from it.
    assert.equal(planPrune(model, { minAgeMs: DAY }, T0 + 2 * DAY).candidates.length, 1);
    const now = T0 + 2 * DAY;
    const s = ev(model, now, 'container', 'create', 'c-1', { ...labels, image: 'sha256:a', name: 'web' });
    assert.deepEqual(s.wants, [{ kind: 'inspect-container', id: 'c-1' }], 'the inspect still follows');
    const c = model.containers.get('c-1');
    assert.equal(c?.state, 'created');
    assert.equal(c?.imageId, 'sha256:a');
    assert.equal(c?.stack, 'ci-7');
    assert.equal(c?.name, 'web');
    assert.equal(model.images.get('sha256:a')?.lastUsed, now);
    const plan = planPrune(model, { minAgeMs: DAY }, now);
    assert.equal(plan.candidates.length, 0);
    assert.match(plan.kept.find((k) => k.id === 'sha256:a')?.reason ?? '', /in use by container web/);
  });

  it('a start before the inspect lands makes the stack live at once', () => {
    const model = synced({ images: [image('a', { tags: ['app:1'] })] });
    ev(model, T0 + 1, 'container', 'create', 'c-1', { ...labels, image: 'app:1', name: 'web' });
    const s = ev(model, T0 + 2, 'container', 'start', 'c-1', { ...labels, image: 'app:1', name: 'web' });
    assert.deepEqual(liveRuns(model, policy), ['ci-7']);
    assert.equal(model.containers.get('c-1')?.state, 'running');
    assert.deepEqual(s.wants, [{ kind: 'inspect-container', id: 'c-1' }]);
    // The inspect is the truth: its name and labels replace what the event said.
    step(model, T0 + 3, {
      kind: 'container',
      id: 'c-1',
      container: {
        ...container('web-real', 'a', 'running', { labels: { composeProject: 'ci-7' } }),
        id: 'c-1',
      },
    });
    assert.equal(model.containers.get('c-1')?.name, 'web-real');
    assert.equal(model.activity.containerStart?.name, 'web-real');
  });

  it('resolves the image string as the engine does: repo (latest), repo:tag, a digest ref, an id, a prefix', () => {
    const model = synced({
      images: [
        image('aa11', { tags: ['lw-base:latest'] }),
        image('bb22', {
          tags: ['127.0.0.1:5000/demo/app:1'],
          digests: ['127.0.0.1:5000/demo/app@sha256:d2'],
        }),
        image('cc33', { tags: ['busybox:1'] }),
        image('cc44'),
      ],
    });
    assert.equal(resolveImage(model, 'lw-base'), 'sha256:aa11');
    assert.equal(resolveImage(model, 'docker.io/library/lw-base:latest'), 'sha256:aa11');
    assert.equal(resolveImage(model, '127.0.0.1:5000/demo/app:1'), 'sha256:bb22');
    // Swarm pins `repo:tag@digest` and stores only the digest ref: the digest decides.
    assert.equal(resolveImage(model, '127.0.0.1:5000/demo/app:9@sha256:d2'), 'sha256:bb22');
    assert.equal(resolveImage(model, 'sha256:cc44'), 'sha256:cc44');
    assert.equal(resolveImage(model, 'aa'), 'sha256:aa11', 'a unique id prefix');
    assert.equal(resolveImage(model, 'cc'), undefined, 'an ambiguous prefix');
    assert.equal(resolveImage(model, 'busybox'), undefined, 'busybox:latest is not here');
    assert.equal(resolveImage(model, `sha256:${'e'.repeat(64)}`), undefined);
  });

  it('an image the model does not hold: the container is there with its image unknown until the inspect', () => {
    const model = synced({ images: [image('a', { tags: ['app:1'] })] });
    ev(model, T0 + 1, 'container', 'create', 'c-1', { image: 'other:1', name: 'x' });
    assert.equal(model.containers.get('c-1')?.imageId, '');
    assert.equal(model.images.get('sha256:a')?.lastUsed, T0, 'no image touched on a guess');
    // The list that brings the image and the inspect come later; the image is touched when the inspect names it.
    step(model, T0 + 5, { kind: 'images', images: [image('a', { tags: ['app:1'] }), image('o')] });
    step(model, T0 + 6, {
      kind: 'container',
      id: 'c-1',
      container: { ...container('x', 'o', 'created'), id: 'c-1' },
    });
    assert.equal(model.containers.get('c-1')?.imageId, 'sha256:o');
    assert.equal(model.images.get('sha256:o')?.lastUsed, T0 + 6);
  });

  it('a re-list that confirms an unresolved image reports no drift for it', () => {
    const model = synced({ images: [] });
    ev(model, T0 + 1, 'container', 'create', 'c-1', { image: 'app:1', name: 'x' });
    const resync = step(model, T0 + 5, {
      kind: 'snapshot',
      snapshot: snapshot({
        images: [image('a', { tags: ['app:1'] })],
        containers: [{ ...container('x', 'a', 'created'), id: 'c-1' }],
      }),
      reason: 'periodic',
      startedAt: T0 + 2,
    }).notes.find((n) => n.event === 'model.resync');
    assert.deepEqual((resync?.drift as { containers: unknown }).containers, {
      added: 0,
      removed: 0,
      changed: 0,
    });
    assert.equal(model.containers.get('c-1')?.imageId, 'sha256:a');
    assert.equal(model.images.get('sha256:a')?.lastUsed, T0 + 5, 'touched when its user was confirmed');
  });

  it('a create for a container the model already holds changes nothing', () => {
    const model = synced({
      images: [image('a', { tags: ['app:1'] })],
      containers: [container('x', 'a', 'running', { labels: { composeProject: 'p' } })],
    });
    ev(model, T0 + 1, 'container', 'create', 'c-x', { image: 'other', name: 'spoofed' });
    assert.equal(model.containers.get('c-x')?.state, 'running');
    assert.equal(model.containers.get('c-x')?.name, 'x');
  });

  it('create then destroy before the inspect: gone, and the inspect that answers null agrees', () => {
    const model = synced({ images: [image('a', { tags: ['app:1'] })] });
    ev(model, T0 + 1, 'container', 'create', 'c-1', { image: 'app:1', name: 'x' });
    ev(model, T0 + 2, 'container', 'destroy', 'c-1', { image: 'app:1', name: 'x' });
    assert.equal(model.containers.has('c-1'), false);
    step(model, T0 + 3, { kind: 'container', id: 'c-1', container: null });
    assert.equal(model.containers.size, 0);
  });
});
