import type { SchedulerLike, Subscription } from 'rxjs';

/** Never sleep longer than this, so a wall clock that jumps is noticed within the hour. */
export const MAX_SLEEP_MS = 3_600_000;
/** Never wake sooner than this: no busy loop whatever the clock does. */
export const MIN_SLEEP_MS = 1_000;

/**
 * One pending wake-up for a loop that sleeps until a wall-clock instant. `wakeAt(at)` keeps an earlier
 * pending wake-up and replaces a later one; the sleep is clamped to [1 s, 1 h] so neither a clock that
 * jumps back nor one that jumps forward makes it spin or oversleep.
 */
export function createWakeTimer(scheduler: SchedulerLike, onWake: () => void) {
  let timer: Subscription | undefined;
  let timerAt: number | undefined;
  return {
    wakeAt(at: number): void {
      const now = scheduler.now();
      const delay = Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, at - now));
      if (timer && timerAt !== undefined && timerAt <= now + delay && timerAt > now) return;
      timer?.unsubscribe();
      timerAt = now + delay;
      timer = scheduler.schedule(() => {
        timer = undefined;
        timerAt = undefined;
        onWake();
      }, delay);
    },
    pending: () => timer !== undefined,
    cancel(): void {
      timer?.unsubscribe();
      timer = undefined;
      timerAt = undefined;
    },
  };
}
