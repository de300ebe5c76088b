import type { DockerPort } from '../docker/port.js';
import { apply } from '../model/apply.js';
import { createModel } from '../model/create.js';
import type { RunPolicy } from '../model/services/stacks.js';
import type { ImageClocks, Model, Note } from '../model/types.js';
import { listAll } from './list-all.js';
import { replayRecentActivity } from './recent-activity.js';

export interface OneShotOptions {
  port: DockerPort;
  policy: RunPolicy;
  now: number;
  /** How far back the engine's replay is read for recent pulls and starts (the quiet period). */
  lookbackMs: number;
  savedClocks?: Map<string, ImageClocks>;
  savedEngineId?: string;
}

/**
 * A model built once, for one-shot commands: a full list as the truth, then the activity of the quiet
 * period before it from the engine's replay (the same replay `prune --now` gives its agent).
 */
export async function oneShotModel(opts: OneShotOptions): Promise<{ model: Model; notes: Note[] }> {
  const model = createModel(opts.savedClocks, opts.savedEngineId);
  const notes: Note[] = [];
  const ctx = { now: opts.now, policy: opts.policy };
  const snapshot = await listAll(opts.port, model);
  notes.push(...apply(model, { kind: 'stream.up', attempt: 0 }, ctx).notes);
  notes.push(...apply(model, { kind: 'snapshot', snapshot, reason: 'one-shot' }, ctx).notes);
  const recent = await replayRecentActivity(opts.port, opts.lookbackMs, () => opts.now);
  notes.push(...apply(model, recent, ctx).notes);
  return { model, notes };
}
