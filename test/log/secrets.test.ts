import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { safeSample } from '../../src/model/safe-sample.js';
import { decodeEvent } from '../../src/streams/decode-event.js';
import { agentRecords } from '../log-schema/agent-records.js';
import { reducerRecords } from '../log-schema/reducer-records.js';
import { FIXTURE } from '../model/eviction-fixture.js';

/** Values planted in labels (container and image), env and a spoofed `name` label; none may be logged. */
const PLANTED = ['hunter2', 'spoofed-by', 'env-secret-value', 'API_TOKEN', '"password"', 'secret.token'];

describe('no record carries an engine secret or a label set', { timeout: 30_000 }, () => {
  it('the recorded events do carry the planted values (else this test proves nothing)', () => {
    const raw = FIXTURE.events.join('\n');
    for (const v of ['hunter2-secret', 'hunter2-image-label', '"password"', 'secret.token'])
      assert.ok(raw.includes(v), v);
  });

  it('records of the reducer over those events and of the agent contain none of them', async () => {
    const lines = [...reducerRecords(), ...(await agentRecords())].map((r) => JSON.stringify(r));
    assert.ok(lines.length > 50);
    assert.ok(
      lines.some((l) => l.includes('"stack":"ci-run"')),
      'the known label keys still come through',
    );
    for (const value of PLANTED) {
      const leaks = lines.filter((l) => l.includes(value));
      assert.deepEqual(leaks, [], `${value} reached the log`);
    }
  });

  it('a container started with a spoofed name label is named from its inspect, never from the label', async () => {
    const busy = reducerRecords().filter((r) => r.event === 'host.busy');
    const names = busy
      .flatMap((r) => (r.busy as Array<{ container?: string }>).map((b) => b.container))
      .filter(Boolean);
    assert.deepEqual([...new Set(names)], ['c1', 'run1']);
  });

  it('decoding keeps the known attribute keys only', () => {
    const d = decodeEvent(FIXTURE.events.find((l) => l.includes('"start"')) ?? '');
    assert.ok(d.ok);
    assert.deepEqual(Object.keys(d.event.attributes).sort(), ['com.docker.compose.project', 'image', 'name']);
  });

  it("a malformed line's sample stops before its attributes", () => {
    const line =
      '{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"password":"s3cret"}}';
    assert.equal(safeSample(line), '{"Type":"container","Action":"start","Actor":{"ID":"abc",…');
    assert.equal(safeSample('not json at all'), 'not json at all');
  });

  it('no code outside the decoders reads raw Attributes, Labels or Env', () => {
    const src = fileURLToPath(new URL('../../src', import.meta.url));
    const allowed = new Set([
      'docker/decode.ts',
      'docker/engine-port.ts',
      'streams/decode-event.ts',
      'model/safe-sample.ts',
    ]);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const file = path.join(dir, entry);
        const rel = path.relative(src, file);
        if (statSync(file).isDirectory()) walk(file);
        else if (file.endsWith('.ts') && !allowed.has(rel)) {
          const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
          if (/\.(Attributes|Labels|Env)\b|\[['"](Attributes|Labels|Env)['"]\]/.test(code))
            offenders.push(rel);
        }
      }
    };
    walk(src);
    assert.deepEqual(offenders, []);
  });
});
