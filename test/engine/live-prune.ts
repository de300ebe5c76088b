/**
 * The prune wired to a resident test agent as `watch` wires it (src/agent/boundary-runner.ts), minus the
 * schedule: the live model, a fresh idle answer and the settle barrier before every removal, records into
 * the agent's own log. The port is the caller's, so a test can wrap it (hooks, timings).
 */
import { createSettle } from '../../src/agent/settle.js';
import type { DockerPort } from '../../src/docker/port.js';
import { readImageDisks } from '../../src/host/disk.js';
import { decidingReading } from '../../src/prune/filesystems.js';
import { decisionNote, type Evaluation, evaluate } from '../../src/prune/evaluate.js';
import { createExecutor, type ExecuteResult, type LiveView } from '../../src/prune/executor.js';
import type { TestAgent } from './agent-under-test.js';

export interface LivePruneOptions {
  port: DockerPort;
  minAgeMs: number;
  diskHighPercent: number;
}

/** One evaluation now against the live model, and the executor when it fires (trigger `now`). */
export function livePrune(t: TestAgent, opts: LivePruneOptions) {
  const idle = t.agent.idle;
  const live: LiveView = {
    model: t.agent.model,
    idle,
    push: (input) => t.agent.loop.push(input),
    settle: createSettle({ port: opts.port, queueDepth: () => t.agent.loop.queueDepth(), idle }),
  };
  // On the agent's record stream, as the boundary runner's: the logger and any metrics see them.
  const log = t.agent.records.emit;
  const disks = () => readImageDisks(t.agent.model()?.engine, {});
  const executor = createExecutor({
    port: opts.port,
    live,
    log,
    now: () => Date.now(),
    readDisk: async () => decidingReading(await disks()),
  });
  return async (): Promise<{ evaluation: Evaluation; result?: ExecuteResult }> => {
    await live.settle();
    const model = t.agent.model();
    const answer = idle();
    if (!model || !answer) throw new Error('no model yet');
    const evaluation = evaluate({
      model,
      idle: answer,
      disks: await disks(),
      now: Date.now(),
      minAgeMs: opts.minAgeMs,
      diskHighPercent: opts.diskHighPercent,
    });
    log(decisionNote(evaluation, { trigger: 'now', mode: 'on' }));
    if (!evaluation.decision.fire) return { evaluation };
    const result = await executor.execute({
      plan: evaluation.plan,
      policy: { minAgeMs: opts.minAgeMs },
      dryRun: false,
      context: { trigger: 'now' },
    });
    return { evaluation, result };
  };
}
