import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerInfo, ImageDetail, ServiceInfo } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { putImage } from '../../src/model/images/images.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model } from '../../src/model/types.js';
import { service as builtService, container, snapshot as engineSnapshot, image } from '../builders.js';
import { DEFAULT_MIN_AGE_MS, type Plan, durationText, planPrune, recheck } from '../../src/prune/plan.js';

const H = 3600_000;
const T0 = Date.parse('2025-06-01T00:00:00Z');
const policy = { minAgeMs: DEFAULT_MIN_AGE_MS };
const DIGEST = 'sha256:aaaa000000000000000000000000000000000000000000000000000000000001';

function service(name: string, imageRef: string, desired = 1): ServiceInfo {
  return builtService(name, imageRef, { stack: 'ci', desired, running: desired });
}

interface World {
  images?: ImageDetail[];
  containers?: ContainerInfo[];
  services?: ServiceInfo[];
}

/** Applies a full snapshot (the engine's truth at `now`) to the model. */
function snapshot(model: Model, now: number, world: World): Model {
  const snap = engineSnapshot({ ...world, info: { swarm: 'active', isManager: true } });
  apply(model, { kind: 'snapshot', snapshot: snap, reason: 'test' }, { now, policy: ALL_STACKS_ARE_RUNS });
  return model;
}

const modelAt = (now: number, world: World) => snapshot(createModel(), now, world);

function verdictOf(plan: Plan, id: string): string {
  if (plan.candidates.some((c) => c.id === id)) return 'candidate';
  const kept = plan.kept.find((k) => k.id === id);
  assert.ok(kept, `${id} is neither a candidate nor kept`);
  return kept.reason;
}

describe('planPrune: images', () => {
  it('keeps a tagged image however old', () => {
    const model = modelAt(T0, { images: [image('a', { tags: ['app:1', 'app:latest'] })] });
    assert.equal(
      verdictOf(planPrune(model, policy, T0 + 30 * 24 * H), 'sha256:a'),
      'tagged (app:1, app:latest)',
    );
  });

  it('takes a digest-only image untouched 25 h, whatever its build time', () => {
    const model = modelAt(T0, { images: [image('a', { digests: [`app@${DIGEST}`] })] });
    const plan = planPrune(model, policy, T0 + 25 * H);
    assert.deepEqual(plan.candidates, [
      {
        kind: 'image',
        id: 'sha256:a',
        refs: [`app@${DIGEST}`],
        bytes: 1000,
        untouchedFor: 25 * H,
        untouchedForText: '25h',
      },
    ]);
    assert.deepEqual(plan.totals, { candidates: 1, bytes: 1000, kept: 0 });
  });

  it('keeps a digest-only image untouched only 1 h, saying how long', () => {
    const model = modelAt(T0, { images: [image('a', { digests: [`app@${DIGEST}`] })] });
    assert.equal(verdictOf(planPrune(model, policy, T0 + H), 'sha256:a'), 'untouched only 1h (needs 24h)');
    const later = T0 + 3 * H + 12 * 60_000;
    assert.equal(verdictOf(planPrune(model, policy, later), 'sha256:a'), 'untouched only 3h12m (needs 24h)');
  });

  it('keeps an image used by a stopped container', () => {
    const model = modelAt(T0, {
      images: [image('a')],
      containers: [container('old-job', 'a', 'exited', { finishedAt: T0 - 10 * H })],
    });
    assert.equal(
      verdictOf(planPrune(model, policy, T0 + 48 * H), 'sha256:a'),
      'in use by container old-job (exited)',
    );
  });

  it('keeps an image referenced by a service scaled to 0 (pinned ref, hub prefix)', () => {
    const model = modelAt(T0, {
      images: [image('a', { digests: [`app@${DIGEST}`] })],
      services: [service('ci_web', `docker.io/library/app:1@${DIGEST}`, 0)],
    });
    assert.equal(
      verdictOf(planPrune(model, policy, T0 + 48 * H), 'sha256:a'),
      'referenced by service ci_web',
    );
  });

  it('matches a pinned service ref on the digest only', () => {
    const other = DIGEST.replace(/1$/, '2');
    const model = modelAt(T0, {
      images: [image('a', { digests: [`app@${DIGEST}`] }), image('b', { digests: [`app@${other}`] })],
      services: [
        service('ci_web', `registry.local:5000/app:1@${DIGEST}`),
        service('ci_api', `app:1@${other}`),
      ],
    });
    const plan = planPrune(model, policy, T0 + 48 * H);
    assert.equal(verdictOf(plan, 'sha256:a'), 'candidate'); // other registry, same digest: not this repo
    assert.equal(verdictOf(plan, 'sha256:b'), 'referenced by service ci_api');
  });

  it('counts the time since the last tag was lost, not since first seen', () => {
    const model = modelAt(T0, { images: [image('a', { tags: ['app:1'] })] });
    const untagged = T0 + 3 * 24 * H - 2 * H;
    snapshot(model, untagged, { images: [image('a')] });
    assert.equal(
      verdictOf(planPrune(model, policy, T0 + 3 * 24 * H), 'sha256:a'),
      'untouched only 2h (needs 24h)',
    );
    assert.equal(verdictOf(planPrune(model, policy, untagged + 24 * H), 'sha256:a'), 'candidate');
  });

  it('keeps an image whose layers are not inspected yet', () => {
    const model = modelAt(T0, {});
    putImage(model, { id: 'sha256:p', tags: [], digests: [], size: 5, created: 0 }, T0);
    assert.equal(verdictOf(planPrune(model, policy, T0 + 48 * H), 'sha256:p'), 'layers not inspected yet');
  });
});

