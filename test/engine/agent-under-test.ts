/**
 * The resident agent run in-process against a private engine (or a proxy in front of it): its model,
 * its ticks and its log records (pino into an array) are all readable by the test.
 */
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { type RunningAgent, startAgent } from '../../src/agent/agent.js';
import { idlePolicy } from '../../src/cli/shared.js';
import type { Config } from '../../src/config/options.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import type { EngineEvent } from '../../src/docker/types.js';
import type { IdlePolicy } from '../../src/model/idle.js';
import { type AgentState, emptyState } from '../../src/state/state-file.js';
import type { ModelLoopOptions } from '../../src/streams/model-loop.js';
import { type Engine, waitFor } from './harness.js';

export type LogRecord = Record<string, unknown> & { event?: string; level: string; time: string };

export interface TestAgent {
  agent: RunningAgent;
  /** The agent's logger (records land in `records`), its configuration and idle policy. */
  logger: Logger;
  config: Config;
  policy: IdlePolicy;
  records: LogRecord[];
  /** Every engine event the model applied, with the wall-clock time it was applied. */
  events: Array<{ at: number; event: EngineEvent }>;
  recordsOf(event: string): LogRecord[];
  waitForRecord(pred: (r: LogRecord) => boolean, timeoutMs?: number, message?: string): Promise<LogRecord>;
  /** Makes and removes a uniquely named network; resolves once the agent has applied its removal. */
  sentinel(engine: Engine, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TestAgentOptions {
  dockerHost: string;
  stateFile: string;
  state?: AgentState;
  /** Shared options as on the command line, e.g. `{ resync: '1h', quietPeriod: '2s' }`. */
  flags?: Record<string, string>;
  stream?: ModelLoopOptions['stream'];
}

export function startTestAgent(opts: TestAgentOptions): TestAgent {
  const records: LogRecord[] = [];
  const logger = pino(
    {
      level: 'debug',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => records.push(JSON.parse(line) as LogRecord) },
  );
  const { config } = resolveConfig(
    {
      dockerHost: opts.dockerHost,
      stateFile: opts.stateFile,
      resync: '1h',
      quietPeriod: '2s',
      ...opts.flags,
    },
    {},
  );
  const policy = idlePolicy(config);
  const agent = startAgent({
    config,
    port: createEnginePort(opts.dockerHost),
    logger,
    state: opts.state ?? emptyState(),
    policy,
    ...(opts.stream && { stream: opts.stream }),
  });
  const events: TestAgent['events'] = [];
  const sub = agent.ticks$.subscribe((t) => {
    if (t.input.kind === 'event') events.push({ at: Date.now(), event: t.input.event });
  });
  const recordsOf = (event: string) => records.filter((r) => r.event === event);
  const waitForRecord = (pred: (r: LogRecord) => boolean, timeoutMs = 30_000, message = 'log record') =>
    waitFor(() => records.find(pred), timeoutMs, { intervalMs: 50, message });
  return {
    agent,
    logger,
    config,
    policy,
    records,
    events,
    recordsOf,
    waitForRecord,
    sentinel: async (engine, timeoutMs = 30_000) => {
      const name = await engine.sentinel();
      await waitFor(
        () =>
          events.some(
            (e) =>
              e.event.type === 'network' && e.event.action === 'destroy' && e.event.attributes.name === name,
          ),
        timeoutMs,
        { intervalMs: 50, message: `agent saw sentinel ${name}` },
      );
    },
    stop: async () => {
      sub.unsubscribe();
      await agent.stop();
    },
  };
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
