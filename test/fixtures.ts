import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeContainerSummary,
  decodeImageInspect,
  decodeInfo,
  decodeService,
  decodeTask,
} from '../src/docker/decode.js';
import type { EngineEvent, EngineSnapshot } from '../src/docker/types.js';
import { apply } from '../src/model/apply.js';
import { createModel } from '../src/model/create.js';
import { refMatches } from '../src/model/images/refs.js';
import { ALL_STACKS_ARE_RUNS } from '../src/model/services/stacks.js';
import type { Model, ModelInput, Note, Want } from '../src/model/types.js';
import { decodeEvent } from '../src/streams/decode-event.js';

/** Recorded scenarios from a real dockerd 20.10.24 (see test/fixtures/events/README.md). */
export const SCENARIOS = ['images', 'containers', 'swarm-deploy', 'swarm-rm', 'pulls', 'prune'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const DIR = join(import.meta.dirname, 'fixtures', 'events');
const read = (file: string): unknown => JSON.parse(readFileSync(join(DIR, file), 'utf8'));

function snapshotOf(prefix: string): EngineSnapshot {
  const images = read(`${prefix}.images.json`) as {
    list: Array<{ Id: string }>;
    inspect: Record<string, unknown>;
  };
  return {
    info: decodeInfo(read(`${prefix}.info.json`), '1.41'),
    images: images.list.map((i) => decodeImageInspect(images.inspect[i.Id])),
    containers: (read(`${prefix}.containers.json`) as unknown[]).map(decodeContainerSummary),
    services: (read(`${prefix}.services.json`) as unknown[]).map(decodeService),
    tasks: (read(`${prefix}.tasks.json`) as unknown[]).map(decodeTask),
  };
}

export interface Scenario {
  before: EngineSnapshot;
  after: EngineSnapshot;
  events: EngineEvent[];
  /** Raw lines of the stream, byte for byte. */
  lines: string[];
  steps: Array<{ step: string; code?: number }>;
}

export function loadScenario(name: string): Scenario {
  const lines = readFileSync(join(DIR, `${name}.events.ndjson`), 'utf8')
    .split('\n')
    .filter(Boolean);
  const events = lines.map((line) => {
    const d = decodeEvent(line);
    if (!d.ok) throw new Error(`fixture ${name}: ${d.reason}`);
    return d.event;
  });
  return {
    before: snapshotOf(`${name}.before`),
    after: snapshotOf(name),
    events,
    lines,
    steps: read(`${name}.steps.json`) as Scenario['steps'],
  };
}

export function loadPullTruth(): Array<{ ref: string; kind?: string; error?: string }> {
  return read('pulls.pulls.json') as Array<{ ref: string; kind?: string; error?: string }>;
}

/** Names of the recorded scenarios present (those with their before and end lists). */
export function recordedScenarios(): string[] {
  if (!existsSync(DIR)) return [];
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.events.ndjson'))
    .map((f) => f.slice(0, -'.events.ndjson'.length))
    .filter(
      (name) =>
        existsSync(join(DIR, `${name}.before.images.json`)) && existsSync(join(DIR, `${name}.images.json`)),
    )
    .sort();
}

/**
 * Replays a recorded scenario through the reducer the way the loop would: the before-lists, then every
 * event at its own time; inspects a want asks for are answered from the engine's end state at once, lists
 * only at the end (as a slow engine would); held evictions are settled when the loop's timer would fire;
 * then the end lists are applied as a resync.
 */
export function replayScenario(s: Scenario): { model: Model; notes: Note[] } {
  const model = createModel();
  const notes: Note[] = [];
  let settleAt: number | undefined;
  const feed = (input: ModelInput, now: number) => {
    const step = apply(model, input, { now, policy: ALL_STACKS_ARE_RUNS });
    notes.push(...step.notes);
    for (const want of step.wants) answer(want, now);
  };
  const answer = (want: Want, now: number) => {
    if (want.kind === 'settle-evictions') settleAt = now + want.delayMs;
    else if (want.kind === 'inspect-container') {
      feed(
        {
          kind: 'container',
          id: want.id,
          container: s.after.containers.find((c) => c.id === want.id) ?? null,
        },
        now,
      );
    } else if (want.kind === 'resolve-pull') {
      feed(
        {
          kind: 'pull.resolved',
          ref: want.ref,
          image: s.after.images.find((i) => refMatches(i, want.ref)) ?? null,
        },
        now,
      );
    }
  };
  const settleDue = (now: number) => {
    if (settleAt === undefined || settleAt > now) return;
    const at = settleAt;
    settleAt = undefined;
    feed({ kind: 'evictions.settle' }, at);
  };
  const t0 = s.events[0]?.timeMs ?? 0;
  feed({ kind: 'stream.up', attempt: 0 }, t0 - 1);
  feed({ kind: 'snapshot', snapshot: s.before, reason: 'start' }, t0 - 1);
  for (const event of s.events) {
    settleDue(event.timeMs);
    feed({ kind: 'event', event }, event.timeMs);
  }
  const end = (s.events.at(-1)?.timeMs ?? t0) + 1;
  settleDue(Number.POSITIVE_INFINITY);
  feed({ kind: 'snapshot', snapshot: s.after, reason: 'periodic' }, end);
  feed({ kind: 'evictions.settle', final: true }, end);
  return { model, notes };
}
