import type { Model, Note } from '../types.js';

/** Which stacks count as runs: `--run-stack` (default: all) minus `--ignore-stack`. */
export interface RunPolicy {
  runStack: RegExp;
  ignoreStack?: RegExp;
}

export const ALL_STACKS_ARE_RUNS: RunPolicy = { runStack: /.*/ };

export function isRun(policy: RunPolicy, stack: string): boolean {
  return policy.runStack.test(stack) && !policy.ignoreStack?.test(stack);
}

/** A service makes its stack live while it wants tasks or still runs some. */
export function keepsStackLive(s: { stack?: string | undefined; desired: number; running: number }): boolean {
  return s.stack !== undefined && s.stack !== '' && (s.desired > 0 || s.running > 0);
}

/**
 * Keeps `model.stackServices` (services that keep their stack live, per stack) in step when a service
 * entry is replaced (`prev` → `next`) or removed (`next` undefined); the one writer is putServices.
 */
export function countServiceStack(
  model: Model,
  prev: { stack?: string | undefined; desired: number; running: number } | undefined,
  next: { stack?: string | undefined; desired: number; running: number } | undefined,
): void {
  const counts = model.stackServices;
  if (prev && keepsStackLive(prev)) {
    const left = (counts.get(prev.stack as string) ?? 1) - 1;
    if (left > 0) counts.set(prev.stack as string, left);
    else {
      counts.delete(prev.stack as string);
      model.stackChanges++;
    }
  }
  if (next && keepsStackLive(next)) {
    const had = counts.get(next.stack as string) ?? 0;
    counts.set(next.stack as string, had + 1);
    if (had === 0) model.stackChanges++;
  }
}

/**
 * Stacks with a live container or a service that wants tasks, with their kind (swarm when a service
 * keeps it live). What settleStacks keeps `model.liveStacks` equal to, computed from scratch.
 */
export function computeLiveStacks(model: Model): Map<string, 'swarm' | 'compose'> {
  const live = new Map<string, 'swarm' | 'compose'>();
  for (const [name, s] of model.stackContainers) live.set(name, s.kind);
  for (const s of model.services.values()) if (keepsStackLive(s)) live.set(s.stack as string, 'swarm');
  return live;
}

/**
 * Brings `model.liveStacks` in step with the containers and services, noting each stack that went up or
 * down. Runs after every input, so it builds nothing: it reads the per-stack counts (stackContainers,
 * stackServices), and walks the services only when a stack that only a service keeps live is not up
 * yet, so that the `stack.up` notes come in the order computeLiveStacks gives. When neither count map
 * gained or lost a stack since the last settle (`stackChanges`, bumped by their writers) and liveStacks
 * is as that settle left it, there is nothing to do.
 */
export function settleStacks(model: Model, policy: RunPolicy, now: number, notes: Note[]): void {
  const { liveStacks, stackContainers, stackServices, stacksSettled: settled } = model;
  if (settled.changes === model.stackChanges && settled.size === liveStacks.size) return;
  settle(model, policy, now, notes);
  settled.changes = model.stackChanges;
  settled.size = liveStacks.size;
}

function settle(model: Model, policy: RunPolicy, now: number, notes: Note[]): void {
  const { liveStacks, stackContainers, stackServices } = model;
  let union = stackContainers.size;
  for (const name of stackContainers.keys()) {
    if (liveStacks.has(name)) continue;
    const kind = stackServices.has(name) ? 'swarm' : (stackContainers.get(name)?.kind ?? 'compose');
    up(model, policy, name, kind, now, notes);
  }
  let serviceOnlyDown = false;
  for (const name of stackServices.keys()) {
    if (stackContainers.has(name)) continue;
    union++;
    if (!liveStacks.has(name)) serviceOnlyDown = true;
  }
  if (serviceOnlyDown)
    for (const s of model.services.values()) {
      if (!keepsStackLive(s) || liveStacks.has(s.stack as string)) continue;
      up(model, policy, s.stack as string, 'swarm', now, notes);
    }
  // Every stack that should be up is: any more in liveStacks are the ones that went down.
  if (liveStacks.size === union) return;
  for (const [name, s] of liveStacks) {
    if (stackContainers.has(name) || stackServices.has(name)) continue;
    liveStacks.delete(name);
    notes.push({
      event: 'stack.down',
      stack: name,
      kind: s.kind,
      run: isRun(policy, name),
      seconds: (now - s.since) / 1000,
    });
  }
}

function up(
  model: Model,
  policy: RunPolicy,
  name: string,
  kind: 'swarm' | 'compose',
  now: number,
  notes: Note[],
) {
  model.liveStacks.set(name, { kind, since: now });
  notes.push({ event: 'stack.up', stack: name, kind, run: isRun(policy, name) });
}

/** Names of the live stacks that count as runs. */
export function liveRuns(model: Model, policy: RunPolicy): string[] {
  return [...model.liveStacks.keys()].filter((name) => isRun(policy, name)).sort();
}
