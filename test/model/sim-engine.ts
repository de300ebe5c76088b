/**
 * The synthetic engine of the model's property tests (apply.property.test.ts): it changes its state as
 * dockerd would and emits the events dockerd would; `answer` plays the loop's lists and inspects.
 */
import fc from 'fast-check';
import type {
  ContainerInfo,
  EngineEvent,
  EngineSnapshot,
  ImageDetail,
  ServiceInfo,
} from '../../src/docker/types.js';
import type { Model, ModelInput, Want } from '../../src/model/types.js';

/**
 * A small synthetic engine: four image contents (overlapping layers), tags that move, containers in
 * stacks, swarm services. Each operation changes the state as dockerd would and emits the events dockerd
 * would (no untag naming the lost ref, no untag when a tag moves, pull by ref only).
 */
const CONTENTS = [0, 1, 2, 3].map((n) => ({
  id: `sha256:${String(n).repeat(64)}`,
  layers: ['sha256:base', `sha256:mid-${n % 2}`, `sha256:top-${n}`],
}));
const TAGS = ['app:1', 'app:2', 'web:latest', 'db:9'];
const STACKS = [undefined, 'ci-1', 'ci-2'];

export interface SimImage {
  id: string;
  tags: string[];
  digests: string[];
  layers: string[];
}
export interface Sim {
  images: Map<string, SimImage>;
  containers: Map<string, ContainerInfo>;
  services: Map<string, ServiceInfo>;
  nextContainer: number;
  nano: bigint;
}

export type Op =
  | { op: 'pull'; content: number; tag: number; digest: boolean }
  | { op: 'tag'; content: number; tag: number }
  | { op: 'rmi'; tag: number }
  | { op: 'rmiId'; content: number }
  /** `by`: the image string given to create: 0 its first tag (else its id), 1 its id, 2 a digest ref (else its id). */
  | { op: 'run'; content: number; stack: number; by: number }
  | { op: 'stop' | 'start' | 'rm'; container: number }
  | { op: 'svc-create'; name: number; stack: number; replicas: number }
  | { op: 'svc-scale'; name: number; replicas: number }
  | { op: 'svc-rm'; name: number }
  /** The loop's side: answer `count` hints now (each call reads the engine and lands at once). */
  | { op: 'fulfil'; count: number }
  /** `count` hints' calls start: they read the engine now and land later, after more events (`land`). */
  | { op: 'begin'; count: number }
  | { op: 'land'; count: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('pull' as const), content: fc.nat(3), tag: fc.nat(3), digest: fc.boolean() }),
  fc.record({ op: fc.constant('tag' as const), content: fc.nat(3), tag: fc.nat(3) }),
  fc.record({ op: fc.constant('rmi' as const), tag: fc.nat(3) }),
  fc.record({ op: fc.constant('rmiId' as const), content: fc.nat(3) }),
  fc.record({ op: fc.constant('run' as const), content: fc.nat(3), stack: fc.nat(2), by: fc.nat(2) }),
  fc.record({ op: fc.constantFrom('stop' as const, 'start' as const, 'rm' as const), container: fc.nat(7) }),
  fc.record({
    op: fc.constant('svc-create' as const),
    name: fc.nat(2),
    stack: fc.nat(2),
    replicas: fc.nat(2),
  }),
  fc.record({ op: fc.constant('svc-scale' as const), name: fc.nat(2), replicas: fc.nat(2) }),
  fc.record({ op: fc.constant('svc-rm' as const), name: fc.nat(2) }),
  // The loop's side weighs as much as the engine's: calls that read the engine, then land late.
  { arbitrary: fc.record({ op: fc.constant('fulfil' as const), count: fc.nat(4) }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('begin' as const), count: fc.integer({ min: 1, max: 4 }) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant('land' as const), count: fc.integer({ min: 1, max: 4 }) }),
    weight: 3,
  },
);

export function newSim(): Sim {
  return {
    images: new Map(),
    containers: new Map(),
    services: new Map(),
    nextContainer: 0,
    nano: 1_700_000_000_000_000_000n,
  };
}

function event(
  sim: Sim,
  type: string,
  action: string,
  id: string,
  attributes: EngineEvent['attributes'] = {},
) {
  sim.nano += 1_000_000n;
  const timeNano = sim.nano.toString();
  return {
    type,
    action,
    actorId: id,
    attributes,
    scope: 'local',
    timeNano,
    timeMs: Number(sim.nano / 1_000_000n),
  };
}

const usedBy = (sim: Sim, imageId: string) => [...sim.containers.values()].some((c) => c.imageId === imageId);

