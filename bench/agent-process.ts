/**
 * The real agent (`layerwarden watch`) as its own process against the private engine, as it would run
 * on a host: for benchmark 5 (`--no-prune`), which measures what it costs the daemon, and for the
 * agent at rest (as the systemd unit runs it: the shipped Node settings, prune on, metrics served).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../test/engine/harness.js';
import { compiled } from './compiled.js';
import { SHIPPED_ENV, SHIPPED_NODE_OPTIONS } from './node-options.js';
import { sleep } from './stats.js';

export interface AgentProcess {
  pid: number;
  /** Where `--listen` serves, when asked for. */
  listen?: string;
  stop(): Promise<void>;
}

export interface AgentProcessOptions {
  /** As deploy/layerwarden.service runs it: the shipped Node settings, prune on, `--listen` on a free port. */
  asShipped?: boolean;
  /** More `watch` flags. */
  args?: string[];
}

/** Starts the agent and resolves once its model is in sync (its first `model.resync` record). */
export async function startAgentProcess(
  engine: Engine,
  opts: AgentProcessOptions = {},
): Promise<AgentProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-bench-agent-'));
  const log = path.join(dir, 'agent.log');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(opts.asShipped ? SHIPPED_NODE_OPTIONS : []),
      await compiled('src/cli/bin.ts'),
      'watch',
      ...(opts.asShipped ? ['--listen', '127.0.0.1:0'] : ['--no-prune']),
      '--docker-host',
      engine.dockerHost,
      '--state-file',
      path.join(dir, 'state.json'),
      '--log-file',
      log,
      ...(opts.args ?? []),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LAYERWARDEN_LOG_LEVEL: 'info', ...(opts.asShipped ? SHIPPED_ENV : {}) },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  let listen: string | undefined;
  for (;;) {
    const text = await readFile(log, 'utf8').catch(() => '');
    listen ??= /"event":"agent\.start".*?"listen":"([^"]+)"/.exec(text)?.[1];
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
    ...(listen && { listen }),
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
