/**
 * Records the reducer really emits, logged through the agent's logger: the recorded run/rmi/prune
 * stream, every recorded scenario in test/fixtures/events/, then inputs built to reach the notes no
 * recording reaches (stream failures, drift, stuck services, own removals).
 */

import { createIdleWatch } from '../../src/agent/idle-watch.js';
import type { EngineEvent, ImageDetail, ServiceInfo, TaskInfo } from '../../src/docker/types.js';
import { writeRecord } from '../../src/records/log-records.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { BURST_QUIET_MS } from '../../src/model/evictions/evictions.js';
import { idleAnswer } from '../../src/model/idle.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import type { ModelInput, Note } from '../../src/model/types.js';
import { captureLogger } from '../log/capture.js';
import { ENGINE_INFO, replayFixture, runContainerInspect } from '../model/eviction-fixture.js';
import { loadScenario, recordedScenarios, replayScenario } from '../fixtures.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const img = (id: string, tags: string[], digests: string[] = []): ImageDetail => ({
  id,
  tags,
  digests,
  size: 1000,
  created: 0,
  layers: [`sha256:layer-${id}`, 'sha256:base'],
  layerSizes: [600, 400],
});
const ev = (type: string, action: string, actorId: string, t: number, attributes = {}): ModelInput => ({
  kind: 'event',
  event: {
    type,
    action,
    actorId,
    attributes,
    scope: 'local',
    timeMs: t,
    timeNano: `${t}000000`,
  } as EngineEvent,
});
const svc = (desired: number, running: number, updateState?: string): ServiceInfo => ({
  id: 'svc1',
  name: 'ci-7_web',
  image: 'app:1@sha256:d1',
  stack: 'ci-7',
  mode: 'replicated',
  desired,
  running,
  ...(updateState && { updateState }),
});
const failed: TaskInfo = {
  id: 't1',
  serviceId: 'svc1',
  desiredState: 'running',
  state: 'rejected',
  at: T0 + 9000,
};

/**
 * Every note of the synthetic sequence, in order, and the agent's idle/busy transitions after each step
 * (the agent logs those from the same idle watch).
 */
export function syntheticNotes(): Note[] {
  const model = createModel(new Map(), 'an-older-engine');
  const notes: Note[] = [];
  const idleWatch = createIdleWatch();
  const policy = { ...ALL_STACKS_ARE_RUNS, quietPeriodMs: 5000 };
  // A budget of 3 pulls: the third pull below crosses `near` (a `pull.budget` record).
  const pullBudget = { limit: 3, windowMs: 6 * 3_600_000 };
  const step = (input: ModelInput, now: number) => {
    notes.push(...apply(model, input, { now, policy, pullBudget }).notes);
    const change = idleWatch(idleAnswer(model, policy, now));
    if (change) notes.push(change as Note);
  };
  const snapshot = (images: ImageDetail[], services: ServiceInfo[], reason: string, now: number) =>
    step(
      {
        kind: 'snapshot',
        reason,
        snapshot: { info: ENGINE_INFO, images, containers: [], services, tasks: [] },
      },
      now,
    );

  step({ kind: 'stream.up', attempt: 0 }, T0);
  snapshot([img('sha256:x', ['app:1'], ['app@sha256:d1']), img('sha256:y', ['old:1'])], [], 'start', T0 + 10);
  step(
    {
      kind: 'stream.down',
      reason: 'events connection closed',
      code: 'ECONNRESET',
      retryInMs: 1000,
      attempt: 1,
    },
    T0 + 100,
  );
  step(
    {
      kind: 'malformed',
      reason: 'not JSON',
      sample: '{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"password":"s3cret"',
    },
    T0 + 200,
  );
  step({ kind: 'overflow', limit: 10_000 }, T0 + 250);
  step({ kind: 'refresh.failed', what: 'image list', message: 'connect ENOENT /run/docker.sock' }, T0 + 300);
  step({ kind: 'stream.up', attempt: 1 }, T0 + 400);
  // The re-list after the reconnect finds y gone (an eviction seen only by the list) and a service.
  snapshot([img('sha256:x', ['app:1'], ['app@sha256:d1'])], [svc(1, 0)], 'reconnect', T0 + 500);
  step({ kind: 'services', services: [svc(1, 1)], tasks: [] }, T0 + 3000);
  step(ev('service', 'update', 'svc1', T0 + 8000), T0 + 8000);
  step({ kind: 'services', services: [svc(2, 1, 'updating')], tasks: [failed] }, T0 + 10_000);
  step({ kind: 'services', services: [], tasks: [] }, T0 + 12_000);
  step({ kind: 'evictions.settle' }, T0 + 500 + BURST_QUIET_MS);
  // Pulls: unknown (inspect found nothing), then warm twice (up to date, then a swarm repeat).
  step(ev('image', 'pull', 'gone:1', T0 + 20_000, { name: 'gone' }), T0 + 20_000);
  step({ kind: 'pull.resolved', ref: 'gone:1', image: null }, T0 + 20_010);
  step(ev('image', 'pull', 'app:1', T0 + 21_000, { name: 'app' }), T0 + 21_000);
  step(
    { kind: 'pull.resolved', ref: 'app:1', image: img('sha256:x', ['app:1'], ['app@sha256:d1']) },
    T0 + 21_010,
  );
  step(ev('image', 'pull', 'app:1@sha256:d1', T0 + 22_000, { name: 'app' }), T0 + 22_000);
  step(
    { kind: 'pull.resolved', ref: 'app:1@sha256:d1', image: img('sha256:x', ['app:1'], ['app@sha256:d1']) },
    T0 + 22_010,
  );
  // A compose run starts (its labels and env must not reach the log) and ends.
  step(
    ev('container', 'start', 'c1', T0 + 25_000, { name: 'spoofed-by-label', password: 'hunter2-secret' }),
    T0 + 25_000,
  );
  step({ kind: 'container', id: 'c1', container: runContainerInspect('c1', 'running') }, T0 + 25_010);
  step({ kind: 'container', id: 'c1', container: runContainerInspect('c1', 'exited') }, T0 + 26_000);
  step(ev('container', 'destroy', 'c1', T0 + 26_500), T0 + 26_500);
  // The agent's own removal, then engine prunes of containers and build cache.
  step({ kind: 'own-removal', id: 'sha256:x' }, T0 + 30_000);
  step(ev('image', 'delete', 'sha256:x', T0 + 30_005), T0 + 30_005);
  step({ kind: 'own-removal', id: 'sha256:x', answer: 'removed' }, T0 + 30_006);
  step(ev('container', 'prune', '', T0 + 31_000, { reclaimed: '2048' }), T0 + 31_000);
  step(ev('builder', 'prune', '', T0 + 32_000, { reclaimed: '4096' }), T0 + 32_000);
  step({ kind: 'evictions.settle' }, T0 + 40_000);
  return notes;
}

/** The reducer's records as the agent logs them (parsed NDJSON). */
export function reducerRecords(): Array<Record<string, unknown>> {
  const { logger, records } = captureLogger();
  const recorded = recordedScenarios().flatMap((name) => replayScenario(loadScenario(name)).notes);
  for (const note of [...replayFixture().notes, ...recorded, ...syntheticNotes()]) writeRecord(logger, note);
  return records;
}
