import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * Runs tasks by key, one at a time per key, coalescing requests: a request while the key's task runs
 * marks it dirty and it runs once more afterwards, however many requests came. Memory is bounded by
 * keys, not by requests (client-go's work queue, in miniature).
 */
export class Coalescer {
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, Subscription>();
  private closed = false;

  constructor(private readonly scheduler: SchedulerLike) {}

  request(key: string, task: () => Promise<void>, delayMs = 0): void {
    if (this.closed) return;
    if (delayMs > 0) {
      // Not dropped while the key's task runs: a poll is usually asked for by that very task's result
      // (a services list that finds a service still converging asks for the next look).
      if (this.delayed.has(key)) return;
      this.delayed.set(
        key,
        this.scheduler.schedule(() => {
          this.delayed.delete(key);
          this.request(key, task);
        }, delayMs),
      );
      return;
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.running.add(key);
    task().finally(() => {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.request(key, task);
    });
  }

  /** Keys with a task running or waiting (for metrics and tests). */
  get depth(): number {
    return this.running.size + this.dirty.size + this.delayed.size;
  }

  close(): void {
    this.closed = true;
    for (const t of this.delayed.values()) t.unsubscribe();
    this.delayed.clear();
  }
}
