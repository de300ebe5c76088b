import type { DockerPort } from '../docker/port.js';
import type { EngineEvent } from '../docker/types.js';
import type { RecentActivity } from '../model/types.js';
import { replayEvents } from './replay.js';

/** The latest pull and container start among replayed events, moved onto the agent's clock by `offsetMs`. */
export function latestActivity(events: EngineEvent[], offsetMs: number): RecentActivity {
  const out: RecentActivity = { kind: 'recent-activity' };
  for (const e of events) {
    const at = e.timeMs + offsetMs;
    if (e.type === 'image' && e.action === 'pull' && (!out.pull || at >= out.pull.at))
      out.pull = { at, ref: e.actorId };
    if (
      e.type === 'container' &&
      (e.action === 'start' || e.action === 'restart') &&
      (!out.containerStart || at >= out.containerStart.at)
    )
      out.containerStart = { at, id: e.actorId };
  }
  return out;
}

/**
 * What a model that starts now cannot know: pulls and container starts during the quiet period before
 * it, from the engine's replay — for the agent of `prune --now` and the one-shot model of `status` and
 * `plan` alike. The window is taken on the engine's clock (its `SystemTime`, read between two readings
 * of ours, whose midpoint gives the skew), so a skewed agent clock neither hides recent activity nor
 * hangs on an `until` in the engine's future. A replay that fails reads as busy for the quiet period:
 * a prune must not fire on activity it could not check.
 */
export async function replayRecentActivity(
  port: DockerPort,
  quietPeriodMs: number,
  now: () => number,
): Promise<RecentActivity> {
  if (quietPeriodMs <= 0) return { kind: 'recent-activity' };
  try {
    const agentBefore = now();
    const engineNow = (await port.info()).systemTime;
    const agentNow = now();
    if (engineNow === undefined) throw new Error('the engine did not say its time');
    const offset = Math.round((agentBefore + agentNow) / 2) - engineNow;
    const events = await replayEvents(port, engineNow - quietPeriodMs, engineNow);
    return latestActivity(events, offset);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      kind: 'recent-activity',
      unknown: { detail: `recent activity unknown (engine replay: ${why})`, until: now() + quietPeriodMs },
    };
  }
}
