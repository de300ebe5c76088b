import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordsOf, spawnWatch, waitFor } from './watch-child.js';

/** One pruning agent per state file; observers read it beside the agent and never write it. */
describe('the state file has one owner', { timeout: 90_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-owner-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second pruning agent and prune --now with one line and exit 1; observers run beside it', async () => {
    const stateFile = path.join(dir, 'state.json');
    const saved = '{"version":1,"savedAt":"2026-11-23T08:00:00.000Z","images":{},"prune":{}}\n';
    await writeFile(stateFile, saved);
    const log = path.join(dir, 'agent.log');
    const agent = spawnWatch(dir, ['--log-file', log, '--state-file', stateFile]);
    try {
      await waitFor(() => recordsOf(log).some((r) => r.event === 'agent.start'), 20_000, 'the agent started');
      const lock = JSON.parse(await readFile(`${stateFile}.lock`, 'utf8')) as {
        pid: number;
        command: string;
      };
      assert.deepEqual([lock.pid, lock.command], [agent.child.pid, 'watch']);

      const cli = (args: string[]) =>
        spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            'src/cli/bin.ts',
            ...args,
            '--state-file',
            stateFile,
            '--docker-host',
            `unix://${dir}/none.sock`,
          ],
          { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DOCKER_HOST: '' } },
        );
      for (const args of [
        ['watch', '--for', '1s'],
        ['watch', '--dry-run', '--for', '1s'],
        ['prune', '--now'],
      ]) {
        const r = cli(args);
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`in use by layerwarden watch \\(pid ${agent.child.pid} `));
        assert.doesNotMatch(r.stderr, /at .*\.(ts|js):\d+/, 'no stack trace');
      }

      // A dry run beside it only reads: it goes past the lock to the engine (none here: exit 3).
      const dry = cli(['prune', '--now', '--dry-run']);
      assert.equal(dry.status, 3, dry.stderr);
      assert.doesNotMatch(dry.stderr, /in use by/);
      assert.equal(
        (JSON.parse(await readFile(`${stateFile}.lock`, 'utf8')) as { pid: number }).pid,
        agent.child.pid,
      );

      // An observer runs beside it, says so on its start line, and leaves the state file as it was.
      const observerLog = path.join(dir, 'observer.log');
      const observer = spawnWatch(dir, [
        '--no-prune',
        '--for',
        '1500ms',
        '--log-file',
        observerLog,
        '--state-file',
        stateFile,
      ]);
      const ended = await observer.exited;
      assert.equal(ended.code, 0, ended.stderr);
      const start = recordsOf(observerLog).find((r) => r.event === 'agent.start');
      assert.match(String(start?.msg), /state in .*state\.json \(read only\)/);
    } finally {
      agent.child.kill('SIGTERM');
    }
    const { code } = await agent.exited;
    assert.equal(code, 0);
    assert.equal(existsSync(`${stateFile}.lock`), false, 'the agent gave the lock back on its way out');
  });

  it('an observer leaves an unusable state file where it is (the owner moves it aside)', async () => {
    const stateFile = path.join(dir, 'bad.json');
    await writeFile(stateFile, '{ not json');
    const log = path.join(dir, 'observer-bad.log');
    const observer = spawnWatch(dir, [
      '--no-prune',
      '--for',
      '1s',
      '--log-file',
      log,
      '--state-file',
      stateFile,
    ]);
    const ended = await observer.exited;
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(await readFile(stateFile, 'utf8'), '{ not json');
    assert.equal(existsSync(`${stateFile}.lock`), false, 'an observer takes no lock');
    const ignored = recordsOf(log).find((r) => r.event === 'state.ignored');
    assert.match(String(ignored?.reason), /unusable \(not valid JSON\); ignored/);
  });
});
