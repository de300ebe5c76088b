/**
 * The agent run in-process against a private engine, its log stream kept in memory: what an operator
 * would read from stdout, parsed, with waits on records instead of sleeps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { type RunningAgent, startAgent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import { emptyState } from '../../src/state/state-file.js';
import { waitFor } from './harness.js';

export type LogRecord = Record<string, unknown> & { event?: string };

export class AgentUnderTest {
  private constructor(
    readonly agent: RunningAgent,
    readonly records: LogRecord[],
    private readonly dir: string,
  ) {}

  /** Starts the agent on `dockerHost` with its state in a temp dir; `flags` as on the command line. */
  static async start(dockerHost: string, flags: Record<string, string> = {}): Promise<AgentUnderTest> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-agent-'));
    const { config } = resolveConfig({ dockerHost, stateFile: path.join(dir, 'state.json'), ...flags }, {});
    const records: LogRecord[] = [];
    let partial = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line) records.push(JSON.parse(line) as LogRecord);
        done();
      },
    });
    const logger = pino(
      {
        level: 'info',
        base: { name: 'layerwarden' },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      sink,
    );
    const agent = startAgent({
      config,
      port: createEnginePort(config.dockerHost),
      logger,
      state: emptyState(),
      policy: { runStack: config.runStack, quietPeriodMs: config.quietPeriodMs },
    });
    const self = new AgentUnderTest(agent, records, dir);
    await self.next((r) => r.event === 'model.resync', 0, 30_000);
    return self;
  }

  /** The first record at or after index `from` that matches, waiting for it. */
  next(match: (r: LogRecord) => boolean, from: number, timeoutMs = 20_000): Promise<LogRecord> {
    return waitFor(() => this.records.slice(from).find(match), timeoutMs, { intervalMs: 20 });
  }

  /** Every record from `from` on that matches. */
  since(from: number, match: (r: LogRecord) => boolean): LogRecord[] {
    return this.records.slice(from).filter(match);
  }

  get mark(): number {
    return this.records.length;
  }

  async stop(): Promise<void> {
    await this.agent.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
