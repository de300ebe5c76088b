import assert from 'node:assert/strict';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordsOf, spawnWatch, waitFor } from './watch-child.js';

describe('watch --log-file and SIGHUP (logrotate)', { timeout: 60_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-sighup-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reopens the file at its path: records after the rename land in a new file', async () => {
    const log = path.join(dir, 'layerwarden.log');
    const rotated = `${log}.1`;
    const { child, exited } = spawnWatch(dir, [
      '--log-file',
      log,
      '--state-file',
      path.join(dir, 'state.json'),
    ]);
    try {
      await waitFor(() => recordsOf(log).some((r) => r.event === 'stream.down'), 20_000, 'the first records');
      await rename(log, rotated);
      // logrotate's postrotate: the old inode keeps receiving until the agent reopens.
      child.kill('SIGHUP');
      await waitFor(
        () => recordsOf(log).length > 0,
        20_000,
        'a record in the new file (the next stream.down)',
      );
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      assert.equal(signal, null);
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const old = recordsOf(rotated);
    const fresh = recordsOf(log);
    assert.equal(old[0]?.event, 'agent.start');
    assert.ok(
      !old.some((r) => r.event === 'agent.stop'),
      'nothing after the reopen went to the rotated file',
    );
    assert.ok(
      fresh.some((r) => r.event === 'agent.stop' && r.reason === 'SIGTERM'),
      'the stop is in the new file',
    );
    // No record lost or doubled across the rotation: the attempts count on without a gap.
    const attempts = [...old, ...fresh].filter((r) => r.event === 'stream.down').map((r) => r.attempt);
    assert.deepEqual(
      attempts,
      attempts.map((_, i) => i + 1),
    );
  });
});