/** What a user gives `docker create`: a tag, the id, or (as swarm does) `repo:tag@digest`. */
function imageString(img: SimImage, by: number): string {
  const digestRef = img.digests[0];
  if (by === 0 && img.tags[0]) return img.tags[0];
  if (by === 2 && digestRef) return digestRef.replace('@', ':pinned@');
  return img.id;
}

/** Moves `ref` to `to` (a tag that moves emits nothing for the image that lost it). */
function setTag(sim: Sim, to: SimImage, ref: string) {
  for (const img of sim.images.values()) img.tags = img.tags.filter((t) => t !== ref);
  to.tags.push(ref);
}

export function run(sim: Sim, op: Op): EngineEvent[] {
  const out: EngineEvent[] = [];
  const byTag = (ref: string) => [...sim.images.values()].find((i) => i.tags.includes(ref));
  const nthContainer = (n: number) => [...sim.containers.values()][n];
  switch (op.op) {
    case 'pull': {
      const c = CONTENTS[op.content]!;
      const ref = TAGS[op.tag]!;
      let img = sim.images.get(c.id);
      if (!img) {
        img = { id: c.id, tags: [], digests: [], layers: c.layers };
        sim.images.set(c.id, img);
      }
      const digestRef = `${ref.split(':')[0]}@sha256:${String(op.content).repeat(64)}`;
      if (!img.digests.includes(digestRef)) img.digests.push(digestRef);
      // A swarm-style pull stores only the digest ref.
      if (!op.digest) setTag(sim, img, ref);
      out.push(
        event(sim, 'image', 'pull', op.digest ? `${ref}@sha256:${String(op.content).repeat(64)}` : ref, {
          name: ref.split(':')[0]!,
        }),
      );
      break;
    }
    case 'tag': {
      const img = sim.images.get(CONTENTS[op.content]!.id);
      if (!img) break;
      setTag(sim, img, TAGS[op.tag]!);
      out.push(event(sim, 'image', 'tag', img.id, { name: TAGS[op.tag]! }));
      break;
    }
    case 'rmi': {
      const ref = TAGS[op.tag]!;
      const img = byTag(ref);
      if (!img) break;
      const refs = img.tags.length + img.digests.length;
      if (refs > 1) {
        img.tags = img.tags.filter((t) => t !== ref);
        out.push(event(sim, 'image', 'untag', img.id, { name: img.id }));
      } else if (!usedBy(sim, img.id)) {
        sim.images.delete(img.id);
        out.push(event(sim, 'image', 'untag', img.id, { name: img.id }));
        out.push(event(sim, 'image', 'delete', img.id, { name: img.id }));
      }
      break;
    }
    case 'rmiId': {
      const img = sim.images.get(CONTENTS[op.content]!.id);
      // Refused without force: in use, or several repositories.
      if (!img || usedBy(sim, img.id) || img.tags.length > 1) break;
      sim.images.delete(img.id);
      for (const _ of [...img.tags, ...img.digests])
        out.push(event(sim, 'image', 'untag', img.id, { name: img.id }));
      out.push(event(sim, 'image', 'delete', img.id, { name: img.id }));
      break;
    }
    case 'run': {
      const img = sim.images.get(CONTENTS[op.content]!.id);
      if (!img) break;
      const id = `c${String(sim.nextContainer++).padStart(63, '0')}`;
      const stack = STACKS[op.stack];
      const c: ContainerInfo = {
        id,
        name: `n${id.slice(-4)}`,
        imageId: img.id,
        image: imageString(img, op.by),
        state: 'running',
        created: 1_700_000_000,
        labels: stack ? { composeProject: stack } : {},
      };
      sim.containers.set(id, c);
      const attrs = { name: c.name, image: c.image, ...(stack && { 'com.docker.compose.project': stack }) };
      out.push(event(sim, 'container', 'create', id, attrs), event(sim, 'container', 'start', id, attrs));
      break;
    }
    case 'stop': {
      const c = nthContainer(op.container);
      if (c?.state !== 'running') break;
      c.state = 'exited';
      c.finishedAt = Number(sim.nano / 1_000_000n);
      out.push(
        event(sim, 'container', 'kill', c.id),
        event(sim, 'container', 'die', c.id, { exitCode: '0' }),
      );
      out.push(event(sim, 'container', 'stop', c.id));
      break;
    }
    case 'start': {
      const c = nthContainer(op.container);
      if (!c || c.state === 'running') break;
      c.state = 'running';
      out.push(event(sim, 'container', 'start', c.id));
      break;
    }
    case 'rm': {
      const c = nthContainer(op.container);
      if (!c || c.state === 'running') break;
      sim.containers.delete(c.id);
      out.push(event(sim, 'container', 'destroy', c.id));
      break;
    }
    case 'svc-create': {
      const id = `svc${op.name}`;
      if (sim.services.has(id)) break;
      const stack = STACKS[op.stack];
      const name = `${stack ?? 'solo'}_s${op.name}`;
      sim.services.set(id, {
        id,
        name,
        image: 'app:1',
        ...(stack && { stack }),
        mode: 'replicated',
        desired: op.replicas,
        running: op.replicas,
      });
      out.push(event(sim, 'service', 'create', id, { name }));
      break;
    }
    case 'svc-scale': {
      const s = sim.services.get(`svc${op.name}`);
      if (!s) break;
      const old = s.desired;
      s.desired = op.replicas;
      s.running = op.replicas;
      out.push(
        event(sim, 'service', 'update', s.id, {
          name: s.name,
          'replicas.old': `${old}`,
          'replicas.new': `${op.replicas}`,
        }),
      );
      break;
    }
    case 'svc-rm': {
      const s = sim.services.get(`svc${op.name}`);
      if (!s) break;
      sim.services.delete(s.id);
      out.push(event(sim, 'service', 'remove', s.id, { name: s.name }));
      break;
    }
    case 'fulfil':
    case 'begin':
    case 'land':
      break;
  }
  return out;
}

