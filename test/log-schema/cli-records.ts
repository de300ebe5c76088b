/**
 * Records the CLI (src/cli/watch.ts) really emits: a `watch` child with an unusable state file
 * (state.moved with its reason), agent.start (with its next boundary and the address `--listen 127.0.0.1:0`
 * bound), and agent.stop and agent.stopped when `--for` runs out.
 */
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
    return recordsOf(log);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
