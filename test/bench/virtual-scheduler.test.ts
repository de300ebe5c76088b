import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualScheduler } from '../../bench/virtual-scheduler.js';

describe('VirtualScheduler (the weeks benchmark clock)', () => {
  it('fires timers in time order, then in the order they were armed, with the clock at each', async () => {
    const s = new VirtualScheduler(1000);
    const fired: Array<[string, number]> = [];
    s.schedule(() => fired.push(['b', s.now()]), 50);
    s.schedule(() => fired.push(['a', s.now()]), 10);
    s.schedule(() => fired.push(['c', s.now()]), 50);
    await s.advanceTo(1040);
    assert.deepEqual(fired, [['a', 1010]]);
    assert.equal(s.now(), 1040);
    await s.advanceTo(2000);
    assert.deepEqual(fired, [
      ['a', 1010],
      ['b', 1050],
      ['c', 1050],
    ]);
  });

  it('lets the promises a timer starts settle before the next timer fires', async () => {
    const s = new VirtualScheduler(0);
    const order: string[] = [];
    s.schedule(() => {
      void Promise.resolve()
        .then(() => new Promise<void>((r) => setImmediate(r)))
        .then(() => order.push('first timer promise'));
    }, 1);
    s.schedule(() => order.push('second timer'), 2);
    await s.advanceTo(10);
    assert.deepEqual(order, ['first timer promise', 'second timer']);
  });

  it('a cancelled timer never fires; an action that re-arms itself keeps one timer', async () => {
    const s = new VirtualScheduler(0);
    let cancelled = 0;
    s.schedule(() => cancelled++, 5).unsubscribe();
    let runs = 0;
    const sub = s.schedule(function again(this: { schedule(state?: unknown, delay?: number): void }) {
      runs++;
      this.schedule(undefined, 10);
    }, 10);
    await s.advanceTo(1000);
    assert.equal(cancelled, 0);
    assert.equal(runs, 100);
    assert.ok(s.pending <= 2, `timers held: ${s.pending}`);
    sub.unsubscribe();
    await s.advanceTo(2000);
    assert.equal(runs, 100);
  });
});
