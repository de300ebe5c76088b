/**
 * Virtual time for runs that cover weeks in minutes (bench/weeks-child.ts): an RxJS scheduler whose clock
 * only moves when the driver says so. Timers sit in a binary heap (the agent re-arms its watchdog, idle
 * and save timers thousands of times a day: a sorted array would cost O(n) per timer); a cancelled timer
 * is dropped when it reaches the top. Between two timers the promises they started get a few turns of
 * the event loop, so code mixing timers and promises (pings, lists, the executor) runs as in real time.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';

interface Timer {
  at: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class VirtualScheduler implements SchedulerLike {
  private heap: Timer[] = [];
  private seq = 0;
  constructor(private t: number) {}

  now = (): number => this.t;

  /** Timers waiting (cancelled ones not yet dropped included): bounded when the agent's timers are. */
  get pending(): number {
    return this.heap.length;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    // One slot per action: an action that re-arms itself (the agent's save timer) replaces its timer.
    let current: Timer | undefined;
    const sub = new Subscription(() => {
      if (current) current.cancelled = true;
    });
    const action = Object.assign(sub, {
      schedule: (next?: T, nextDelay = 0) => {
        arm(next, nextDelay);
        return action;
      },
    }) as unknown as SchedulerAction<T>;
    const arm = (s: T | undefined, d: number) => {
      if (current) current.cancelled = true;
      const timer: Timer = { at: this.t + Math.max(0, d), seq: this.seq++, run: () => {}, cancelled: false };
      timer.run = () => work.call(action, s);
      current = timer;
      this.push(timer);
    };
    arm(state, delay);
    return sub;
  }

  /** Moves the clock to `to`, firing due timers in order with their promises settled in between. */
  async advanceTo(to: number, turns = 3): Promise<void> {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > to) break;
      this.pop();
      if (top.cancelled) continue;
      this.t = Math.max(this.t, top.at);
      top.run();
      for (let i = 0; i < turns; i++) await turn();
    }
    this.t = Math.max(this.t, to);
    for (let i = 0; i < turns; i++) await turn();
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Timer, h[p] as Timer)) break;
      [h[i], h[p]] = [h[p] as Timer, h[i] as Timer];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Timer;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as Timer, h[m] as Timer)) m = l;
      if (r < h.length && before(h[r] as Timer, h[m] as Timer)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Timer, h[i] as Timer];
      i = m;
    }
  }
}
