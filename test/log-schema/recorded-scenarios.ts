/**
 * The reducer over every recorded scenario in test/fixtures/events/ (`NAME.events.ndjson` with its
 * `NAME.before.*.json` and `NAME.*.json` lists; layout in that folder's README): the before-lists, each
 * event at its own time, inspects answered from the end state, held evictions settled when the loop's
 * timer would fire, then the end lists as a resync. Scenarios absent here are simply not replayed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeContainerSummary,
  decodeImageInspect,
  decodeInfo,
  decodeService,
  decodeTask,
} from '../../src/docker/decode.js';
import type { EngineSnapshot } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { refMatches } from '../../src/model/refs.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/stacks.js';
import type { ModelInput, Note, Want } from '../../src/model/types.js';
import { decodeEvent } from '../../src/streams/decode-event.js';

const DIR = fileURLToPath(new URL('../fixtures/events/', import.meta.url));
const read = (file: string): unknown => JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));

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

/** Names of the recorded scenarios present (those with their before and end lists). */
export function recordedScenarios(): string[] {
  if (!existsSync(DIR)) return [];
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.events.ndjson'))
    .map((f) => f.slice(0, -'.events.ndjson'.length))
    .filter(
      (name) =>
        existsSync(path.join(DIR, `${name}.before.images.json`)) &&
        existsSync(path.join(DIR, `${name}.images.json`)),
    )
    .sort();
}

/** The notes of one scenario, in order. */
export function replayScenario(name: string): Note[] {
  const before = snapshotOf(`${name}.before`);
  const after = snapshotOf(name);
  const events = readFileSync(path.join(DIR, `${name}.events.ndjson`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const d = decodeEvent(line);
      if (!d.ok) throw new Error(`${name}: ${d.reason}`);
      return d.event;
    });
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
    else if (want.kind === 'inspect-container')
      feed(
        { kind: 'container', id: want.id, container: after.containers.find((c) => c.id === want.id) ?? null },
        now,
      );
    else if (want.kind === 'resolve-pull')
      feed(
        {
          kind: 'pull.resolved',
          ref: want.ref,
          image: after.images.find((i) => refMatches(i, want.ref)) ?? null,
        },
        now,
      );
  };
  const t0 = events[0]?.timeMs ?? 0;
  feed({ kind: 'stream.up', attempt: 0 }, t0 - 1);
  feed({ kind: 'snapshot', snapshot: before, reason: 'start' }, t0 - 1);
  for (const event of events) {
    if (settleAt !== undefined && settleAt <= event.timeMs) {
      const at = settleAt;
      settleAt = undefined;
      feed({ kind: 'evictions.settle' }, at);
    }
    feed({ kind: 'event', event }, event.timeMs);
  }
  const end = (events.at(-1)?.timeMs ?? t0) + 1;
  feed({ kind: 'snapshot', snapshot: after, reason: 'periodic' }, end);
  feed({ kind: 'evictions.settle', final: true }, end);
  return notes;
}
