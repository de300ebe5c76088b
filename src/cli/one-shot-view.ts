import type { Config } from '../config/options.js';
import { readImageDisks } from '../host/disk.js';
import { type IdleAnswer, type IdlePolicy, idleAnswer } from '../model/idle.js';
import type { Model } from '../model/types.js';
import { decidingReading } from '../prune/filesystems.js';
import type { DiskReading, ImageDiskReading } from '../prune/gates.js';
import { type AgentState, clocksOf, loadState } from '../state/state-file.js';
import { oneShotModel } from '../streams/one-shot.js';
import { connect, idlePolicy } from './shared.js';

export interface OneShotView {
  model: Model;
  policy: IdlePolicy;
  /** The one-shot model's idle answer at `now` (the quiet period from the engine's replay). */
  idle: IdleAnswer;
  /** Every filesystem that holds images (prune/filesystems.ts), and the one that decides. */
  disks: ImageDiskReading[];
  disk: DiskReading;
  /** The state file as read (never written by one-shot commands). */
  state: AgentState;
  now: number;
}

/**
 * What `status` and `plan` look at: the engine reached (exit 3 if not), the agent's saved clocks read
 * without touching the file, a model built once (the engine's replay for the quiet period, then a list),
 * and every filesystem that holds images.
 */
export async function oneShotView(config: Config): Promise<OneShotView> {
  const { port, info } = await connect(config);
  const now = Date.now();
  const { state } = await loadState(config.stateFile, now, { readOnly: true });
  const policy = idlePolicy(config);
  const { model } = await oneShotModel({
    port,
    policy,
    now,
    lookbackMs: config.quietPeriodMs,
    savedClocks: clocksOf(state),
    ...(state.engineId && { savedEngineId: state.engineId }),
  });
  const disks = await readImageDisks(model.engine ?? info, config);
  return {
    model,
    policy,
    idle: idleAnswer(model, policy, now),
    disks,
    disk: decidingReading(disks),
    state,
    now,
  };
}
