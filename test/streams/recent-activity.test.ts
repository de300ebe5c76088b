import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../src/docker/types.js';
import { activityBusy } from '../../src/streams/recent-activity.js';

const ev = (type: string, action: string, actorId: string, timeMs: number, name?: string): EngineEvent => ({
  type,
  action,
  actorId,
  attributes: name ? { name } : {},
  scope: 'local',
  timeMs,
  timeNano: `${timeMs}000000`,
});
const T = Date.parse('2025-06-02T10:00:00Z');
const M = 60_000;

describe('activityBusy', () => {
  it('reports the latest pull and container start still inside the quiet period', () => {
    const events = [
      ev('image', 'pull', 'app:1', T - 4 * M),
      ev('image', 'pull', 'app:2', T - 2 * M),
      ev('container', 'start', 'c1', T - 3 * M, 'web'),
      ev('container', 'die', 'c1', T - M, 'web'),
    ];
    const busy = activityBusy(events, 5 * M, 0, T);
    assert.deepEqual(busy, [
      {
        reason: 'recent-pull',
        ref: 'app:2',
        at: '2025-06-02T09:58:00.000Z',
        quietUntil: '2025-06-02T10:03:00.000Z',
      },
      {
        reason: 'recent-container-start',
        container: 'web',
        at: '2025-06-02T09:57:00.000Z',
        quietUntil: '2025-06-02T10:02:00.000Z',
      },
    ]);
  });

  it("moves engine times onto the agent's clock: a pull a minute ago is recent however skewed the clocks", () => {
    const events = [ev('image', 'pull', 'app:1', T - M)];
    const ahead = 25 * 3600_000;
    const busy = activityBusy(events, 5 * M, ahead, T + ahead);
    assert.equal(busy.length, 1);
    assert.equal(busy[0]?.reason === 'recent-pull' && busy[0].at, new Date(T + ahead - M).toISOString());
    assert.deepEqual(activityBusy(events, 5 * M, 0, T + 6 * M), [], 'quiet again after the period');
  });
});
