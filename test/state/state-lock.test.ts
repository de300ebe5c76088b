import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LockHolder, lockState, processStart } from '../../src/state/state-lock.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');

/** A process that stays alive until killed: another holder of the lock. */
function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

const holder = (pid: number, extra: Partial<LockHolder> = {}): LockHolder => ({
  pid,
  host: os.hostname(),
  command: 'watch',
  since: new Date(T0).toISOString(),
  ...extra,
});

describe('state lock', () => {
  let dir: string;
  let other: ChildProcess;
  before(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'lw-lock-'));
    other = await sleeper();
  });
  after(async () => {
    other.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('is taken once: a second taker in the same directory is refused until the first releases it', async () => {
    const state = join(dir, 'a', 'state.json');
    const first = await lockState(state, 'watch', T0);
    assert.equal(first.kind, 'acquired');
    const written = JSON.parse(await readFile(`${state}.lock`, 'utf8')) as LockHolder;
    assert.equal(written.pid, process.pid);
    assert.equal(written.command, 'watch');
    // This process pretends to be a live other holder by writing the sleeper's pid and start.
    if (first.kind === 'acquired') await first.release();
    const pid = other.pid as number;
    await writeFile(`${state}.lock`, JSON.stringify(holder(pid, { start: processStart(pid) })));
    const second = await lockState(state, 'prune --now', T0);
    assert.equal(second.kind, 'held');
    assert.equal(second.kind === 'held' && second.holder.pid, pid);
  });

  it('takes over a lock whose process is gone, whose pid was reused, or that cannot be read', async () => {
    const state = join(dir, 'b', 'state.json');
    await mkdir(join(dir, 'b'));
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const deadPid = await new Promise<number>((r) => dead.once('exit', () => r(dead.pid as number)));
    const pid = other.pid as number;
    const cases: Array<[string, string, LockHolder | 'unreadable']> = [
      ['dead pid', JSON.stringify(holder(deadPid)), holder(deadPid)],
      // A live pid that started at another tick is another process that got the same number.
      ['reused pid', JSON.stringify(holder(pid, { start: 1 })), holder(pid, { start: 1 })],
      ['our own pid (a restarted container)', JSON.stringify(holder(process.pid)), holder(process.pid)],
      [
        'another host name (a recreated container)',
        JSON.stringify(holder(pid, { host: 'gone' })),
        holder(pid, { host: 'gone' }),
      ],
      ['garbage', '{ not json', 'unreadable'],
    ];
    for (const [name, text, from] of cases) {
      await rm(`${state}.lock`, { force: true });
      await writeFile(`${state}.lock`, text);
      const lock = await lockState(state, 'watch', T0);
      assert.equal(lock.kind, 'acquired', name);
      if (lock.kind !== 'acquired') continue;
      assert.deepEqual(lock.tookOverFrom, from, name);
      assert.equal(
        (JSON.parse(await readFile(`${state}.lock`, 'utf8')) as LockHolder).pid,
        process.pid,
        name,
      );
      await lock.release();
    }
  });

  it("release removes only its own lock, never a later holder's", async () => {
    const state = join(dir, 'c', 'state.json');
    const lock = await lockState(state, 'watch', T0);
    assert.equal(lock.kind, 'acquired');
    const pid = other.pid as number;
    await writeFile(`${state}.lock`, JSON.stringify(holder(pid, { start: processStart(pid) })));
    if (lock.kind === 'acquired') await lock.release();
    assert.equal((JSON.parse(await readFile(`${state}.lock`, 'utf8')) as LockHolder).pid, pid);
  });
});
