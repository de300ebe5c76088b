import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModel } from '../../src/model/create.js';
import { budgetLevel, countPull } from '../../src/model/images/pull-budget.js';
import { image, T0, World } from './world.js';

const H = 3_600_000;
const budget = { limit: 10, windowMs: 6 * H };

describe('pull budget', () => {
  it('is near from 80 % and exceeded past the limit', () => {
    assert.deepEqual(
      [0, 7, 8, 10, 11].map((n) => budgetLevel(n, budget)),
      ['ok', 'ok', 'near', 'near', 'exceeded'],
    );
  });

  it('warns once per crossing, not once per pull', () => {
    const model = createModel();
    const warnings = [];
    for (let i = 0; i < 15; i++) {
      const note = countPull(model, 'docker.io', T0 + i * 60_000, budget);
      if (note) warnings.push({ at: i + 1, ...note });
    }
    assert.deepEqual(warnings, [
      {
        at: 8,
        event: 'pull.budget',
        level: 'warn',
        registry: 'docker.io',
        pulls: 8,
        budget: 10,
        windowHours: 6,
        threshold: 'near',
      },
      {
        at: 11,
        event: 'pull.budget',
        level: 'error',
        registry: 'docker.io',
        pulls: 11,
        budget: 10,
        windowHours: 6,
        threshold: 'exceeded',
      },
    ]);
  });

  it('rolls: pulls older than the window stop counting, and a new crossing warns again', () => {
    const model = createModel();
    for (let i = 0; i < 11; i++) countPull(model, 'docker.io', T0 + i * 1000, budget);
    // Six hours later the old pulls are out of the window: the next one counts alone.
    assert.equal(countPull(model, 'docker.io', T0 + 6 * H + 60_000, budget), undefined);
    assert.equal(model.pullWindows.get('docker.io')!.buckets.size, 1, 'old buckets dropped');
    let again: unknown;
    for (let i = 0; i < 7 && !again; i++) again = countPull(model, 'docker.io', T0 + 6 * H + 120_000, budget);
    assert.equal((again as { threshold: string }).threshold, 'near');
  });

  it('keeps registries apart and bounded', () => {
    const model = createModel();
    for (let r = 0; r < 100; r++) countPull(model, `r${r}.example`, T0 + r, budget);
    assert.equal(model.pullWindows.size, 64);
    assert.ok(model.pullWindows.has('r99.example'));
    assert.ok(!model.pullWindows.has('r0.example'), 'the idlest is forgotten');
  });

  it('comes out of the model as a record after the pull that crossed it', () => {
    const w = new World();
    w.ctx = { pullBudget: { limit: 2, windowMs: 6 * H } };
    w.snapshot(T0, []);
    const app = image('app', ['a'], { tags: ['reg.example/app:1'] });
    const events: string[] = [];
    for (let i = 0; i < 4; i++) {
      w.pull(T0 + 120_000 * (i + 1), 'reg.example/app:1');
      events.push(
        ...w
          .resolve(T0 + 120_000 * (i + 1) + 5, 'reg.example/app:1', app)
          .map((n) => `${n.event}:${n.threshold ?? n.class}`),
      );
    }
    assert.deepEqual(events, [
      'pull:cold',
      'pull:warm',
      'pull.budget:near',
      'pull:warm',
      'pull.budget:exceeded',
      'pull:warm',
    ]);
  });
});
