import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import { clocksOf, loadState, saveState, stateFromModel } from '../../src/state/state-file.js';
import { image, snapshot } from '../builders.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');

describe('state file', () => {
  it('round-trips the clocks of the model through an atomic write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-state-'));
    const path = join(dir, 'sub', 'state.json');
    const model = createModel();
    apply(
      model,
      {
        kind: 'snapshot',
        snapshot: snapshot({ images: [image('a'), image('b', { tags: ['b:1'] })] }),
        reason: 'start',
      },
      { now: T0, policy: ALL_STACKS_ARE_RUNS },
    );
    await saveState(path, stateFromModel(model, { lastEvaluatedBoundary: T0 - 1000 }, T0));
    assert.deepEqual(await readdir(join(dir, 'sub')), ['state.json'], 'no temp file left behind');
    const { state, warning } = await loadState(path, T0);
    assert.equal(warning, undefined);
    assert.equal(state.engineId, 'ENGINE:A');
    assert.equal(state.prune.lastEvaluatedBoundary, T0 - 1000);
    assert.deepEqual(clocksOf(state).get('sha256:a'), { firstSeen: T0, lastUsed: T0, untaggedSince: T0 });
    assert.deepEqual(clocksOf(state).get('sha256:b'), { firstSeen: T0, lastUsed: T0 });
  });

  it('starts fresh without a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-state-'));
    const { state, warning } = await loadState(join(dir, 'none.json'), T0);
    assert.deepEqual(state.images, {});
    assert.equal(warning, undefined);
  });

  for (const [what, text] of [
    ['truncated', '{"version":1,"images":{"sha256:a":{"firstSeen":1'],
    ['not an object', '42'],
    ['bad clocks', '{"version":1,"images":{"sha256:a":{"firstSeen":"yesterday","lastUsed":1}},"prune":{}}'],
    ['unknown version', '{"version":7,"images":{},"prune":{}}'],
  ] as const) {
    it(`moves a ${what} file aside and starts fresh, keeping the old bytes`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lw-state-'));
      const path = join(dir, 'state.json');
      await writeFile(path, text);
      const { state, warning, movedTo } = await loadState(path, T0);
      assert.deepEqual(state.images, {});
      assert.match(warning ?? '', /unusable/);
      assert.equal(await readFile(movedTo as string, 'utf8'), text);
      assert.deepEqual((await readdir(dir)).includes('state.json'), false);
    });
  }

  it('leaves a bad file in place when read-only (status)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-state-'));
    const path = join(dir, 'state.json');
    await writeFile(path, 'garbage');
    const { warning } = await loadState(path, T0, { readOnly: true });
    assert.match(warning ?? '', /ignored/);
    assert.equal(await readFile(path, 'utf8'), 'garbage');
  });
});
