/**
 * Every record names the node that wrote it (`node: {name, id}`), the first list's too, when the engine
 * did not answer before the start: the agent binds the node from the list's engine info before it logs
 * that list's records, so a cluster's merged stream never counts them against no node.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startAgent } from '../../src/agent/agent.js';
import { serveAgent } from '../../src/agent/serve.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { FakePort, image } from '../streams/fake-port.js';

describe('the node on every record', { timeout: 30_000 }, () => {
  it('names the first list’s records when the engine answered only after the start', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-node-'));
    const { logger, records } = captureLogger();
    const { config } = resolveConfig({ stateFile: path.join(dir, 'state.json') }, {});
    const port = new FakePort(() => Date.now());
    port.onConnect = (c) => setImmediate(() => c.sub.next({ kind: 'open' }));
    port.images.set(image(1).id, image(1));
    const policy = { runStack: config.runStack, quietPeriodMs: config.quietPeriodMs };
    const agent = startAgent({ config, port, logger, state: emptyState(), policy });
    // No `engine`: as `watch` starts when the engine did not answer its first contact in time.
    const served = await serveAgent({ agent, config, logger, policy, prune: 'off' });
    try {
      for (let i = 0; i < 300 && !records.some((r) => r.event === 'model.resync'); i++)
        await new Promise((r) => setTimeout(r, 10));
      const resync = records.find((r) => r.event === 'model.resync');
      assert.ok(resync, `no model.resync among ${records.map((r) => r.event)}`);
      assert.deepEqual(resync.node, { name: 'fake', id: 'FAKE:ENGINE' });
    } finally {
      await served.close();
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
