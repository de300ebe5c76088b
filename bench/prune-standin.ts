/**
 * A stand-in for the prune executor (src/prune/executor.ts, being written on another branch), with the
 * behaviour DESIGN.md gives it: one image at a time, oldest first; before each removal re-check idle
 * and the candidate on the live model and stop the moment the host is busy; announce the removal as
 * our own; a plain DELETE (never force); 404 = gone, 409 = in use. Benchmark 6 times this; switch it to
 * the real executor when that lands.
 */
import type { DockerPort } from '../src/docker/port.js';
import { type IdlePolicy, idleAnswer } from '../src/model/idle.js';
import type { Model } from '../src/model/types.js';
import { type Candidate, type PrunePolicy, recheck } from '../src/prune/plan.js';
import type { ModelLoop } from '../src/streams/model-loop.js';

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
