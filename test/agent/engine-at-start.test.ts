import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineAtStart } from '../../src/agent/serve.js';
import type { EngineInfo } from '../../src/docker/types.js';

const info: EngineInfo = {
  id: 'E',
  name: 'h',
  serverVersion: '29.1.0',
  apiVersion: '1.41',
  dockerRootDir: '/var/lib/docker',
  swarm: 'inactive',
  isManager: false,
  imageStore: 'containerd',
};

describe('engineAtStart: the store for the startup line, never in the way', () => {
  it("the engine's answer when it answers", async () => {
    assert.equal((await engineAtStart({ info: async () => info }))?.imageStore, 'containerd');
  });

  it('undefined at once when the engine is not there', async () => {
    const refused = Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
    // An hour's wait: the answer comes from the refusal, and the timer is cleared (or this file never ends).
    assert.equal(await engineAtStart({ info: () => Promise.reject(refused) }, 3_600_000), undefined);
  });

  it('undefined after the wait when the engine accepts and never answers', async () => {
    assert.equal(await engineAtStart({ info: () => new Promise<EngineInfo>(() => {}) }, 50), undefined);
  });
});
