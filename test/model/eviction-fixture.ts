/**
 * Replays test/fixtures/events/eviction-run-rmi-prune.json (recorded on dockerd 20.10.24, API 1.41, by
 * scripts/record-eviction-events.ts) through the reducer, doing what the model loop would do for the
 * wants, in the order that is hardest for the audit: the image list that follows an `untag` is applied
 * before the `delete` arrives, so the model sees the image lose its refs first.
 */
import { readFileSync } from 'node:fs';
import { decodeContainerInspect, decodeImageInspect } from '../../src/docker/decode.js';
import type { EngineEvent, EngineInfo, ImageDetail } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { Model, ModelInput, Note } from '../../src/model/types.js';
import { decodeEvent } from '../../src/streams/decode-event.js';

interface Fixture {
  engine: { version: string; apiVersion: string };
  images: Array<{ inspect: unknown; history: unknown }>;
  events: string[];
}

export const FIXTURE = JSON.parse(
  readFileSync(new URL('../fixtures/events/eviction-run-rmi-prune.json', import.meta.url), 'utf8'),
) as Fixture;

export const FIXTURE_IMAGES: ImageDetail[] = FIXTURE.images.map((i) =>
  decodeImageInspect(i.inspect, i.history),
);
export const [IMAGE_A, IMAGE_B, IMAGE_C] = FIXTURE_IMAGES as [ImageDetail, ImageDetail, ImageDetail];

export const ENGINE_INFO: EngineInfo = {
  id: 'fixture-engine',
  name: 'fixture',
  serverVersion: FIXTURE.engine.version,
  apiVersion: FIXTURE.engine.apiVersion,
  dockerRootDir: '/var/lib/docker',
  imageStore: 'graphdriver' as const,
  swarm: 'inactive',
  isManager: false,
};

export const FIXTURE_EVENTS: EngineEvent[] = FIXTURE.events.map((line) => {
  const d = decodeEvent(line);
  if (!d.ok) throw new Error(`fixture line does not decode: ${d.reason}`);
  return d.event;
});

/** The inspect of the run container as the engine gives it: labels and env a log must never carry. */
export function runContainerInspect(id: string, status: 'running' | 'exited') {
  return decodeContainerInspect({
    Id: id,
    Name: '/run1',
    Image: IMAGE_A.id,
    Created: '2026-11-22T00:00:00Z',
    State: {
      Status: status,
      FinishedAt: status === 'exited' ? '2026-11-22T00:01:00Z' : '0001-01-01T00:00:00Z',
    },
    Config: {
      Image: '127.0.0.1:5000/lw/cache-a:1',
      Env: ['API_TOKEN=env-secret-value'],
      Labels: {
        'com.docker.compose.project': 'ci-run',
        password: 'hunter2-secret',
        name: 'spoofed-by-label',
        'secret.token': 'hunter2-image-label',
      },
    },
  });
}

export interface Replay {
  model: Model;
  notes: Note[];
  /** Every input applied, in order, with the agent clock it was applied at. */
  inputs: Array<{ at: number; input: ModelInput }>;
}

/** Replays the fixture; the agent's clock is the engine's time of each event. */
export function replayFixture(events: EngineEvent[] = FIXTURE_EVENTS): Replay {
  const model = createModel();
  const notes: Note[] = [];
  const inputs: Replay['inputs'] = [];
  const policy = ALL_STACKS_ARE_RUNS;
  const truth = new Map(FIXTURE_IMAGES.map((i) => [i.id, i]));
  let settleAt: number | undefined;
  const push = (input: ModelInput, now: number) => {
    inputs.push({ at: now, input });
    const step = apply(model, input, { now, policy });
    notes.push(...step.notes);
    for (const want of step.wants) if (want.kind === 'settle-evictions') settleAt = now + want.delayMs;
  };
  const start = events[0]?.timeMs ?? 0;
  // Listed a minute before the recording, as a running agent would have: older than any pull's grace.
  push({ kind: 'stream.up', attempt: 0 }, start - 60_010);
  push(
    {
      kind: 'snapshot',
      reason: 'start',
      snapshot: { info: ENGINE_INFO, images: FIXTURE_IMAGES, containers: [], services: [], tasks: [] },
    },
    start - 60_000,
  );
  for (const event of events) {
    if (settleAt !== undefined && settleAt <= event.timeMs) {
      const at = settleAt;
      settleAt = undefined;
      push({ kind: 'evictions.settle' }, at);
    }
    const now = event.timeMs;
    push({ kind: 'event', event }, now);
    if (event.type === 'image' && event.action === 'untag') {
      const image = truth.get(event.actorId);
      if (image) truth.set(image.id, { ...image, tags: [], digests: [] });
      push({ kind: 'images', images: [...truth.values()] }, now);
    } else if (event.type === 'image' && event.action === 'delete') {
      truth.delete(event.actorId);
    } else if (event.type === 'image' && event.action === 'pull') {
      const image = FIXTURE_IMAGES.find((i) => i.tags.includes(event.actorId));
      if (image) truth.set(image.id, image);
      push({ kind: 'pull.resolved', ref: event.actorId, image: image ?? null }, now + 1);
    } else if (event.type === 'container' && (event.action === 'start' || event.action === 'die')) {
      const status = event.action === 'start' ? 'running' : 'exited';
      push(
        { kind: 'container', id: event.actorId, container: runContainerInspect(event.actorId, status) },
        now + 1,
      );
    }
  }
  if (settleAt !== undefined) push({ kind: 'evictions.settle' }, settleAt);
  return { model, notes, inputs };
}