export const detail = (img: SimImage): ImageDetail => ({
  id: img.id,
  tags: [...img.tags],
  digests: [...img.digests],
  size: 100 * img.layers.length,
  created: 1_600_000_000,
  layers: [...img.layers],
});

export function snapshot(sim: Sim): EngineSnapshot {
  return {
    info: {
      id: 'SIM',
      name: 'sim',
      serverVersion: '20.10.24',
      apiVersion: '1.41',
      dockerRootDir: '/d',
      imageStore: 'graphdriver' as const,
      swarm: 'active',
      isManager: true,
    },
    images: [...sim.images.values()].map(detail),
    containers: [...sim.containers.values()].map((c) => structuredClone(c)),
    services: [...sim.services.values()].map((s) => ({ ...s })),
    tasks: [],
  };
}

/** Answers a want from the simulated engine as it is now (as the loop's lists and inspects would). */
export function answer(sim: Sim, want: Want): ModelInput | undefined {
  switch (want.kind) {
    case 'list-images':
      return { kind: 'images', images: [...sim.images.values()].map(detail) };
    case 'list-containers':
      return { kind: 'containers', containers: [...sim.containers.values()].map((c) => structuredClone(c)) };
    case 'inspect-container': {
      const c = sim.containers.get(want.id);
      return { kind: 'container', id: want.id, container: c ? structuredClone(c) : null };
    }
    case 'list-services':
      return { kind: 'services', services: [...sim.services.values()].map((s) => ({ ...s })), tasks: [] };
    case 'resolve-pull': {
      const ref = want.ref;
      const digest = ref.includes('@') ? ref.slice(ref.indexOf('@') + 1) : undefined;
      const img = [...sim.images.values()].find(
        (i) => i.tags.includes(ref) || (digest !== undefined && i.digests.some((d) => d.endsWith(digest))),
      );
      return { kind: 'pull.resolved', ref, image: img ? detail(img) : null };
    }
    case 'resync':
      return { kind: 'snapshot', snapshot: snapshot(sim), reason: want.reason };
  }
}

const sorted = <T>(xs: T[]) => [...xs].sort();
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

/** Images as the engine would list them: ids, refs, layers. */
export function imageFacts(
  images: Iterable<{ id: string; tags: string[]; digests: string[]; layers: string[] }>,
) {
  return [...images]
    .map((i) => ({ id: i.id, tags: sorted(i.tags), digests: sorted(i.digests), layers: i.layers }))
    .sort(byId);
}

/** Containers as the engine would list them: id, image id, state, stack. */
export function containerFacts(
  containers: Iterable<{ id: string; imageId: string; state: string; stack?: string }>,
) {
  return [...containers]
    .map((c) => ({ id: c.id, imageId: c.imageId, state: c.state, stack: c.stack }))
    .sort(byId);
}

/** The sim's containers in the shape of `containerFacts`. */
export const simContainers = (sim: Sim) =>
  [...sim.containers.values()].map((c) => ({
    ...c,
    ...(c.labels.composeProject !== undefined && { stack: c.labels.composeProject }),
  }));

/** What must agree between two models: the engine's objects, layer counts and live stacks (not clocks). */
export function view(m: Model) {
  return {
    images: imageFacts(m.images.values()),
    layers: [...m.layers.entries()].sort(),
    containers: containerFacts(m.containers.values()),
    services: [...m.services.values()]
      .map((s) => ({ id: s.id, desired: s.desired, running: s.running, state: s.state, stack: s.stack }))
      .sort(byId),
    liveStacks: sorted([...m.liveStacks.keys()]),
    stackContainers: [...m.stackContainers.entries()].sort(),
  };
}
