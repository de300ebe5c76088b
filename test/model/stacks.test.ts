import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ContainerInfo, ServiceInfo } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { computeLiveStacks, isRun, type RunPolicy } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Note } from '../../src/model/types.js';
import { event, snapshot } from '../builders.js';

const T0 = Date.parse('2026-01-10T12:00:00Z');
const policy: RunPolicy = { runStack: /.*/, ignoreStack: /^infra$/ };
const STACKS = ['a', 'b', 'c', 'infra'];
const stackArb = fc.option(fc.constantFrom(...STACKS, ''), { nil: undefined });

/** What settleStacks did before it kept counts: a Map of the live stacks built from scratch, then compared. */
function reference(
  live: Map<string, { kind: 'swarm' | 'compose'; since: number }>,
  model: Model,
  now: number,
): Note[] {
  const notes: Note[] = [];
  const want = computeLiveStacks(model);
  for (const [name, kind] of want) {
    if (live.has(name)) continue;
    live.set(name, { kind, since: now });
    notes.push({ event: 'stack.up', stack: name, kind, run: isRun(policy, name) });
  }
  for (const [name, s] of live) {
    if (want.has(name)) continue;
    live.delete(name);
    notes.push({
      event: 'stack.down',
      stack: name,
      kind: s.kind,
      run: isRun(policy, name),
      seconds: (now - s.since) / 1000,
    });
  }
  return notes;
}

/** Services keeping each stack live, counted from the services the model holds. */
function countedFromScratch(model: Model): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of model.services.values())
    if (s.stack && (s.desired > 0 || s.running > 0)) counts.set(s.stack, (counts.get(s.stack) ?? 0) + 1);
  return counts;
}

const containerArb = fc.record({
  n: fc.integer({ min: 0, max: 5 }),
  stack: stackArb,
  swarm: fc.boolean(),
  state: fc.constantFrom('created', 'running', 'paused', 'restarting', 'exited', 'dead'),
});

const serviceArb = fc.record({
  n: fc.integer({ min: 0, max: 5 }),
  stack: stackArb,
  desired: fc.integer({ min: 0, max: 2 }),
  running: fc.integer({ min: 0, max: 2 }),
});

function containerOf(c: {
  n: number;
  stack?: string | undefined;
  swarm: boolean;
  state: string;
}): ContainerInfo {
  return {
    id: `c${c.n}`,
    name: `c${c.n}`,
    imageId: 'sha256:i',
    image: 'i',
    state: c.state as ContainerInfo['state'],
    created: 1_700_000_000,
    labels: c.stack === undefined ? {} : c.swarm ? { stackNamespace: c.stack } : { composeProject: c.stack },
  };
}

function servicesOf(
  list: Array<{ n: number; stack?: string | undefined; desired: number; running: number }>,
): ServiceInfo[] {
  const byId = new Map<string, ServiceInfo>();
  for (const s of list)
    byId.set(`s${s.n}`, {
      id: `s${s.n}`,
      name: `svc${s.n}`,
      image: 'i',
      ...(s.stack !== undefined && { stack: s.stack }),
      mode: 'replicated',
      desired: s.desired,
      running: s.running,
    });
  return [...byId.values()];
}

/** Inputs the reducer gets from the loop: inspects, destroy events, service lists, re-lists. */
const inputArb: fc.Arbitrary<ModelInput> = fc.oneof(
  containerArb.map((c) => ({ kind: 'container', id: `c${c.n}`, container: containerOf(c) }) as ModelInput),
  fc
    .integer({ min: 0, max: 5 })
    .map((n) => ({ kind: 'event', event: event('container', 'destroy', `c${n}`) }) as ModelInput),
  fc.integer({ min: 0, max: 5 }).map((n) => ({ kind: 'container', id: `c${n}` }) as ModelInput),
  fc
    .array(serviceArb, { maxLength: 6 })
    .map((l) => ({ kind: 'services', services: servicesOf(l), tasks: [] }) as ModelInput),
  fc
    .record({
      containers: fc.array(containerArb, { maxLength: 6 }),
      services: fc.array(serviceArb, { maxLength: 6 }),
    })
    .map(
      (s) =>
        ({
          kind: 'snapshot',
          snapshot: snapshot({
            containers: [...new Map(s.containers.map((c) => [c.n, containerOf(c)])).values()],
            services: servicesOf(s.services),
          }),
          reason: 'periodic',
        }) as ModelInput,
    ),
);

describe('settleStacks: live stacks from kept counts', () => {
  it('gives the stacks, kinds and stack.up/stack.down notes (in order) that building them from scratch gives', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { minLength: 1, maxLength: 40 }), (inputs) => {
        const model = createModel();
        const live = new Map<string, { kind: 'swarm' | 'compose'; since: number }>();
        let now = T0;
        for (const input of inputs) {
          now += 1000;
          const notes = apply(model, input, { now, policy }).notes.filter((n) =>
            n.event.startsWith('stack.'),
          );
          assert.deepEqual(notes, reference(live, model, now));
          assert.deepEqual([...model.liveStacks], [...live]);
          assert.deepEqual(
            [...model.stackServices].sort(),
            [...countedFromScratch(model)].sort(),
            'services keeping each stack live',
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a stack kept live by a service is swarm even while a compose container of it runs', () => {
    const model = createModel();
    const step = (input: ModelInput, now: number) =>
      apply(model, input, { now, policy }).notes.filter((n) => n.event.startsWith('stack.'));
    const compose = containerOf({ n: 1, stack: 'a', swarm: false, state: 'running' });
    const up = step(
      { kind: 'services', services: servicesOf([{ n: 1, stack: 'a', desired: 1, running: 0 }]), tasks: [] },
      T0,
    );
    assert.deepEqual(up, [{ event: 'stack.up', stack: 'a', kind: 'swarm', run: true }]);
    assert.deepEqual(step({ kind: 'container', id: 'c1', container: compose }, T0 + 1000), []);
    // Scaled to zero: the compose container still keeps it up.
    step(
      { kind: 'services', services: servicesOf([{ n: 1, stack: 'a', desired: 0, running: 0 }]), tasks: [] },
      T0 + 2000,
    );
    assert.equal(model.stackServices.size, 0);
    assert.equal(model.liveStacks.get('a')?.kind, 'swarm');
    const down = step({ kind: 'event', event: event('container', 'destroy', 'c1') }, T0 + 5000);
    assert.deepEqual(down, [{ event: 'stack.down', stack: 'a', kind: 'swarm', run: true, seconds: 5 }]);
  });
});
