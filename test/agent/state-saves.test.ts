import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { SchedulerLike } from 'rxjs';
import { startAgent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { quietPort } from '../log-schema/agent-records.js';
import { ManualScheduler, settle } from './manual-scheduler.js';

describe('state file saves', () => {
  it('saves asked for while one is being written make one more write, of the newest clocks', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-saves-'));
    try {
      const stateFile = path.join(dir, 'state.json');
      const clock = new ManualScheduler(Date.parse('2026-01-05T10:00:00Z'));
      const { config } = resolveConfig({}, {});
      const agent = startAgent({
        config: { ...config, stateFile },
        port: quietPort(),
        logger: captureLogger().logger,
        state: emptyState(),
        policy: { runStack: config.runStack, quietPeriodMs: 0 },
        scheduler: clock as unknown as SchedulerLike,
      });
      for (let i = 0; i < 50 && agent.model()?.engine === undefined; i++) await settle();
      assert.ok(agent.model()?.engine, 'the first list is in');
      // A disk slower than the saves (a stalled fsync, or saves every minute for hours of it): each
      // save must not queue its own snapshot of every image behind the one in flight.
      const saves = new Set<Promise<void>>();
      for (let i = 0; i < 20; i++) {
        clock.t += 60_000;
        saves.add(agent.saveNow());
      }
      assert.ok(saves.size <= 2, `${saves.size} writes queued`);
      await Promise.all(saves);
      const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { savedAt: string };
      assert.equal(saved.savedAt, new Date(clock.t).toISOString(), 'the last write holds the newest clocks');
      await agent.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
