import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { EngineEvent } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import { refKeys } from '../../src/model/images/ref-index.js';
import { refMatcher } from '../../src/model/images/refs.js';
import { resolveImage } from '../../src/model/images/resolve.js';
import type { Model, ModelInput, Want } from '../../src/model/types.js';
import {
  answer,
  containerFacts,
  detail,
  imageFacts,
  newSim,
  type Op,
  opArb,
  run,
  type Sim,
  simContainers,
  snapshot,
  view,
} from './sim-engine.js';

/** A call the loop has started: it read the engine at `startedAt` (a step count) and has not landed. */
interface Flight {
  input: ModelInput;
  startedAt: number;
}

/** The loop runs one call per key at a time, and lands them in the order they started (coalescer.ts). */
const keyOf = (w: Want) =>
  w.kind === 'inspect-container' ? `container:${w.id}` : w.kind === 'resolve-pull' ? `pull:${w.ref}` : w.kind;

/**
 * Drives the pure model as the loop does: events applied at once; their hints answered later, either at
 * once from the engine as it is (`fulfil`) or by calls that read it and land after more events (`begin`,
 * `land`). Like the loop, a landing list or inspect drops the ids that a delete or destroy event removed
 * after the call started (model-loop.ts, `gone`).
 */
class Driver {
  readonly live: Model = createModel();
  private now = 1_700_000_000_000;
  private steps = 0;
  private readonly pending: Want[] = [];
  private readonly flights = new Map<string, Flight>();
  private readonly gone = new Map<string, number>();

  /**
   * @param pullsAtOnce answer each pull's inspect as it is asked, in event order. Otherwise a pull may
   * be classified late (behind an earlier pull's inspect, or read early and landing late): what its
   * inspect saw then must not undo later image events (classify in pulls.ts; PULL_READ_EARLY).
   */
  constructor(
    readonly sim: Sim,
    private readonly pullsAtOnce = false,
  ) {
    this.feed({ kind: 'stream.up', attempt: 0 });
    this.feed({ kind: 'snapshot', snapshot: snapshot(sim), reason: 'start' });
  }

  ctx() {
    this.now += 7;
    return { now: this.now, policy: ALL_STACKS_ARE_RUNS };
  }

  feed(input: ModelInput) {
    const step = apply(this.live, input, this.ctx());
    for (const w of step.wants) {
      if (w.kind === 'resync') continue;
      const input = this.pullsAtOnce && w.kind === 'resolve-pull' ? answer(this.sim, w) : undefined;
      if (input) this.feed(input);
      else this.pending.push(w);
    }
  }

  event(e: EngineEvent) {
    this.steps++;
    if ((e.type === 'image' && e.action === 'delete') || (e.type === 'container' && e.action === 'destroy'))
      this.gone.set(e.actorId, this.steps);
    this.feed({ kind: 'event', event: e });
  }

  op(op: Op) {
    if (op.op === 'fulfil') {
      // Hints answered late, and not in the order they were asked.
      for (const w of this.pending.splice(0, op.count).reverse()) {
        this.land(keyOf(w));
        const input = answer(this.sim, w);
        if (input) this.feed(input);
      }
    } else if (op.op === 'begin') {
      for (const w of this.pending.splice(0, op.count).reverse()) {
        const key = keyOf(w);
        const input = answer(this.sim, w);
        if (this.flights.has(key) || !input) this.pending.push(w);
        else this.flights.set(key, { input, startedAt: ++this.steps });
      }
    } else if (op.op === 'land') {
      for (const key of [...this.flights.keys()].slice(-op.count)) this.land(key);
    } else for (const e of run(this.sim, op)) this.event(e);
  }

  /** Everything asked for, answered, until nothing more is asked. */
  settle() {
    for (const key of [...this.flights.keys()]) this.land(key);
    for (let guard = 0; this.pending.length > 0 && guard < 10_000; guard++) {
      const input = answer(this.sim, this.pending.shift() as Want);
      if (input) this.feed(input);
    }
    assert.equal(this.pending.length, 0);
  }

  private land(key: string) {
    const flight = this.flights.get(key);
    if (!flight) return;
    this.flights.delete(key);
    const keep = (x: { id: string }) => (this.gone.get(x.id) ?? -1) < flight.startedAt;
    const { input } = flight;
    if (input.kind === 'images') this.feed({ ...input, images: input.images.filter(keep) });
    else if (input.kind === 'container') {
      if (keep(input)) this.feed(input);
    } else if (input.kind === 'pull.resolved' && input.image && !keep(input.image))
      this.feed({ ...input, deletedSince: true });
    else this.feed(input);
  }
}

const freshModel = (sim: Sim, d: Driver) => {
  const fresh = createModel();
  apply(fresh, { kind: 'stream.up', attempt: 0 }, d.ctx());
  apply(fresh, { kind: 'snapshot', snapshot: snapshot(sim), reason: 'start' }, d.ctx());
  return fresh;
};

const ops = (size?: fc.SizeForArbitrary) =>
  fc.tuple(fc.array(opArb, { maxLength: 12 }), fc.array(opArb, { maxLength: 60, ...(size && { size }) }));

