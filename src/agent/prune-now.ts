import type { Logger } from 'pino';
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { Config } from '../config/options.js';
import type { DockerPort } from '../docker/port.js';
import { LayerwardenError } from '../errors.js';
import { readDisk as readDiskAt, readImageDisks } from '../host/disk.js';
import type { IdlePolicy } from '../model/idle.js';
import { decisionNote, type Evaluation, evaluate } from '../prune/evaluate.js';
import { createExecutor, type ExecuteResult, type LiveView } from '../prune/executor.js';
import { decidingReading } from '../prune/filesystems.js';
import type { DiskReading } from '../prune/gates.js';
import type { AgentState } from '../state/state-file.js';
import { replayRecentActivity } from '../streams/recent-activity.js';
import type { RecordStream } from '../records/record-stream.js';
import { startAgent } from './agent.js';
import type { PruneSettings } from './boundary-runner.js';
import { createSettle } from './settle.js';

export interface PruneNowOptions {
  config: Config;
  settings: PruneSettings;
  port: DockerPort;
  logger: Logger;
  /** The record stream the caller logs (default: the agent's own, logged to `logger`). */
  records?: RecordStream;
  state: AgentState;
  /** Only read the state file (a dry run): never write it. */
  readOnly?: boolean;
  policy: IdlePolicy;
  dryRun: boolean;
  /** How long to wait for the first full list (default 60 s). */
  syncTimeoutMs?: number;
  /** The disk reading (default `statfs` of the path); tests feed it figures a real filesystem will not give. */
  readDisk?: (path: string) => Promise<DiskReading>;
}

export interface PruneNowResult {
  evaluation: Evaluation;
  /** Absent when the decision did not fire. */
  result?: ExecuteResult;
}

/**
 * `prune --now`: one evaluation with every gate but the boundary, against the live model loop (not a
 * one-shot list), so the executor re-checks each removal against the engine's events as they come.
 * The quiet period before the loop connected comes from the engine's replay. The state file is saved
 * on the way out (the clocks of images seen for the first time start now).
 */
export async function pruneNow(opts: PruneNowOptions): Promise<PruneNowResult> {
  const { port, logger, policy, settings } = opts;
  const readDisk = opts.readDisk ?? readDiskAt;
  const agent = startAgent({
    config: opts.config,
    port,
    logger,
    ...(opts.records && { records: opts.records }),
    state: opts.state,
    policy,
    ...(opts.readOnly && { readOnly: true }),
  });
  // The decision and the executor's records go on the agent's stream, after the model's.
  const log = agent.records.emit;
  const now = agent.now;
  try {
    if (!agent.model()?.sync.inSync) {
      await firstValueFrom(
        agent.ticks$.pipe(
          filter((t) => t.model.sync.inSync),
          timeout(opts.syncTimeoutMs ?? 60_000),
        ),
      ).catch((cause: unknown) => {
        throw new LayerwardenError('internal', 'the model did not get in sync with the engine', { cause });
      });
    }
    // The quiet period before the loop connected, from the engine's replay, into the live model: from
    // here on the agent's one idle answer covers it, for the decision and each re-check alike.
    agent.loop.push(await replayRecentActivity(port, opts.config.quietPeriodMs, agent.now));
    const idle = agent.idle;
    const live: LiveView = {
      model: agent.model,
      idle,
      push: (input) => agent.loop.push(input),
      settle: createSettle({ port, queueDepth: () => agent.loop.queueDepth(), idle }),
    };
    const settled = await live.settle();
    const model = agent.model();
    const answer = idle();
    if (!model || !answer) throw new LayerwardenError('internal', 'no model after the first list');
    const disks = () => readImageDisks(agent.model()?.engine, settings, readDisk);
    const readings = await disks();
    const unsettled = settled.ok ? [] : [{ reason: 'out-of-sync' as const, detail: settled.reason }];
    const evaluation = evaluate({
      model,
      idle: unsettled.length ? { idle: false, busy: [...answer.busy, ...unsettled] } : answer,
      disks: readings,
      now: now(),
      ...settings,
    });
    log(decisionNote(evaluation, { trigger: 'now', mode: opts.dryRun ? 'dry-run' : 'on' }));
    if (!evaluation.decision.fire) return { evaluation };
    const executor = createExecutor({
      port,
      live,
      log,
      now,
      readDisk: async () => decidingReading(await disks()),
    });
    const result = await executor.execute({
      plan: evaluation.plan,
      policy: { minAgeMs: settings.minAgeMs },
      dryRun: opts.dryRun,
      ...(settings.diskLowPercent !== undefined && { diskLowPercent: settings.diskLowPercent }),
      allowContainerdStoreRemoval: settings.allowContainerdStoreRemoval === true,
      context: { trigger: 'now' },
    });
    return { evaluation, result };
  } finally {
    await agent.stop();
  }
}
