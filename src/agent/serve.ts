import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/options.js';
import { LayerwardenError } from '../errors.js';
import { readDisk as statfsDisk } from '../host/disk.js';
import { type HttpServer, startHttpServer } from '../http/server.js';
import { type AgentMetrics, createAgentMetrics } from '../metrics/metrics.js';
import type { IdlePolicy } from '../model/idle.js';
import { statusDocument } from '../model/status-doc.js';
import { followLastPrune } from '../records/last-prune.js';
import type { DiskReading } from '../prune/gates.js';
import { nextBoundary, parseSchedule } from '../prune/schedule.js';
import type { RunningAgent } from './agent.js';
import { healthOf } from './health.js';

export interface ServeOptions {
  agent: RunningAgent;
  config: Config;
  logger: Logger;
  policy: IdlePolicy;
  prune: 'on' | 'off' | 'dry-run';
  /** The clock (default the agent's; tests may pin it). */
  now?: () => number;
  readDisk?: (path: string) => Promise<DiskReading>;
  /** Node process metrics (heap, event loop lag, fds) beside the agent's; on in production. */
  processMetrics?: boolean;
}

export interface Served {
  metrics: AgentMetrics;
  /** Bound only with `--listen`. */
  http?: HttpServer;
  /** The startup line, as logged in the `agent.start` record. */
  startLine: string;
  /** Stops counting and serving; call before `agent.stop()` (the shared ticks run while anyone listens). */
  close(): Promise<void>;
}

const url = (a: { host: string; port: number }) =>
  `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/**
 * Everything around the running agent that an operator looks at: metrics fed from its ticks, the
 * read-only HTTP endpoints when `--listen` is set, and the one startup line (what it watches, where it
 * logs, where its state lives, when the next prune boundary is, where it serves).
 */
export async function serveAgent(opts: ServeOptions): Promise<Served> {
  const { agent, config, logger, policy } = opts;
  const now = opts.now ?? agent.now;
  const readDisk = opts.readDisk ?? statfsDisk;
  const schedule =
    opts.prune === 'off'
      ? undefined
      : parseSchedule({ cron: config.schedule, tz: config.tz, windowMs: config.windowMs });
  const next = () => (schedule ? nextBoundary(schedule, now()) : undefined);
  const diskPath = () => config.diskPath ?? agent.model()?.engine?.dockerRootDir;
  const disk = async () => {
    const path = diskPath();
    return path === undefined ? undefined : readDisk(path);
  };
  const idle = agent.idle;

  const metrics = createAgentMetrics(
    {
      model: agent.model,
      idle,
      queueDepth: () => agent.loop.queueDepth(),
      disk,
      prune: () => ({
        ...(agent.pruneBook.get().lastRunAt !== undefined && { lastRunAt: agent.pruneBook.get().lastRunAt }),
        ...(schedule && { nextBoundary: next(), schedule: schedule.cron, tz: schedule.tz }),
      }),
      pullBudget: config.pullBudget,
      now,
    },
    { processMetrics: opts.processMetrics ?? false },
  );
  // Every record, whoever made it: the model's, the boundary runner's and the executor's alike.
  const counting: Subscription = agent.records.records$.subscribe((r) => metrics.count(r));
  counting.add(agent.ticks$.subscribe((tick) => metrics.observeTick(tick)));
  // The status's last run, from the same stream.
  const lastPrune = followLastPrune(agent.records.records$);
  counting.add(lastPrune.sub);

  let http: HttpServer | undefined;
  if (config.listen) {
    try {
      http = await startHttpServer(config.listen, {
        health: () => healthOf(agent.model()),
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
        status: async () => {
          const model = agent.model();
          const answer = agent.idle();
          if (!model || !answer) return undefined;
          const last = lastPrune.last();
          return {
            ...statusDocument(model, policy, answer, now(), await disk()),
            lastPruneRun: last ?? null,
          };
        },
      });
    } catch (err) {
      counting.unsubscribe();
      const code = (err as { code?: string }).code ?? (err as Error).message;
      throw new LayerwardenError(
        'config',
        `cannot listen on ${config.listen.host}:${config.listen.port} (${code})`,
        { cause: err },
      );
    }
  }

  const boundary = next();
  const log = config.logFile ?? 'stdout';
  const parts = [
    `layerwarden watching ${config.dockerHost}`,
    `log to ${log}`,
    `state in ${config.stateFile}${opts.prune === 'off' ? ' (read only)' : ''}`,
    boundary === undefined
      ? 'prune off'
      : `next prune boundary ${new Date(boundary).toISOString()} (in ${formatDuration(boundary - now())}; '${config.schedule}' ${config.tz}, window ${formatDuration(config.windowMs)}${opts.prune === 'dry-run' ? ', dry run' : ''})`,
    http ? `serving ${url(http.address)}/healthz, /metrics, /v1/status` : 'http off',
  ];
  const startLine = parts.join('; ');
  agent.records.emit(
    {
      event: 'agent.start',
      dockerHost: config.dockerHost,
      stateFile: config.stateFile,
      log,
      prune: opts.prune,
      ...(boundary !== undefined && { nextBoundary: new Date(boundary).toISOString() }),
      ...(http && { listen: url(http.address) }),
    },
    { msg: startLine },
  );

  return {
    metrics,
    ...(http && { http }),
    startLine,
    close: async () => {
      counting.unsubscribe();
      await http?.close();
    },
  };
}
