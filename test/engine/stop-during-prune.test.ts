/**
 * Issue 6: SIGTERM while the agent's prune is removing images ends cleanly — the removal under way
 * finishes, no further one starts, the process exits 0 within 10 s, every image that left the engine is
 * in the log, and the state file is intact with the boundary recorded (so a restart does not repeat it).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadState } from '../../src/state/state-file.js';
import { type Engine, startEngine, waitFor } from './harness.js';
import { H, writeAgedState } from './prune-kit.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CANDIDATES = 100;

describe('SIGTERM during a prune', () => {
  let engine: Engine;
  before(async () => {
    engine = await startEngine();
  });
  after(async () => {
    await engine?.stop();
  });

  it('lets the removal under way finish, starts no other, exits 0 within 10 s with the state intact', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'lw-stop-prune-'));
    await engine.baseImage();
    // Many cheap untagged images: commits of one never-started container, each with its own label.
    const holder = await engine.dockerOk(['create', 'lw-base:latest']);
    const ids: string[] = [];
    for (let i = 0; i < CANDIDATES; i++) {
      ids.push(await engine.dockerOk(['commit', '--change', `LABEL n=${i}`, holder]));
    }
    const stateFile = path.join(work, 'state.json');
    await writeAgedState(engine, stateFile, Object.fromEntries(ids.map((id) => [id, 48 * H])));
    const logFile = path.join(work, 'log.ndjson');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src/cli/bin.ts'),
        'watch',
        '--state-file',
        stateFile,
        '--log-file',
        logFile,
        '--schedule',
        '*/2 * * * * *',
        '--tz',
        'UTC',
        '--window',
        '1s',
        '--disk-high',
        '1',
        '--quiet-period',
        '1s',
      ],
      { env: engine.childEnv() as NodeJS.ProcessEnv, cwd: ROOT, stdio: 'ignore' },
    );
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: performance.now() })),
    );
    const records = async () =>
      (await readFile(logFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    try {
      await waitFor(async () => (await records()).some((r) => r.event === 'prune.removed'), 60_000, {
        intervalMs: 10,
        message: 'the first removal',
      });
      const signalledAt = performance.now();
      child.kill('SIGTERM');
      const { code, at } = await exited;
      assert.equal(code, 0);
      assert.ok(at - signalledAt < 10_000, `stopped in ${Math.round(at - signalledAt)} ms`);

      const log = await records();
      const events = log.map((r) => r.event);
      const removed = log.filter((r) => r.event === 'prune.removed').map((r) => r.id as string);
      assert.ok(removed.length < CANDIDATES, `the prune was cut short (${removed.length} of ${CANDIDATES})`);
      const done = log.find((r) => r.event === 'prune.done');
      assert.ok(done, 'the run closed with prune.done');
      assert.equal(done.aborted, 'agent stopping');
      assert.ok(events.indexOf('agent.stop') < events.indexOf('prune.done'), 'stopped by the signal');
      assert.equal(events.at(-1), 'agent.stopped');

      // Every image the engine no longer has is one the log says was removed: nothing lost mid-way.
      const left = new Set(
        (await engine.dockerOk(['images', '-aq', '--no-trunc'])).split('\n').filter(Boolean),
      );
      const gone = ids.filter((id) => !left.has(id));
      assert.deepEqual([...gone].sort(), [...removed].sort());

      const { state, warning } = await loadState(stateFile, Date.now(), { readOnly: true });
      assert.equal(warning, undefined, 'the state file parses');
      assert.ok(state.prune.lastEvaluatedBoundary, 'the boundary is recorded: a restart does not repeat it');
      for (const id of ids.filter((x) => left.has(x))) assert.ok(state.images[id], `clocks kept for ${id}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
