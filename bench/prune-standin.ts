/**
 * The executors benchmark 6 times: `realExecutor()`, the agent's own (src/prune/executor.ts: the settle
 * barrier, idle and the candidate re-checked before every removal, one at a time), and a stand-in with
 * the same re-checks but no barrier, which can also keep two removals in flight — the variant the
 * benchmark reports beside it, to show what overlapping the round trips would give.
 */
import type { DockerPort } from '../src/docker/port.js';
import { type IdlePolicy, idleAnswer } from '../src/model/idle.js';
import type { Model } from '../src/model/types.js';
import { type Candidate, type PrunePolicy, recheck } from '../src/prune/plan.js';
import type { ModelLoop } from '../src/streams/model-loop.js';
import { createSettle } from '../src/agent/settle.js';
import { createExecutor } from '../src/prune/executor.js';
import { planPrune } from '../src/prune/plan.js';

export interface ExecutorDeps {
  port: DockerPort;
  loop: ModelLoop;
  /** The live model (the loop's one instance). */
  model: () => Model;
  policy: PrunePolicy & IdlePolicy;
  /** The agent's clock. */
  now: () => number;
}

export interface ExecutorOutcome {
  removed: number;
  gone: number;
  skipped: number;
  failed: number;
  aborted?: string;
}

/** The interface the benchmark times; the real executor should be adaptable to it in a few lines. */
export type PruneExecutor = (
  candidates: readonly Candidate[],
  deps: ExecutorDeps,
) => Promise<ExecutorOutcome>;

/**
 * The stand-in. `inFlight` 1 is the design (one removal at a time); 2 is a variant the benchmark also
 * times to show what overlapping the HTTP round trip would give: each removal is still re-checked, with
 * idle, just before it is issued.
 */
export function standInExecutor(inFlight = 1): PruneExecutor {
  return async (candidates, deps) => {
    const out: ExecutorOutcome = { removed: 0, gone: 0, skipped: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      while (next < candidates.length && out.aborted === undefined) {
        const c = candidates[next++] as Candidate;
        const model = deps.model();
        const now = deps.now();
        const idle = idleAnswer(model, deps.policy, now);
        if (!idle.idle) {
          out.aborted = idle.busy.map((b) => b.reason).join(', ');
          return;
        }
        const still = recheck(model, c, deps.policy, now);
        if (!still.ok) {
          out.skipped++;
          continue;
        }
        if (c.kind === 'image') deps.loop.push({ kind: 'own-removal', id: c.id });
        const result =
          c.kind === 'image' ? await deps.port.removeImage(c.id) : await deps.port.removeContainer(c.id);
        if (c.kind === 'image')
          deps.loop.push({
            kind: 'own-removal',
            id: c.id,
            answer: result.kind === 'removed' ? 'removed' : 'not-removed',
          });
        if (result.kind === 'removed') out.removed++;
        else if (result.kind === 'gone') out.gone++;
        else if (result.kind === 'conflict') out.skipped++;
        else out.failed++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return out;
  };
}

/** The agent's own executor behind the benchmark's interface (its records are not kept). */
export function realExecutor(): PruneExecutor {
  return async (candidates, deps) => {
    const idle = () => idleAnswer(deps.model(), deps.policy, deps.now());
    const executor = createExecutor({
      port: deps.port,
      live: {
        model: deps.model,
        idle,
        push: (input) => deps.loop.push(input),
        settle: createSettle({ port: deps.port, queueDepth: deps.loop.queueDepth, idle }),
      },
      log: () => {},
      now: deps.now,
      readDisk: async () => ({ path: '/', ok: false, reason: 'not read in the benchmark' }),
    });
    const plan = { ...planPrune(deps.model(), deps.policy, deps.now()), candidates: [...candidates] };
    const r = await executor.execute({
      plan,
      policy: deps.policy,
      dryRun: false,
      context: { trigger: 'now' },
    });
    return {
      removed: r.removed.filter((x) => x.kind !== 'build-cache').length,
      gone: r.alreadyGone.length,
      skipped: r.skipped.length,
      failed: 0,
      ...(r.aborted && { aborted: r.aborted.reason }),
    };
  };
}
