/**
 * `watch --listen`, the real CLI in a child process as production runs it, prunes at its own schedule
 * boundary; a scrape of `/metrics` afterwards shows the run completed, the items removed and the bytes
 * reclaimed, equal to what its own log says. (The bug of issue 12: the boundary runner's and the
 * executor's records reached the log but not the counters.)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { type Engine, startEngine, waitFor } from './harness.js';
import { digestOnly, exists, H, writeAgedState } from './prune-kit.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
type Rec = Record<string, unknown> & { event?: string };

describe(
  'watch --listen: the prune at its own boundary moves the counters and the status',
  { timeout: 300_000 },
  () => {
    let engine: Engine;
    let dir: string;
    let child: ChildProcess | undefined;

    before(async () => {
      engine = await startEngine();
      dir = await mkdtemp(path.join(os.tmpdir(), 'lw-watch-metrics-'));
      await engine.baseImage();
    });

    after(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child?.once('exit', r));
      }
      await engine?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('prune_runs_total{completed}, prune_removed_total{image} and reclaimed bytes follow prune.done', async () => {
      const a = await digestOnly(engine, 'wm-a');
      const b = await digestOnly(engine, 'wm-b');
      const state = path.join(dir, 'state.json');
      await writeAgedState(engine, state, { [a.id]: 25 * H, [b.id]: 25 * H });

      const records: Rec[] = [];
      let stderr = '';
      // A boundary every minute, a window shorter than that, a disk gate any usage passes.
      child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(ROOT, 'src/cli/bin.ts'),
          'watch',
          '--listen',
          '127.0.0.1:0',
          '--schedule',
          '* * * * *',
          '--tz',
          'UTC',
          '--window',
          '50s',
          '--disk-high',
          '1',
          '--quiet-period',
          '1s',
          '--state-file',
          state,
        ],
        { cwd: ROOT, env: engine.childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let partial = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.startsWith('{')) records.push(JSON.parse(l) as Rec);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

      const start = await waitFor(() => records.find((r) => r.event === 'agent.start'), 60_000, {
        message: `agent.start (stderr: ${stderr})`,
      });
      const url = `${String(start.listen)}/metrics`;
      const scrape = async () => parsePrometheusText(await (await fetch(url)).text());
      // This minute's boundary (its window may be open already): the first idle moment in it evaluates,
      // fires and removes both; the counters start at 0 and count only this process's records.
      const done = await waitFor(() => records.find((r) => r.event === 'prune.done'), 150_000, {
        message: `prune.done (records: ${records.map((r) => r.event).join(', ')})`,
      });
      const decision = records.find((r) => r.event === 'prune.decision');
      assert.equal(decision?.trigger, 'schedule');
      assert.equal(decision?.fire, true);
      const removed = records.filter((r) => r.event === 'prune.removed' && r.kind === 'image');
      assert.deepEqual(new Set(removed.map((r) => r.id)), new Set([a.id, b.id]));
      assert.equal(done.trigger, 'schedule');
      assert.equal(await exists(engine, 'image', a.id), false);

      const after = await scrape();
      assert.equal(sampleValue(after, 'layerwarden_prune_runs_total', { outcome: 'completed' }), 1);
      assert.equal(sampleValue(after, 'layerwarden_prune_runs_total', { outcome: 'gated' }), 0);
      assert.equal(sampleValue(after, 'layerwarden_prune_removed_total', { kind: 'image' }), 2);
      const reclaimed = Number(done.reclaimedBytes);
      assert.ok(reclaimed >= 2 * 4096, `reclaimed ${reclaimed}`);
      assert.equal(sampleValue(after, 'layerwarden_prune_reclaimed_bytes_total'), reclaimed);
      // Its own removals are evictions by layerwarden, counted from the reducer's records as before.
      assert.equal(
        sampleValue(after, 'layerwarden_evictions_total', { by: 'layerwarden', during_run: 'false' }),
        2,
      );
      const lastRun = sampleValue(after, 'layerwarden_prune_last_run_timestamp_seconds') ?? 0;
      assert.ok(lastRun * 1000 >= Date.parse(String(start.time)), 'the last run is this one');

      // /v1/status reads the same stream: the run it last saw end.
      const status = (await (await fetch(`${String(start.listen)}/v1/status`)).json()) as Rec;
      assert.deepEqual(status.lastPruneRun, {
        at: (status.lastPruneRun as Rec).at,
        trigger: 'schedule',
        outcome: 'done',
        dryRun: false,
        removed: 2,
        reclaimedBytes: reclaimed,
      });

      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    });
  },
);
