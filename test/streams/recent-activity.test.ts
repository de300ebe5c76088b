import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../src/docker/types.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { idleAnswer } from '../../src/model/idle.js';
import type { Model } from '../../src/model/types.js';
import { latestActivity, replayRecentActivity } from '../../src/streams/recent-activity.js';
import { container, FakePort } from './fake-port.js';

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
const policy = (quietPeriodMs: number) => ({ runStack: /.*/, quietPeriodMs });

/** A model that knows container c1 as `web` (from its list), given the replayed activity. */
function modelWith(events: EngineEvent[], offsetMs: number, now: number): Model {
  const model = createModel();
  model.sync = { inSync: true, connected: true };
  model.containers.set('c1', { id: 'c1', name: 'web', imageId: '', state: 'exited', created: 0 });
  apply(model, latestActivity(events, offsetMs), { now, policy: policy(5 * M) });
  return model;
}

describe('the replay of recent activity (one for prune --now and the one-shot commands)', () => {
  it('reports the latest pull and container start still inside the quiet period', () => {
    const events = [
      ev('image', 'pull', 'app:1', T - 4 * M),
      ev('image', 'pull', 'app:2', T - 2 * M),
      ev('container', 'start', 'c1', T - 3 * M, 'spoofed-by-a-label'),
      ev('container', 'die', 'c1', T - M, 'web'),
    ];
    const busy = idleAnswer(modelWith(events, 0, T), policy(5 * M), T).busy;
    assert.deepEqual(busy, [
      {
        reason: 'recent-pull',
        ref: 'app:2',
        at: Date.parse('2025-06-02T09:58:00.000Z'),
        quietUntil: Date.parse('2025-06-02T10:03:00.000Z'),
      },
      {
        reason: 'recent-container-start',
        container: 'web',
        at: Date.parse('2025-06-02T09:57:00.000Z'),
        quietUntil: Date.parse('2025-06-02T10:02:00.000Z'),
      },
    ]);
  });

  it("moves engine times onto the agent's clock: a pull a minute ago is recent however skewed the clocks", () => {
    const events = [ev('image', 'pull', 'app:1', T - M)];
    const ahead = 25 * 3600_000;
    const busy = idleAnswer(modelWith(events, ahead, T + ahead), policy(5 * M), T + ahead).busy;
    assert.equal(busy.length, 1);
    assert.equal(busy[0]?.reason === 'recent-pull' && busy[0].at, T + ahead - M);
    const later = T + 6 * M;
    assert.deepEqual(idleAnswer(modelWith(events, 0, later), policy(5 * M), later).busy, [], 'quiet again');
  });

  it('reads the skew between two readings of the agent clock around /info, on a real replay', async () => {
    const port = new FakePort(() => T);
    const c = container(1, 'sha256:x');
    port.containers.set(c.id, c);
    // The engine's clock is an hour behind: its replay of the last 5 min is asked in its own time.
    const engineNow = T - 3600_000;
    port.info = async () => ({ ...(await FakePort.prototype.info.call(port)), systemTime: engineNow });
    let asked: { since?: string; until?: string } | undefined;
    port.onConnect = (conn) => {
      asked = conn.query;
      conn.sub.next({ kind: 'open' });
      const line = { Type: 'image', Action: 'pull', Actor: { ID: 'app:9', Attributes: {} }, scope: 'local' };
      const nano = BigInt(engineNow - M) * 1_000_000n;
      conn.sub.next({
        kind: 'data',
        chunk: Buffer.from(
          `${JSON.stringify({ ...line, time: Number(nano / 1_000_000_000n) }).slice(0, -1)},"timeNano":${nano}}\n`,
        ),
      });
      conn.sub.complete();
    };
    let reads = 0;
    const recent = await replayRecentActivity(port, 5 * M, () => T + reads++ * 10);
    assert.equal(asked?.until?.startsWith(String(Math.floor(engineNow / 1000))), true, JSON.stringify(asked));
    assert.equal(recent.pull?.ref, 'app:9');
    assert.equal(recent.pull?.at, T + 5 - M, 'engine time + (midpoint of the two readings − engine now)');
  });

  it('a replay that fails reads as busy (out of sync) for the quiet period, then no longer', async () => {
    const port = new FakePort(() => T);
    const recent = await replayRecentActivity(port, 5 * M, () => T);
    assert.match(
      recent.unknown?.detail ?? '',
      /recent activity unknown \(engine replay: the engine did not say its time\)/,
    );
    const model = createModel();
    model.sync = { inSync: true, connected: true };
    apply(model, recent, { now: T, policy: policy(5 * M) });
    assert.equal(idleAnswer(model, policy(5 * M), T).busy[0]?.reason, 'out-of-sync');
    assert.equal(idleAnswer(model, policy(5 * M), T + 5 * M).idle, true);
  });
});
