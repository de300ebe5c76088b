import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/options.js';
import type { DockerPort } from '../docker/port.js';
import type { EngineInfo } from '../docker/types.js';
import { LayerwardenError } from '../errors.js';
import { readImageDisks, readDisk as statfsDisk } from '../host/disk.js';
import { type HttpServer, startHttpServer } from '../http/server.js';
import { bindNode } from '../log/logger.js';
import { type AgentMetrics, createAgentMetrics } from '../metrics/metrics.js';
import type { IdlePolicy } from '../model/idle.js';
import { statusDocument } from '../model/status-doc.js';
import { decidingReading } from '../prune/filesystems.js';
import { CONTAINERD_STORE_OPT_IN, type DiskReading, storeGate } from '../prune/gates.js';
import { followLastPrune } from '../records/last-prune.js';
import { nextBoundary, type Schedule } from '../prune/schedule.js';
import type { RunningAgent } from './agent.js';
import { healthOf } from './health.js';

export interface ServeOptions {
  agent: RunningAgent;
  config: Config;
  logger: Logger;
  policy: IdlePolicy;
  prune: 'on' | 'off' | 'dry-run';
  /** The boundary runner's schedule, for the next boundary in the startup line and the metrics. */
  schedule?: Schedule;
  /** The clock (default the agent's; tests may pin it). */
  now?: () => number;
  readDisk?: (path: string) => Promise<DiskReading>;
  /** Node process metrics (heap, event loop lag, fds) beside the agent's; on in production. */
  processMetrics?: boolean;
  /** What `/info` said just before the start (`engineAtStart`), for the startup line; undefined if it did not answer. */
  engine?: EngineInfo;
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
  const schedule = opts.prune === 'off' ? undefined : opts.schedule;
  const next = () => (schedule ? nextBoundary(schedule, now()) : undefined);
  const disks = () => readImageDisks(agent.model()?.engine, config, readDisk);
  const removal = () => storeGate(agent.model()?.engine?.imageStore, config.allowContainerdStoreRemoval);
  const idle = agent.idle;

  const metrics = createAgentMetrics(
    {
      model: agent.model,
      idle,
      queueDepth: () => agent.loop.queueDepth(),
      disks,
      prune: () => ({
        ...(agent.pruneBook.get().lastRunAt !== undefined && { lastRunAt: agent.pruneBook.get().lastRunAt }),
        ...(schedule && { nextBoundary: next(), schedule: schedule.cron, tz: schedule.tz }),
      }),
      pullBudget: config.pullBudget,
      now,
    },
    { processMetrics: opts.processMetrics ?? false },
  );
  // The engine that answered at start names every record from here on; else the agent binds the first
  // list's engine before it logs that list's records.
  bindNode(logger, opts.engine);
  // Every record, whoever made it: the model's, the boundary runner's and the executor's alike.
  const counting: Subscription = agent.records.records$.subscribe((r) => metrics.count(r));
  counting.add(
    agent.ticks$.subscribe((tick) => {
      metrics.observeTick(tick);
    }),
  );
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
          const readings = await disks();
          return {
            ...statusDocument(model, policy, answer, now(), {
              disk: decidingReading(readings),
              disks: readings,
              removal: removal(),
            }),
            lastPruneRun: lastPrune.last() ?? null,
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

  const engine = opts.engine ?? agent.model()?.engine;
  const store = storeGate(engine?.imageStore, config.allowContainerdStoreRemoval);
  const boundary = next();
  const log = config.logFile ?? 'stdout';
  const e = engine;
  const range = e?.apiRange && `${e.apiRange.min ?? '?'}–${e.apiRange.max}`;
  const parts = [
    `layerwarden watching ${config.dockerHost}${e ? ` (docker ${e.serverVersion}, API ${e.apiVersion}${range ? ` of ${range}` : ''})` : ''}`,
    `log to ${log}`,
    `state in ${config.stateFile}${opts.prune === 'off' ? ' (read only)' : ''}`,
    boundary === undefined
      ? 'prune off'
      : `next prune boundary ${new Date(boundary).toISOString()} (in ${formatDuration(boundary - now())}; '${config.schedule}' ${config.tz}, window ${formatDuration(config.windowMs)}${opts.prune === 'dry-run' ? ', dry run' : ''})`,
    http ? `serving ${url(http.address)}/healthz, /metrics, /v1/status` : 'http off',
    engine
      ? `${engine.imageStore} image store${store.pass ? '' : `, removal off (${CONTAINERD_STORE_OPT_IN} opts in)`}`
      : 'image store not known yet (the engine has not answered)',
  ];
  const startLine = parts.join('; ');
  agent.records.emit(
    {
      event: 'agent.start',
      dockerHost: config.dockerHost,
      ...(e && { engineVersion: e.serverVersion, apiVersion: e.apiVersion }),
      ...(range && { engineApi: range }),
      stateFile: config.stateFile,
      log,
      prune: opts.prune,
      imageStore: store.imageStore,
      storeRemoval: store.pass,
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

/**
 * `/info` once before the agent starts, for the startup line (engine, API version spoken, image store,
 * whether removal is on). Never in the way: an engine that is not there fails at once, one that does not
 * answer within `waitMs` is left to the agent's own reconnects, and either way the line says what is not
 * known. An engine that answers but serves no API version the agent speaks rejects with the
 * negotiation's `engine-unreachable` error (one line, exit 3): a resident agent that could never list
 * is no use.
 */
export async function engineAtStart(
  port: Pick<DockerPort, 'info'>,
  waitMs = 3_000,
): Promise<EngineInfo | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    return await Promise.race([
      port.info().catch((err: unknown) => {
        if (err instanceof LayerwardenError) throw err;
        return undefined;
      }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