/**
 * Found by the property at 5,000 runs: a pull's inspect reads the engine, then the tag moves to another
 * image, then the inspect is applied — the old refs came back (test/model/pulls-late.test.ts: the image
 * deleted meanwhile).
 */
const PULL_READ_EARLY: Array<[[Op[], Op[]]]> = [
  [
    [
      [],
      [
        { op: 'pull', content: 0, tag: 0, digest: false },
        { op: 'begin', count: 1 },
        { op: 'tag', content: 0, tag: 1 },
        { op: 'begin', count: 1 },
        { op: 'fulfil', count: 1 },
      ],
    ],
  ],
];

/** Runs a scenario and checks the model against a fresh re-list once every hint is answered. */
function converges([setup, scenario]: [Op[], Op[]], pullsAtOnce: boolean) {
  const sim = newSim();
  for (const op of setup) run(sim, op);
  const d = new Driver(sim, pullsAtOnce);
  for (const op of scenario) d.op(op);
  d.settle();
  assert.deepEqual(view(d.live), view(freshModel(sim, d)));
  assert.equal(d.live.sync.inSync, true);
}

describe('apply (property): events one by one = a fresh re-list', () => {
  it('after any scenario, with the hints answered late, out of order, some read early and landing late', () => {
    fc.assert(
      fc.property(ops(), (scenario) => converges(scenario, false)),
      { numRuns: 400, examples: PULL_READ_EARLY },
    );
  });

  it('the same over long scenarios, each pull inspected as it comes (tags, creates, deletes and stale lists)', () => {
    fc.assert(
      fc.property(ops('large'), (scenario) => converges(scenario, true)),
      { numRuns: 300 },
    );
  });

  it('a tag, or a create and start, keeps a model that was up to date up to date before any call', () => {
    fc.assert(
      fc.property(ops('large'), ([setup, scenario]) => {
        const sim = newSim();
        for (const op of setup) run(sim, op);
        const d = new Driver(sim);
        for (const op of scenario) {
          const sameImages = () =>
            fc.stringify(imageFacts(d.live.images.values())) ===
            fc.stringify(imageFacts(sim.images.values()));
          const sameContainers = () =>
            fc.stringify(containerFacts(d.live.containers.values())) ===
            fc.stringify(containerFacts(simContainers(sim)));
          const before = { images: sameImages(), containers: sameContainers() };
          d.op(op);
          if (op.op !== 'tag' && op.op !== 'run') continue;
          // What the events alone say: the calls they ask for have not been answered.
          if (before.images) assert.ok(sameImages(), 'images as the engine has them');
          if (op.op === 'run' && before.images && before.containers)
            assert.deepEqual(containerFacts(d.live.containers.values()), containerFacts(simContainers(sim)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('resolves every ref and id prefix through the ref index as walking every image did', () => {
    const FIXED = ['app:1', 'app', 'app:2', 'docker.io/library/web', 'web:latest', 'db:9', 'db', 'nope:1'];
    /** resolveImage before the index: the first image in the model's order that answers to the ref. */
    const walked = (m: Model, image: string): string | undefined => {
      if (m.images.has(image)) return image;
      if (/^sha256:[0-9a-f]{64}$/.test(image)) return undefined;
      const matches = refMatcher(image);
      for (const entry of m.images.values()) if (matches(entry)) return entry.id;
      const prefix = image.replace(/^sha256:/, '');
      if (!/^[0-9a-f]{1,64}$/.test(prefix)) return undefined;
      const found = [...m.images.keys()].filter((id) => id.startsWith(`sha256:${prefix}`));
      return found.length === 1 ? found[0] : undefined;
    };
    const rebuilt = (m: Model) => {
      const byKey = new Map<string, string[]>();
      for (const entry of m.images.values())
        for (const key of refKeys(entry)) byKey.set(key, [...(byKey.get(key) ?? []), entry.id]);
      return [...byKey].map(([k, ids]) => [k, ids.sort()]).sort();
    };
    fc.assert(
      fc.property(ops('large'), ([setup, scenario]) => {
        const sim = newSim();
        for (const op of setup) run(sim, op);
        const d = new Driver(sim);
        for (const op of scenario) {
          d.op(op);
          const m = d.live;
          const refs = new Set(FIXED);
          for (const img of [...m.images.values(), ...sim.images.values()]) {
            for (const r of [...img.tags, ...img.digests]) refs.add(r).add(`docker.io/library/${r}`);
            refs.add(img.id).add(img.id.slice(7, 9)).add(img.id.slice(0, 10));
          }
          for (const ref of refs) assert.equal(resolveImage(m, ref), walked(m, ref), ref);
          assert.deepEqual(
            [...m.refIndex.byKey]
              .map(([k, ids]) => [k, typeof ids === 'string' ? [ids] : [...ids].sort()])
              .sort(),
            rebuilt(m),
            'the index holds what the images hold',
          );
          for (const ids of m.refIndex.byKey.values())
            if (typeof ids !== 'string') assert.ok(ids.length > 1, 'one holder is kept as its id');
        }
      }),
      { numRuns: 200 },
    );
  });
});
