import { setImmediate as turn } from 'node:timers/promises';
import { Subscription } from 'rxjs';

/** Lets the promises a timer started run: enough turns of the event loop for a removal's round trips. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await turn();
}

/** A scheduler whose clock the test moves; timers run in order, with the promises they start in between. */
export class ManualScheduler {
  scheduled = 0;
  private timers: Array<{ at: number; run: () => void; seq: number }> = [];
  constructor(public t: number) {}
  now = () => this.t;
  schedule(work: (state?: unknown) => void, delay = 0, state?: unknown): Subscription {
    this.scheduled++;
    const timer = { at: this.t + delay, run: () => work(state), seq: this.scheduled };
    this.timers.push(timer);
    return new Subscription(() => {
      this.timers = this.timers.filter((x) => x !== timer);
    });
  }
  /** Moves the clock to `to`, firing due timers on the way (a jump back fires nothing). */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      const next = this.timers.filter((x) => x.at <= to).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.run();
      await settle();
    }
    this.t = to;
    await settle();
  }
}