describe('planPrune: containers', () => {
  const world = (now: number): World => ({
    images: [image('base', { tags: ['base:1'] })],
    containers: [
      container('done-long-ago', 'base', 'exited', { finishedAt: now - 25 * H }),
      container('done-recently', 'base', 'exited', { finishedAt: now - H }),
      container('web', 'base', 'running'),
      container('never-started', 'base', 'created'),
      container('ci_web.1.x', 'base', 'exited', {
        finishedAt: now - 48 * H,
        labels: { serviceId: 's-ci_web', serviceName: 'ci_web', stackNamespace: 'ci' },
      }),
      container('gone_svc.1.y', 'base', 'dead', {
        finishedAt: now - 48 * H,
        labels: { serviceId: 's-gone', serviceName: 'gone_svc' },
      }),
    ],
    services: [service('ci_web', 'base:1')],
  });

  it('takes stopped containers finished long enough ago, keeps the rest with a reason', () => {
    const now = T0 + 100 * H;
    const plan = planPrune(modelAt(now, world(now)), policy, now);
    assert.equal(verdictOf(plan, 'c-done-long-ago'), 'candidate');
    assert.equal(verdictOf(plan, 'c-done-recently'), 'finished only 1h ago (needs 24h)');
    assert.equal(verdictOf(plan, 'c-web'), 'running');
    assert.equal(verdictOf(plan, 'c-never-started'), 'finish time unknown');
    assert.equal(verdictOf(plan, 'c-ci_web.1.x'), 'task of service ci_web');
    assert.equal(verdictOf(plan, 'c-gone_svc.1.y'), 'candidate'); // its service no longer exists
    const first = plan.candidates[0];
    assert.deepEqual(first && { name: first.name, refs: first.refs, bytes: first.bytes }, {
      name: 'gone_svc.1.y',
      refs: ['base:1'],
      bytes: 0,
    });
    assert.equal(verdictOf(plan, 'sha256:base'), 'tagged (base:1)');
    assert.deepEqual(plan.buildCache, { kind: 'build-cache', untilHours: 24 });
    assert.deepEqual(plan.totals, { candidates: 2, bytes: 0, kept: 5 });
  });
});

describe('planPrune: order and recheck', () => {
  it('puts containers first, then images oldest-untouched first', () => {
    const model = modelAt(T0, {
      images: [image('young', { tags: ['y:1'] }), image('old'), image('base', { tags: ['base:1'] })],
    });
    const now = T0 + 40 * H;
    snapshot(model, T0 + 2 * H, {
      images: [image('young'), image('old'), image('base', { tags: ['base:1'] })],
    });
    snapshot(model, now, {
      images: [image('young'), image('old'), image('base', { tags: ['base:1'] })],
      containers: [
        container('b', 'base', 'exited', { finishedAt: now - 26 * H }),
        container('a', 'base', 'exited', { finishedAt: now - 30 * H }),
      ],
    });
    const plan = planPrune(model, policy, now);
    assert.deepEqual(
      plan.candidates.map((c) => [c.kind, c.name ?? c.id, c.untouchedForText]),
      [
        ['container', 'a', '30h'],
        ['container', 'b', '26h'],
        ['image', 'sha256:old', '40h'],
        ['image', 'sha256:young', '38h'],
      ],
    );
    assert.equal(plan.at, new Date(now).toISOString());
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(plan)));
  });

  it('re-checks a candidate against the live model before removal', () => {
    const model = modelAt(T0, { images: [image('a', { digests: [`app@${DIGEST}`] })] });
    const now = T0 + 30 * H;
    const [candidate] = planPrune(model, policy, now).candidates;
    assert.ok(candidate);
    assert.deepEqual(recheck(model, candidate, policy, now), { ok: true });
    snapshot(model, now + 1000, {
      images: [image('a', { digests: [`app@${DIGEST}`] })],
      containers: [container('ci_job', 'a', 'running')],
    });
    assert.deepEqual(recheck(model, candidate, policy, now + 2000), {
      ok: false,
      reason: 'in use by container ci_job (running)',
    });
    snapshot(model, now + 3000, {});
    assert.deepEqual(recheck(model, candidate, policy, now + 4000), { ok: false, reason: 'gone' });
    assert.deepEqual(recheck(model, { kind: 'container', id: 'c-nope' }, policy, now), {
      ok: false,
      reason: 'gone',
    });
  });

  it('writes durations briefly', () => {
    assert.deepEqual(
      [-5, 45_000, 12 * 60_000, 3 * H + 12 * 60_000, 24 * H, 47 * H + 59 * 60_000, 76 * H].map(durationText),
      ['0s', '45s', '12m', '3h12m', '24h', '47h59m', '3d4h'],
    );
  });
});
