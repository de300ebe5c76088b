import { VirtualTimeScheduler } from 'rxjs';

/**
 * Virtual time for stream tests: `advanceTo` runs scheduled actions one at a time, in time order, and
 * lets promise callbacks settle between them, so code mixing timers and promises (pings, lists) runs as
 * it would in real time, only instantly.
 */
export class VirtualClock {
  readonly scheduler = new VirtualTimeScheduler();

  now(): number {
    return this.scheduler.now();
  }

  async advanceTo(t: number): Promise<void> {
    const s = this.scheduler;
    for (;;) {
      await settle();
      const next = s.actions[0];
      if (!next || (next.delay ?? 0) > t) break;
      s.maxFrames = next.delay ?? 0;
      s.flush();
    }
    if (s.frame < t) s.frame = t;
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.now() + ms);
  }
}

/** Lets pending promise callbacks (and the ones they schedule) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
