import type { DockerPort } from '../docker/port.js';
import { apply } from '../model/apply.js';
import { createModel } from '../model/create.js';
import type { RunPolicy } from '../model/stacks.js';
import type { ImageClocks, Model, Note } from '../model/types.js';
import { listAll } from './list-all.js';
import { replayEvents } from './replay.js';

export interface OneShotOptions {
  port: DockerPort;
  policy: RunPolicy;
  now: number;
  /** How far back the engine's replay is read for recent pulls and starts. */
  lookbackMs: number;
  savedClocks?: Map<string, ImageClocks>;
  savedEngineId?: string;
  /** The engine's clock at about `now` (`/info` SystemTime): the replay window is in engine time. */
  engineNow?: number;
}

/**
 * A model built once, for one-shot commands: recent events replayed at their own times (for the quiet
 * period), then a full list applied on top as the truth.
 */
export async function oneShotModel(opts: OneShotOptions): Promise<{ model: Model; notes: Note[] }> {
  const model = createModel(opts.savedClocks, opts.savedEngineId);
  const notes: Note[] = [];
  // A skewed agent clock must neither hang on an `until` in the engine's future nor misplace activity.
  const engineNow = opts.engineNow ?? opts.now;
  const offset = opts.now - engineNow;
  const events =
    opts.lookbackMs > 0
      ? await replayEvents(opts.port, engineNow - opts.lookbackMs, engineNow).catch(() => [])
      : [];
  for (const event of events)
    apply(model, { kind: 'event', event }, { now: event.timeMs + offset, policy: opts.policy });
  model.pendingPulls.clear();
  const snapshot = await listAll(opts.port, model);
  notes.push(
    ...apply(model, { kind: 'stream.up', attempt: 0 }, { now: opts.now, policy: opts.policy }).notes,
  );
  notes.push(
    ...apply(
      model,
      { kind: 'snapshot', snapshot, reason: 'one-shot' },
      { now: opts.now, policy: opts.policy },
    ).notes,
  );
  return { model, notes };
}
