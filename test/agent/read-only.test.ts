import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startAgent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { quietPort } from '../log-schema/agent-records.js';

/** startAgent on an engine with nothing on it; `readOnly` as an observer beside the agent runs it. */
async function runOnce(stateFile: string, readOnly: boolean): Promise<string[]> {
  const { logger, records } = captureLogger();
  const { config } = resolveConfig({}, {});
  const state = { ...emptyState(), engineId: 'another-engine' };
  const agent = startAgent({
    config: { ...config, stateFile },
    port: quietPort(),
    logger,
    state,
    policy: { runStack: config.runStack, quietPeriodMs: 0 },
    readOnly,
  });
  for (let i = 0; i < 200 && agent.model()?.engine === undefined; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.ok(agent.model()?.engine, 'the first list is in');
  // The owner's move aside runs beside the loop: let it finish before the save on stop.
  for (let i = 0; i < 200 && !readOnly && !records.some((r) => r.event === 'state.moved'); i++)
    await new Promise((r) => setTimeout(r, 10));
  await agent.stop();
  return records.map((r) => String(r.event));
}

describe('an agent that only reads the state file', () => {
  it('neither moves a foreign state file aside nor writes its own; the owner does both', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-readonly-'));
    try {
      const stateFile = path.join(dir, 'state.json');
      const foreign = JSON.stringify({ ...emptyState(), engineId: 'another-engine' });
      await writeFile(stateFile, foreign);

      const observed = await runOnce(stateFile, true);
      assert.ok(observed.includes('state.foreign'), 'it still notices the file is foreign');
      assert.deepEqual(await readdir(dir), ['state.json']);
      assert.equal(await readFile(stateFile, 'utf8'), foreign);

      const owned = await runOnce(stateFile, false);
      assert.ok(owned.includes('state.moved'));
      const files = await readdir(dir);
      assert.equal(files.length, 2, files.join());
      assert.notEqual(await readFile(stateFile, 'utf8'), foreign, 'the owner wrote its own on stop');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
