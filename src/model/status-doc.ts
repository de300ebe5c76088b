import { isLive } from './containers/containers.js';
import { busyFields } from '../records/busy.js';
import type { IdleAnswer, IdlePolicy } from './idle.js';
import { isRun } from './services/stacks.js';
import type { Model } from './types.js';

/** A disk reading as the CLI and the gates see it (see src/prune/gates.ts). */
export type DiskFigures = (
  | { path: string; ok: true; usedPercent: number }
  | { path: string; ok: false; reason: string }
) & { role?: string };

/** What the status shows of the prune's gates that do not depend on the moment (src/prune/gates.ts). */
export interface StatusExtras {
  /** The reading that decides (an unknown one, else the fullest), then every reading. */
  disk?: DiskFigures;
  disks?: DiskFigures[];
  /** Whether the prune may remove on this engine's image store (`storeGate`), and why not. */
  removal?: { pass: boolean; reason?: string };
}

export interface StackRow {
  name: string;
  kind: 'swarm' | 'compose';
  live: boolean;
  run: boolean;
  containers: number;
  services: number;
}

/** Stacks known from containers (any state) and services, with live counts. */
export function stackRows(model: Model, policy: IdlePolicy): StackRow[] {
  const rows = new Map<string, StackRow>();
  const row = (name: string, kind: 'swarm' | 'compose') => {
    let r = rows.get(name);
    if (!r) {
      r = {
        name,
        kind,
        live: model.liveStacks.has(name),
        run: isRun(policy, name),
        containers: 0,
        services: 0,
      };
      rows.set(name, r);
    }
    return r;
  };
  for (const c of model.containers.values()) {
    if (c.stack && isLive(c.state)) row(c.stack, c.stackKind ?? 'compose').containers++;
    else if (c.stack) row(c.stack, c.stackKind ?? 'compose');
  }
  for (const s of model.services.values()) if (s.stack) row(s.stack, 'swarm').services++;
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The `status --json` document (also served at /v1/status). */
export function statusDocument(
  model: Model,
  policy: IdlePolicy,
  answer: IdleAnswer,
  now: number,
  extras: StatusExtras = {},
) {
  let tagged = 0;
  let digestOnly = 0;
  let none = 0;
  for (const img of model.images.values()) {
    if (img.tags.length > 0) tagged++;
    else if (img.digests.length > 0) digestOnly++;
    else none++;
  }
  let running = 0;
  for (const c of model.containers.values()) if (isLive(c.state)) running++;
  const e = model.engine;
  return {
    at: new Date(now).toISOString(),
    idle: answer.idle,
    busy: answer.busy.map(busyFields),
    sync: {
      inSync: model.sync.inSync,
      connected: model.sync.connected,
      ...(model.sync.reason && !model.sync.inSync && { reason: model.sync.reason }),
    },
    engine: e
      ? {
          version: e.serverVersion,
          apiVersion: e.apiVersion,
          ...(e.apiRange && { apiRange: e.apiRange }),
          id: e.id,
          name: e.name,
          rootDir: e.dockerRootDir,
          imageStore: e.imageStore,
          swarm: e.swarm,
          manager: e.isManager,
        }
      : null,
    stacks: stackRows(model, policy),
    services: [...model.services.values()]
      .map((s) => ({
        name: s.name,
        ...(s.stack && { stack: s.stack }),
        desired: s.desired,
        running: s.running,
        state: s.state,
        ...(s.updateState && { updateState: s.updateState }),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    images: {
      total: model.images.size,
      tagged,
      untagged: digestOnly + none,
      digestOnly,
      layers: model.layers.size,
    },
    containers: { total: model.containers.size, running, stopped: model.containers.size - running },
    disk: extras.disk ?? null,
    disks: extras.disks ?? [],
    removal: extras.removal
      ? { allowed: extras.removal.pass, ...(extras.removal.reason && { reason: extras.removal.reason }) }
      : null,
  };
}

export type StatusDocument = ReturnType<typeof statusDocument>;
