import type { DockerPort } from '../docker/port.js';
import type { EngineEvent } from '../docker/types.js';
import { type BusyReason, quietReasons } from '../model/idle.js';
import { replayEvents } from './replay.js';

/**
 * Quiet-period reasons from replayed events: the latest pull and container start, their engine times
 * moved onto the agent's clock by `offsetMs` (agent − engine), still busy when within `quietPeriodMs`.
 */
export function activityBusy(
  events: EngineEvent[],
  quietPeriodMs: number,
  offsetMs: number,
  now: number,
): BusyReason[] {
  let pull: { at: number; ref: string } | undefined;
  let start: { at: number; name: string } | undefined;
  for (const e of events) {
    const at = e.timeMs + offsetMs;
    if (e.type === 'image' && e.action === 'pull' && (!pull || at >= pull.at)) pull = { at, ref: e.actorId };
    if (
      e.type === 'container' &&
      (e.action === 'start' || e.action === 'restart') &&
      (!start || at >= start.at)
    )
      start = { at, name: e.attributes.name ?? e.actorId };
  }
  return quietReasons({ ...(pull && { pull }), ...(start && { containerStart: start }) }, quietPeriodMs, now);
}

/**
 * What a freshly started loop cannot know: pulls and container starts during the quiet period before
 * it connected, from the engine's replay. The window is taken on the engine's clock (its `SystemTime`),
 * so a skewed agent clock neither hides recent activity nor hangs on an `until` in the engine's future.
 * A replay that fails reads as busy: a prune must not fire on activity it could not check.
 */
export async function recentActivity(
  port: DockerPort,
  quietPeriodMs: number,
  now: () => number,
): Promise<BusyReason[]> {
  if (quietPeriodMs <= 0) return [];
  try {
    const agentBefore = now();
    const engineNow = (await port.info()).systemTime;
    const agentNow = now();
    if (engineNow === undefined) throw new Error('the engine did not say its time');
    const offset = Math.round((agentBefore + agentNow) / 2) - engineNow;
    const events = await replayEvents(port, engineNow - quietPeriodMs, engineNow);
    return activityBusy(events, quietPeriodMs, offset, now());
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return [{ reason: 'out-of-sync', detail: `recent activity unknown (engine replay: ${why})` }];
  }
}
