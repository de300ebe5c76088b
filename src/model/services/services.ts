import type { EngineEvent, ServiceInfo, TaskInfo } from '../../docker/types.js';
import { refsAgree } from '../images/refs.js';
import { countServiceStack } from './stacks.js';
import type { ConvergeWatch, Model, Note, ServiceEntry, ServiceState } from '../types.js';

const UPDATING = new Set(['updating', 'rollback_started']);
const PAUSED = new Set(['paused', 'rollback_paused']);
const FAILED_TASK = new Set(['failed', 'rejected']);
/**
 * A service seen stable right after its create/update, without ever being seen unsettled, is believed
 * only once it has held this long: a list taken just after an update can still show the old tasks.
 */
export const SETTLE_MS = 2000;
/** Create/update events of services never listed are forgotten after this long (the service is gone). */
const WATCH_TTL_MS = 600_000;

/** Converged, converging or stuck, from the numbers a services list gives and the failing tasks. */
export function serviceState(
  s: Pick<ServiceEntry, 'desired' | 'running' | 'updateState' | 'failingTasks'>,
): ServiceState {
  if (s.updateState && PAUSED.has(s.updateState)) return 'stuck';
  const short = s.running < s.desired;
  if (short && s.failingTasks > 0) return 'stuck';
  if (short || (s.updateState && UPDATING.has(s.updateState))) return 'converging';
  return 'converged';
}

/**
 * Replaces the services with a fresh list and notes each change of state. A create or update is
 * reported once, as `service.converged`, when the service is stable (running = desired, no update in
 * progress), with the seconds it took and the pulls made for its image meanwhile.
 */
export function putServices(
  model: Model,
  services: ServiceInfo[],
  tasks: TaskInfo[],
  now: number,
  notes: Note[],
) {
  const seen = new Set<string>();
  for (const info of services) {
    seen.add(info.id);
    const prev = model.services.get(info.id);
    let watch = prev?.awaiting ?? model.serviceWatches.get(info.id);
    model.serviceWatches.delete(info.id);
    const since = prev?.convergingSince ?? watch?.since ?? now;
    const failingTasks = tasks.filter(
      (t) => t.serviceId === info.id && FAILED_TASK.has(t.state) && t.at >= since - 1000,
    ).length;
    const entry: ServiceEntry = { ...info, failingTasks, state: 'converged' };
    entry.state = serviceState(entry);
    if (entry.state !== 'converged') entry.convergingSince = since;
    const base = { service: entry.name, stack: entry.stack, desired: entry.desired, running: entry.running };
    if (watch) {
      if (entry.state !== 'converged') {
        watch.sawUnsettled = true;
        watch.stableSince = undefined;
      } else {
        watch.stableSince ??= now;
        if (watch.sawUnsettled || now - watch.since >= SETTLE_MS) {
          notes.push(convergedNote(model, entry, base, watch.cause, watch.since, watch.stableSince));
          watch = undefined;
        } else entry.state = 'converging'; // not shown stable yet
      }
      if (watch) {
        entry.awaiting = watch;
        entry.convergingSince = watch.since;
      }
    }
    countServiceStack(model, prev, entry);
    model.services.set(info.id, entry);
    if (prev?.state === entry.state) continue;
    if (entry.state === 'converged') {
      // Without a create/update behind it (tasks replaced, or the agent started mid-deploy).
      if (prev && !prev.awaiting)
        notes.push(convergedNote(model, entry, base, 'observed', prev.convergingSince ?? now, now));
    } else if (entry.state === 'stuck') {
      notes.push({
        event: 'service.stuck',
        level: 'warn',
        ...base,
        updateState: entry.updateState,
        failingTasks,
      });
    } else {
      notes.push({ event: 'service.converging', ...base, updateState: entry.updateState });
    }
  }
  for (const [id, entry] of model.services) {
    if (seen.has(id)) continue;
    countServiceStack(model, entry, undefined);
    model.services.delete(id);
    notes.push({ event: 'service.removed', service: entry.name, stack: entry.stack });
  }
}

function convergedNote(
  model: Model,
  entry: ServiceEntry,
  base: { service: string; stack?: string | undefined; desired: number; running: number },
  cause: ConvergeWatch['cause'] | 'observed',
  since: number,
  stableAt: number,
): Note {
  const pulls = model.recentPulls.filter(
    (p) => p.at >= since && p.at <= stableAt && refsAgree(p.ref, entry.image),
  );
  return {
    event: 'service.converged',
    ...base,
    image: entry.image,
    cause,
    since: new Date(since).toISOString(),
    seconds: (stableAt - since) / 1000,
    pulls: pulls.map((p) => ({
      ref: p.ref,
      ...(p.image && { image: p.image }),
      class: p.class,
      ...(p.repeat && { repeat: true }),
      // The `at` of the pull's own record, so the two can be joined.
      at: new Date(p.eventTimeMs).toISOString(),
    })),
    layersDownloaded: pulls.reduce((n, p) => n + p.newLayers, 0),
    bytesDownloaded: pulls.reduce((n, p) => n + p.bytesDownloaded, 0),
  };
}

/** Update events that only report the progress of an update (`updatestate.*`) start nothing new. */
function isProgressOnly(e: EngineEvent): boolean {
  const a = e.attributes;
  return (
    (a['updatestate.new'] !== undefined || a['updatestate.old'] !== undefined) &&
    a['replicas.new'] === undefined &&
    a['image.new'] === undefined
  );
}

/**
 * A create or update event starts the convergence clock, even before the list shows a difference (or
 * the service at all). Several events for one change (create then update, as `stack deploy` sends)
 * keep the earliest.
 */
export function watchService(model: Model, e: EngineEvent, now: number): void {
  const id = e.actorId;
  if (e.action === 'remove') {
    model.serviceWatches.delete(id);
    return;
  }
  if (e.action !== 'create' && (e.action !== 'update' || isProgressOnly(e))) return;
  const cause = e.action;
  const entry = model.services.get(id);
  if (entry) {
    if (entry.awaiting) entry.awaiting.stableSince = undefined;
    else entry.awaiting = { since: now, cause, sawUnsettled: false };
    entry.convergingSince = entry.awaiting.since;
    return;
  }
  for (const [other, w] of model.serviceWatches)
    if (now - w.since > WATCH_TTL_MS) model.serviceWatches.delete(other);
  if (!model.serviceWatches.has(id)) model.serviceWatches.set(id, { since: now, cause, sawUnsettled: false });
}

export function anyUnsettled(model: Model): boolean {
  if (model.serviceWatches.size > 0) return true;
  for (const s of model.services.values()) if (s.state !== 'converged') return true;
  return false;
}
