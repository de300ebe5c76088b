import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RECORD_TYPES_FILE, recordTypesSource } from '../scripts/record-types.js';
import { agentRecords } from './log-schema/agent-records.js';
import { boundaryRecords } from './log-schema/boundary-records.js';
import { cliRecords } from './log-schema/cli-records.js';
import { executorRecords } from './log-schema/executor-records.js';
import { lifecycleRecords } from './log-schema/lifecycle-records.js';
import { pruneNowRecords } from './log-schema/prune-now-records.js';
import { reducerRecords } from './log-schema/reducer-records.js';
import { type EventSpec, checkRecord, loadSchema } from './log-schema/schema.js';

/** Events the unit tests cannot produce, and why (their names and examples are still checked). */
const NOT_EXERCISED: Record<string, string> = {};

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Every `event: '…'` literal in src/: the names the code can emit. */
function eventNamesInSource(): Map<string, string> {
  const names = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.ts'))
        for (const m of readFileSync(file, 'utf8').matchAll(/\bevent:\s*'([a-z][a-z0-9.-]*)'/g))
          names.set(m[1] as string, path.relative(SRC, file));
    }
  };
  walk(SRC);
  return names;
}

describe('docs/log-schema.md is the contract of the log stream', { timeout: 60_000 }, () => {
  let specs: Map<string, EventSpec>;
  let emitted: Array<Record<string, unknown>>;

  before(async () => {
    specs = loadSchema();
    emitted = [
      ...reducerRecords(),
      ...(await agentRecords()),
      ...(await cliRecords()),
      ...(await executorRecords()),
      ...(await boundaryRecords()),
      ...(await pruneNowRecords()),
      ...(await lifecycleRecords()),
    ];
  });

  it('documents every event name the code contains, and no other', () => {
    const inSource = eventNamesInSource();
    const undocumented = [...inSource].filter(([name]) => !specs.has(name)).map(([n, f]) => `${n} (${f})`);
    assert.deepEqual(undocumented, [], 'events emitted by src/ but missing from docs/log-schema.md');
    const stale = [...specs.keys()].filter((name) => !inSource.has(name));
    assert.deepEqual(stale, [], 'events documented but emitted nowhere in src/');
  });

  it('every record the reducer, the agent, the CLI, the prune and the lifecycle emit conforms', () => {
    const errors = new Set<string>();
    for (const record of emitted) for (const e of checkRecord(record, specs)) errors.add(e);
    assert.deepEqual([...errors], []);
  });

  it('every documented event was really emitted here, unless listed with a reason', () => {
    const seen = new Set(emitted.map((r) => String(r.event)));
    const missing = [...specs.keys()].filter((name) => !seen.has(name) && !(name in NOT_EXERCISED));
    assert.deepEqual(missing, [], 'add a producer in test/log-schema/ or a reason in NOT_EXERCISED');
    for (const name of Object.keys(NOT_EXERCISED)) assert.ok(specs.has(name), `${name} is documented`);
  });

  it('src/records/record-types.ts is the union this doc describes (made by scripts/record-types.ts)', () => {
    // Compared without layout: the formatter may break a long union over lines.
    const squash = (s: string) => s.replace(/[\s|]+/g, '');
    assert.equal(
      squash(readFileSync(RECORD_TYPES_FILE, 'utf8')),
      squash(recordTypesSource(specs)),
      'the doc changed: run `node --import tsx scripts/record-types.ts` (then `npm run format`)',
    );
  });

  it('every event has an example line, and each example conforms to its own schema', () => {
    for (const [name, spec] of specs) {
      assert.ok(spec.examples.length > 0, `${name} has no example`);
      for (const line of spec.examples) {
        const record = JSON.parse(line) as Record<string, unknown>;
        assert.equal(record.event, name, `an example under ${name} is of ${String(record.event)}`);
        assert.deepEqual(checkRecord(record, specs), [], line);
      }
    }
  });

  it('the check is not vacuous: an unknown field, a wrong type, a missing field, an unknown event fail', () => {
    const example = JSON.parse(specs.get('eviction')?.examples[0] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(checkRecord({ ...example, labels: { password: 'x' } }, specs), [
      'eviction: field labels is not documented',
    ]);
    assert.match(
      checkRecord({ ...example, by: 'someone' }, specs)[0] ?? '',
      /by should be one of layerwarden\|external/,
    );
    const { stacks: _, ...noStacks } = example;
    assert.deepEqual(checkRecord(noStacks, specs), ['eviction: required field stacks is missing']);
    assert.match(
      checkRecord({ ...example, prune: { at: 'x', reclaimed: 1, extra: 2 } }, specs)[0] ?? '',
      /prune\.extra/,
    );
    assert.deepEqual(checkRecord({ ...example, event: 'eviction.v2' }, specs), [
      'event "eviction.v2" is not documented',
    ]);
    const busy = JSON.parse(specs.get('host.busy')?.examples[0] ?? '{}') as Record<string, unknown>;
    assert.match(
      checkRecord({ ...busy, busy: [{ reason: 'run-stack-live', env: 'x' }] }, specs)[0] ?? '',
      /busy\[\]\.env/,
    );
  });
});
