/**
 * The real agent (`layerwarden watch --no-prune`) as its own process against the private engine, as it
 * would run on a host: for benchmark 5, which measures what it costs the daemon.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../test/engine/harness.js';
import { compiled } from './compiled.js';
import { sleep } from './stats.js';

export interface AgentProcess {
  pid: number;
  stop(): Promise<void>;
}

/** Starts the agent and resolves once its model is in sync (its first `model.resync` record). */
export async function startAgentProcess(engine: Engine): Promise<AgentProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-bench-agent-'));
  const log = path.join(dir, 'agent.log');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      await compiled('src/cli/bin.ts'),
      'watch',
      '--no-prune',
      '--docker-host',
      engine.dockerHost,
      '--state-file',
      path.join(dir, 'state.json'),
      '--log-file',
      log,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LAYERWARDEN_LOG_LEVEL: 'info' } },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await readFile(log, 'utf8').catch(() => '');
    if (text.includes('"event":"model.resync"')) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`agent did not get in sync: ${stderr.slice(0, 300) || text.slice(-300)}`);
    }
    await sleep(50);
  }
  const pid = child.pid as number;
  return {
    pid,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
