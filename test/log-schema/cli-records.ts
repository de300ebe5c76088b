/**
 * Records the CLI (src/cli/watch.ts) really emits: a `watch` child with an unusable state file
 * (state.moved with its reason), agent.start (with its next boundary and the address `--listen 127.0.0.1:0`
 * bound), and agent.stop and agent.stopped when `--for` runs out; a stale lock taken over
 * (state.lock-taken-over), and an observer beside an unusable state file (state.ignored).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { recordsOf, spawnWatch } from '../cli/watch-child.js';

export async function cliRecords(): Promise<Array<Record<string, unknown>>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-schema-cli-'));
  try {
    const log = path.join(dir, 'log.ndjson');
    const stateFile = path.join(dir, 'state.json');
    await writeFile(stateFile, '{ not json');
    // A lock left by a process that has exited: taken over (state.lock-taken-over).
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = await new Promise<number>((r) => dead.once('exit', () => r(dead.pid as number)));
    const since = new Date(0).toISOString();
    await writeFile(
      `${stateFile}.lock`,
      JSON.stringify({ pid, host: os.hostname(), command: 'watch', since }),
    );
    const { exited } = spawnWatch(dir, [
      '--for',
      '1500ms',
      '--log-file',
      log,
      '--state-file',
      stateFile,
      '--listen',
      '127.0.0.1:0',
    ]);
    const { code, stderr } = await exited;
    if (code !== 0) throw new Error(`watch exited ${code}: ${stderr}`);
    // An observer on an unusable state file leaves it be (state.ignored).
    const observerLog = path.join(dir, 'observer.ndjson');
    await writeFile(stateFile, '{ not json');
    const observer = spawnWatch(dir, [
      '--no-prune',
      '--for',
      '500ms',
      '--log-file',
      observerLog,
      '--state-file',
      stateFile,
    ]);
    const ended = await observer.exited;
    if (ended.code !== 0) throw new Error(`watch --no-prune exited ${ended.code}: ${ended.stderr}`);
    return [...recordsOf(log), ...recordsOf(observerLog)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
