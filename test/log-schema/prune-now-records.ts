/**
 * Records `prune --now` (src/agent/prune-now.ts) really emits, over a scripted port holding one image
 * untouched for two days: a decision held back because the recent activity cannot be replayed (the
 * engine does not say its time), then, with no quiet period, one that fires and removes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pruneNow } from '../../src/agent/prune-now.js';
import { resolveConfig } from '../../src/config/resolve.js';
import type { DockerPort } from '../../src/docker/port.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { ENGINE_INFO } from '../model/eviction-fixture.js';
import { H, image } from '../prune/world.js';
import { quietPort } from './agent-records.js';

export async function pruneNowRecords(): Promise<Array<Record<string, unknown>>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-schema-prune-'));
  try {
    const { logger, records } = captureLogger();
    const old = image('old');
    const port: DockerPort = {
      ...quietPort(),
      listImages: async () => [old],
      inspectImage: async (id) => (id === old.id ? old : null),
      removeImage: async () => ({ kind: 'removed' }),
      pruneBuildCache: async () => ({ reclaimed: 0 }),
    };
    const { config } = resolveConfig({ quietPeriod: '1s', stateFile: path.join(dir, 'state.json') }, {});
    const twoDaysAgo = Date.now() - 48 * H;
    const state = () => ({
      ...emptyState(),
      engineId: ENGINE_INFO.id,
      images: { [old.id]: { firstSeen: twoDaysAgo, lastUsed: twoDaysAgo, untaggedSince: twoDaysAgo } },
    });
    const settings = { minAgeMs: 24 * H, diskHighPercent: 0, diskPath: dir };
    const policy = { runStack: config.runStack, quietPeriodMs: config.quietPeriodMs };
    const common = { settings, port, logger, policy, dryRun: false, syncTimeoutMs: 5_000 };
    await pruneNow({ ...common, config, state: state() });
    await pruneNow({ ...common, config: { ...config, quietPeriodMs: 0 }, state: state() });
    return records;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
