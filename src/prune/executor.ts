import {
  type Aborted,
  type ExecuteRequest,
  type ExecuteResult,
  type ExecutorDeps,
  emptyResult,
  type Removed,
  type RunContext,
} from './execute-types.js';
import { guard } from './guard.js';
import { pruneBuildCache, type RemovalVerdict } from './removal.js';
import { removeCandidate } from './remove-candidate.js';

/**
 * The only code that deletes. Single-flight: a call while a run is under way is refused with a log line.
 * Containers first, then images oldest-untouched first (the plan's order), then the build cache. Before
 * each request it waits for the model to settle, then re-checks idle (busy → `prune.aborted`, stop) and
 * the item's eligibility (→ `prune.skipped`, go on), and the low-water mark (→ stop early). An image
 * whose references span repositories takes one request per reference (remove-candidate.ts).
 */
export function createExecutor(deps: ExecutorDeps) {
  let running = false;
  return {
    running: () => running,
    async execute(req: ExecuteRequest): Promise<ExecuteResult> {
      if (running) {
        deps.log({
          event: 'prune.refused',
          level: 'warn',
          reason: 'a prune is already running',
          ...req.context,
        });
        return { ...emptyResult(), outcome: 'refused', durationMs: 0 };
      }
      running = true;
      try {
        return await run(deps, req);
      } finally {
        running = false;
      }
    },
  };
}

export type Executor = ReturnType<typeof createExecutor>;
export type * from './execute-types.js';

async function run(deps: ExecutorDeps, req: ExecuteRequest): Promise<ExecuteResult> {
  const { log, now } = deps;
  const ctx: RunContext['ctx'] = { ...req.context, ...(req.dryRun && { dryRun: true as const }) };
  const started = now();
  const result = emptyResult();
  const stop = (outcome: ExecuteResult['outcome'], aborted?: Aborted) => {
    result.outcome = outcome;
    if (aborted) {
      result.aborted = aborted;
      log({ event: 'prune.aborted', level: 'warn', ...ctx, ...aborted, removedSoFar: result.removed.length });
    }
  };
  // The engine's answer to the previous removal is a round trip as good as the settle barrier's ping:
  // an event it published before answering has had the same time to reach our socket. Only a real
  // answer counts (a refused connection or a timeout is none); the first removal pings.
  let engineJustAnswered = false;
  const settled = async (): Promise<boolean> => {
    const gate = await guard(deps, req, { engineJustAnswered });
    if (gate.ok) return true;
    if (gate.lowWater) {
      // Only a request with a low-water mark stops on it.
      log({ event: 'prune.low-water', ...ctx, low: req.diskLowPercent as number, ...gate.disk });
      stop('low-water');
    } else stop('aborted', gate.aborted);
    return false;
  };
  const answered = (verdict: RemovalVerdict) => {
    engineJustAnswered = verdict.kind !== 'failed' || verdict.status !== undefined;
  };
  const record = (verdict: RemovalVerdict, item: Removed, extra: { untagged?: string[] } = {}) => {
    switch (verdict.kind) {
      case 'removed':
        result.removed.push({ ...item, bytes: verdict.bytes });
        result.reclaimedBytes += verdict.bytes;
        log({ event: 'prune.removed', ...ctx, ...item, bytes: verdict.bytes });
        return true;
      case 'gone':
        result.alreadyGone.push({ kind: item.kind, id: item.id });
        log({
          event: 'prune.skipped',
          ...ctx,
          kind: item.kind,
          id: item.id,
          reason: 'already gone',
          ...extra,
        });
        return true;
      case 'in-use':
      case 'failed':
      case 'untagged': {
        // `untagged` from a DELETE by id: the engine never answers so (only a reference is untagged).
        const reason = verdict.kind === 'in-use' ? 'in use' : 'engine error';
        const detail = verdict.kind === 'untagged' ? 'the engine removed a reference only' : verdict.detail;
        result.skipped.push({ kind: item.kind, id: item.id, reason: `${reason}: ${detail}` });
        log({
          event: 'prune.skipped',
          level: 'warn',
          ...ctx,
          kind: item.kind,
          id: item.id,
          reason,
          detail,
          ...extra,
        });
        return true;
      }
      case 'engine-prune-running':
        stop('aborted', { reason: 'engine prune running', busy: [verdict.detail], retryable: true });
        return false;
    }
  };
  const runCtx: RunContext = { deps, req, ctx, result, settled, answered, record };

  for (const candidate of req.plan.candidates) if (!(await removeCandidate(runCtx, candidate))) break;

  if (result.outcome === 'done' && (await settled())) {
    const { untilHours } = req.plan.buildCache;
    const item: Removed = { kind: 'build-cache', id: `until=${untilHours}h`, refs: [], bytes: 0, size: 0 };
    if (req.dryRun) {
      // The engine alone knows which records are that old; a dry run cannot ask without pruning.
      log({
        event: 'prune.would-remove',
        ...ctx,
        dryRun: true,
        ...item,
        note: 'bytes known only to the engine',
      });
    } else {
      const verdict = await pruneBuildCache(deps.port, untilHours);
      if (verdict.kind !== 'removed' || verdict.bytes > 0) record(verdict, item);
    }
  }

  result.durationMs = now() - started;
  log({
    event: 'prune.done',
    ...ctx,
    // A refused run returned before it started: this run's outcome is one of the three.
    outcome: result.outcome as Exclude<ExecuteResult['outcome'], 'refused'>,
    removed: result.removed.length,
    ...(req.dryRun && { wouldRemove: result.wouldRemove.length }),
    skipped: result.skipped.length,
    alreadyGone: result.alreadyGone.length,
    reclaimedBytes: result.reclaimedBytes,
    durationMs: result.durationMs,
    ...(result.aborted && { aborted: result.aborted.reason }),
  });
  return result;
}
