import type { ServiceInfo, TaskInfo } from '../docker/types.js';
import type { Model, Note, ServiceEntry, ServiceState } from './types.js';

const UPDATING = new Set(['updating', 'rollback_started']);
const PAUSED = new Set(['paused', 'rollback_paused']);
const FAILED_TASK = new Set(['failed', 'rejected']);

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
 * Replaces the services with a fresh list. Notes each change of state; a service that converges is
 * noted with the seconds since it started converging (its create or update).
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
    const since = prev?.convergingSince ?? now;
    const failingTasks = tasks.filter(
      (t) => t.serviceId === info.id && FAILED_TASK.has(t.state) && t.at >= since - 1000,
    ).length;
    const entry: ServiceEntry = { ...info, failingTasks, state: 'converged' };
    entry.state = serviceState(entry);
    if (entry.state !== 'converged') entry.convergingSince = since;
    model.services.set(info.id, entry);
    if (prev?.state === entry.state) continue;
    const base = { service: entry.name, stack: entry.stack, desired: entry.desired, running: entry.running };
    if (entry.state === 'converged') {
      if (prev) notes.push({ event: 'service.converged', ...base, seconds: (now - since) / 1000 });
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
    model.services.delete(id);
    notes.push({ event: 'service.removed', service: entry.name, stack: entry.stack });
  }
}

/** A create or update event starts the convergence clock, even before the list shows a difference. */
export function markConverging(model: Model, serviceId: string, now: number): void {
  const entry = model.services.get(serviceId);
  if (entry) entry.convergingSince = now;
}

export function anyUnsettled(model: Model): boolean {
  for (const s of model.services.values()) if (s.state !== 'converged') return true;
  return false;
}
