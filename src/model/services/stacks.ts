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

/** Stacks with a live container or a service that wants tasks, with their kind. */
export function computeLiveStacks(model: Model): Map<string, 'swarm' | 'compose'> {
  const live = new Map<string, 'swarm' | 'compose'>();
  for (const [name, s] of model.stackContainers) live.set(name, s.kind);
  for (const s of model.services.values()) {
    if (s.stack && (s.desired > 0 || s.running > 0)) live.set(s.stack, 'swarm');
  }
  return live;
}

/** Brings `model.liveStacks` in step with the containers and services, noting each stack that went up or down. */
export function settleStacks(model: Model, policy: RunPolicy, now: number, notes: Note[]): void {
  const live = computeLiveStacks(model);
  for (const [name, kind] of live) {
    if (model.liveStacks.has(name)) continue;
    model.liveStacks.set(name, { kind, since: now });
    notes.push({ event: 'stack.up', stack: name, kind, run: isRun(policy, name) });
  }
  for (const [name, s] of model.liveStacks) {
    if (live.has(name)) continue;
    model.liveStacks.delete(name);
    notes.push({
      event: 'stack.down',
      stack: name,
      kind: s.kind,
      run: isRun(policy, name),
      seconds: (now - s.since) / 1000,
    });
  }
}

/** Names of the live stacks that count as runs. */
export function liveRuns(model: Model, policy: RunPolicy): string[] {
  return [...model.liveStacks.keys()].filter((name) => isRun(policy, name)).sort();
}
