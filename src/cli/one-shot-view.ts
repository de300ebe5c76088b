import type { Config } from '../config/options.js';
import { readDisk } from '../host/disk.js';
import { type IdleAnswer, type IdlePolicy, idleAnswer } from '../model/idle.js';
import type { Model } from '../model/types.js';
import type { DiskReading } from '../prune/gates.js';
import { type AgentState, clocksOf, loadState } from '../state/state-file.js';
import { oneShotModel } from '../streams/one-shot.js';
import { connect, idlePolicy } from './shared.js';

export interface OneShotView {
  model: Model;
  policy: IdlePolicy;
  /** The one-shot model's idle answer at `now` (the quiet period from the engine's replay). */
  idle: IdleAnswer;
  disk: DiskReading;
  /** The state file as read (never written by one-shot commands). */
  state: AgentState;
  now: number;
}

/**
 * What `status` and `plan` look at: the engine reached (exit 3 if not), the agent's saved clocks read
 * without touching the file, a model built once (the engine's replay for the quiet period, then a list),
 * and the disk holding the Docker root.
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
  const disk = await readDisk(config.diskPath ?? info.dockerRootDir);
  return { model, policy, idle: idleAnswer(model, policy, now), disk, state, now };
}
