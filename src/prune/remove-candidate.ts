import { nextImageTarget, removalRefs } from './by-refs.js';
import type { Removed, RunContext } from './execute-types.js';
import { type Candidate, recheck } from './plan.js';
import { freedBytes, removeItem } from './removal.js';

const NO_MODEL = { ok: false as const, reason: 'no model' };

/**
 * Removes one candidate; false when the run must stop. Before every request it sends: the barrier (the
 * model settled, the host idle, the disk above low-water; else the run stops) and the re-check against
 * the live model (no longer eligible → `prune.skipped`, on to the next candidate). A container, or an
 * image by id: one DELETE. An image whose digest references span repositories: one DELETE per reference
 * (by-refs.ts), each untagging one until the last deletes the image; a reference someone else removed
 * meanwhile (404) is passed over. Every image DELETE is announced to the model as the agent's own and
 * then answered: `removed` only when the engine deleted the image, so an untag is never an eviction and
 * whichever DELETE deletes it is the agent's. Stopped or refused midway, the image stays with the
 * references not yet sent, and its record lists those that went (`untagged`).
 */
export async function removeCandidate(run: RunContext, candidate: Candidate): Promise<boolean> {
  const { deps, req, ctx, result } = run;
  const { kind, id } = candidate;
  const sent = new Set<string>();
  const untagged: string[] = [];
  let byRefs = false;
  const partial = () => (untagged.length > 0 ? { untagged: [...untagged] } : {});
  for (;;) {
    if (!(await run.settled())) {
      if (untagged.length > 0) stoppedMidway(run, candidate, untagged);
      return false;
    }
    const model = deps.live.model();
    const check = model ? recheck(model, candidate, req.policy, deps.now()) : NO_MODEL;
    if (!check.ok || !model) {
      const reason = check.ok ? NO_MODEL.reason : check.reason;
      if (reason === 'gone') result.alreadyGone.push({ kind, id });
      else result.skipped.push({ kind, id, reason });
      deps.log({ event: 'prune.skipped', ...ctx, kind, id, reason, ...partial() });
      return true;
    }
    const image = kind === 'image' ? model.images.get(id) : undefined;
    const step = image ? nextImageTarget(image, { byRefs, sent }) : { target: id, byRef: false };
    const bytes = freedBytes(model, candidate);
    const item: Removed = { kind, id, refs: candidate.refs, bytes, size: candidate.bytes };
    if (req.dryRun) {
      if (step.byRef && image) item.byRefs = removalRefs(image);
      result.wouldRemove.push(item);
      deps.log({ event: 'prune.would-remove', ...ctx, dryRun: true, ...item });
      return true;
    }
    if (image) deps.live.push({ kind: 'own-removal', id });
    const verdict = await removeItem(deps.port, { kind, target: step.target }, bytes);
    run.answered(verdict);
    // Only the answer says whose the eviction is: a DELETE that lost a race to someone else's gets 404,
    // and one that only untagged removed nothing.
    if (image)
      deps.live.push({
        kind: 'own-removal',
        id,
        answer: verdict.kind === 'removed' ? 'removed' : 'not-removed',
      });
    if (step.byRef) {
      byRefs = true;
      sent.add(step.target);
      if (verdict.kind === 'untagged') {
        untagged.push(step.target);
        continue;
      }
      // Someone else removed that reference meanwhile: the re-check says whether the image went too.
      if (verdict.kind === 'gone') continue;
      if (verdict.kind === 'removed') item.byRefs = [...untagged, step.target];
    }
    const goOn = run.record(verdict, item, partial());
    if (!goOn && untagged.length > 0) stoppedMidway(run, candidate, untagged);
    return goOn;
  }
}

/** The run stopped between two references of an image: it stays with the rest, and the record says so. */
function stoppedMidway(run: RunContext, candidate: Candidate, untagged: string[]): void {
  const why = run.result.aborted?.reason ?? run.result.outcome;
  run.result.skipped.push({ kind: candidate.kind, id: candidate.id, reason: `stopped midway: ${why}` });
  run.deps.log({
    event: 'prune.skipped',
    level: 'warn',
    ...run.ctx,
    kind: candidate.kind,
    id: candidate.id,
    reason: 'stopped midway',
    detail: why,
    untagged,
  });
}
