import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeContainerSummary,
  decodeImageInspect,
  decodeInfo,
  decodeService,
  decodeTask,
} from '../src/docker/decode.js';
import type { EngineEvent, EngineSnapshot } from '../src/docker/types.js';
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

export function loadScenario(name: ScenarioName): Scenario {
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
