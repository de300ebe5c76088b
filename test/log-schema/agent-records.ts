/**
 * Records the agent (src/agent) really emits, from startAgent over a scripted DockerPort: idle/busy
 * transitions, a state file of another engine moved aside, and a state file that cannot be written.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Observable } from 'rxjs';
import { startAgent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { DockerPort } from '../../src/docker/port.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { ENGINE_INFO } from '../model/eviction-fixture.js';

/** A port for an engine with nothing on it whose events stream opens and stays quiet. */
export function quietPort(): DockerPort {
  const never = async () => {
    throw new Error('not scripted');
  };
  return {
    events: () =>
      new Observable((out) => {
        out.next({ kind: 'open' });
      }),
    ping: async () => {},
    info: async () => ENGINE_INFO,
    listImages: async () => [],
    inspectImage: async () => null,
    listContainers: async () => [],
    inspectContainer: async () => null,
    listServices: async () => [],
    listTasks: async () => [],
    removeImage: never,
    removeContainer: never,
    pruneBuildCache: never,
  };
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function agentRecords(): Promise<Array<Record<string, unknown>>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-schema-'));
  const { logger, records } = captureLogger();
  const has = (event: string) => () => records.some((r) => r.event === event);
  const { config } = resolveConfig({ quietPeriod: '1s' }, {});
  const policy = { runStack: config.runStack, quietPeriodMs: 0 };

  // A state file of another engine: moved aside (state.foreign, state.moved), then idle.
  const stateFile = path.join(dir, 'state.json');
  await writeFile(stateFile, JSON.stringify({ ...emptyState(), engineId: 'another-engine' }));
  const state = { ...emptyState(), engineId: 'another-engine' };
  const first = startAgent({ config: { ...config, stateFile }, port: quietPort(), logger, state, policy });
  await waitUntil(has('state.moved'), 'state.moved');
  await waitUntil(has('host.idle'), 'host.idle');
  await first.stop();

  // A state file under a regular file cannot be written: state.save-failed.
  const second = startAgent({
    config: { ...config, stateFile: path.join(dir, 'plain-file', 'state.json') },
    port: quietPort(),
    logger,
    state: emptyState(),
    policy,
  });
  await writeFile(path.join(dir, 'plain-file'), 'not a directory');
  await waitUntil(() => second.model()?.engine !== undefined, 'the first list');
  await second.stop();
  return records;
}
