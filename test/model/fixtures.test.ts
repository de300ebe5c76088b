import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { refMatches } from '../../src/model/images/refs.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Note, Want } from '../../src/model/types.js';
import {
  loadPullTruth,
  loadScenario,
  replayScenario,
  type Scenario,
  type ScenarioName,
} from '../fixtures.js';

const policy = ALL_STACKS_ARE_RUNS;

const replay = replayScenario;

function assertModelEqualsEngine(model: Model, s: Scenario) {
  const images = [...model.images.values()].map((i) => ({
    id: i.id,
    tags: [...i.tags].sort(),
    digests: [...i.digests].sort(),
    layers: i.layers,
  }));
  const engine = s.after.images.map((i) => ({
    id: i.id,
    tags: [...i.tags].sort(),
    digests: [...i.digests].sort(),
    layers: i.layers,
  }));
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  assert.deepEqual(images.sort(byId), engine.sort(byId));
  const layers = new Set(s.after.images.flatMap((i) => i.layers));
  assert.deepEqual([...model.layers.keys()].sort(), [...layers].sort());
  const containers = [...model.containers.values()].map((c) => ({
    id: c.id,
    state: c.state,
    imageId: c.imageId,
    stack: c.stack,
  }));
  const engineContainers = s.after.containers.map((c) => ({
    id: c.id,
    state: c.state,
    imageId: c.imageId,
    stack: c.labels.stackNamespace ?? c.labels.composeProject,
  }));
  assert.deepEqual(containers.sort(byId), engineContainers.sort(byId));
  assert.deepEqual(
    [...model.services.values()].map((x) => [x.name, x.desired, x.running]).sort(),
    s.after.services.map((x) => [x.name, x.desired, x.running]).sort(),
  );
}

describe('recorded scenarios (dockerd 20.10.24)', () => {
  for (const name of [
    'images',
    'containers',
    'swarm-deploy',
    'swarm-rm',
    'pulls',
    'prune',
  ] as ScenarioName[]) {
    it(`${name}: the model ends equal to the engine's own lists`, () => {
      const s = loadScenario(name);
      const { model } = replay(s);
      assertModelEqualsEngine(model, s);
    });
  }

  it('containers: events carry container state and the compose stack, with no drift', () => {
    const s = loadScenario('containers');
    const { notes } = replay(s);
    const stacks = notes
      .filter((n) => n.event === 'stack.up' || n.event === 'stack.down')
      .map((n) => `${n.event}:${n.stack}`);
    // demo-web-1 and demo-db-1 start (up); web is stopped and removed while db runs on: the stack stays up.
    assert.deepEqual(stacks, ['stack.up:demo']);
    const drift = notes.filter((n) => n.event === 'model.resync').at(-1)?.driftTotal;
    assert.equal(drift, 0, 'container events and the inspects they asked for left nothing for the re-list');
  });

  it('swarm: deploy brings the stack up and convergence is noted; rm brings it down', () => {
    const deploy = replay(loadScenario('swarm-deploy'));
    assert.ok(deploy.notes.some((n) => n.event === 'stack.up' && n.stack === 'demo' && n.kind === 'swarm'));
    const rm = replay(loadScenario('swarm-rm'));
    assert.ok(rm.notes.some((n) => n.event === 'stack.down' && n.stack === 'demo'));
  });

  it('swarm-rm: the engine’s dangling prune deletes the digest-only images of the stack just removed', () => {
    const s = loadScenario('swarm-rm');
    const { notes } = replay(s);
    const evicted = notes.filter((n) => n.event === 'eviction').map((n) => n.image);
    const digestOnly = s.before.images
      .filter((i) => i.tags.length === 0 && i.digests.length > 0)
      .map((i) => i.id);
    assert.ok(digestOnly.length > 0, 'the swarm pulled its images by digest only');
    for (const id of digestOnly) assert.ok(evicted.includes(id), `${id} evicted by image prune -f`);
    const drift = notes.filter((n) => n.event === 'model.resync').at(-1)?.drift as Record<
      string,
      { removed: number }
    >;
    assert.equal(
      drift.images?.removed,
      0,
      'delete events, not the re-list, told the model of every eviction',
    );
  });

  it('prune: every image that left is one eviction, and the events alone leave no drift', () => {
    const s = loadScenario('prune');
    const { notes } = replay(s);
    const gone = s.before.images.map((i) => i.id).filter((id) => !s.after.images.some((i) => i.id === id));
    const evicted = notes.filter((n) => n.event === 'eviction').map((n) => n.image as string);
    assert.deepEqual([...evicted].sort(), [...gone].sort());
    assert.equal(new Set(evicted).size, evicted.length, 'no image evicted twice');
  });

  it('pulls: the class of every pull matches the puller’s own progress', () => {
    const s = loadScenario('pulls');
    const { notes } = replay(s);
    const pulls = notes.filter((n) => n.event === 'pull').map((n) => [n.ref, n.class]);
    const truth = loadPullTruth()
      .filter((p) => p.kind)
      .map((p) => [p.ref, p.kind]);
    assert.deepEqual(pulls, truth);
  });
});
