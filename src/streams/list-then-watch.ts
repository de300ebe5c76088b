import { LRUCache } from 'lru-cache';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { DockerPort } from '../docker/port.js';
import type { EngineEvent } from '../docker/types.js';
import { apply } from '../model/apply.js';
import { createModel } from '../model/create.js';
import type { PullBudget } from '../model/images/pull-budget.js';
import type { RunPolicy } from '../model/services/stacks.js';
import type { ImageClocks, Model, ModelInput, Step, Want } from '../model/types.js';
import { Coalescer } from './coalescer.js';
import { eventKey } from './decode-event.js';
import { type EventStreamOptions, type StreamSignal, engineEvents$, message } from './engine-events.js';
import { listAll } from './list-all.js';
import { requestRefresh } from './refresh-work.js';

/** One applied input: what came in, what the reducer said, and the model after it (the live instance). */
export interface Tick {
  at: number;
  input: ModelInput;
  step: Step;
  model: Model;
}

export interface ListThenWatchOptions {
  port: DockerPort;
  policy: RunPolicy;
  scheduler: SchedulerLike;
  savedClocks?: Map<string, ImageClocks> | undefined;
  savedEngineId?: string | undefined;
  pullBudget?: PullBudget | undefined;
  resyncMs: number;
  bufferLimit: number;
  stream?: Omit<EventStreamOptions, 'port' | 'scheduler'> | undefined;
}

/**
 * Where list-then-watch stands. `connecting`: no events stream yet (a connect always lists, so no list
 * is started); `watching`: events applied as they come; `listing`: a full list in flight, the events
 * that arrive held back to be applied after it; `overflowed`: the same, but the held events passed the
 * limit, so the list cannot be the truth and another follows; `retry-wait`: a full list failed, and the
 * next attempt is spaced out so that a sick engine is not hammered (events are applied meanwhile).
 */
export type ListThenWatchState = 'connecting' | 'watching' | 'listing' | 'overflowed' | 'retry-wait';

/** A full list under way: when it started, the events held meanwhile, and the reason of a list asked for during it. */
interface Listing {
  startedAt: number;
  held: EngineEvent[];
  overflowed: boolean;
  /** A resync asked for while this list ran: it runs once this one is applied. */
  again?: string;
}

/** Spacing between a failed full list and the `refresh.failed` that asks for the next one. */
export const LIST_RETRY_MS = 5_000;

/**
 * One run of list-then-watch (one subscription of the model loop): it owns the live model and every
 * timer around it. Subscribes to the events first, lists everything on every connect (and after a
 * malformed line, a failed refresh and every `resyncMs`), holds the events that arrive while a full
 * list runs and applies them after it, de-duplicated. Between full lists, events are hints: the work
 * they ask for (lists, inspects) runs off the reading path, coalesced by key. Errors in that work
 * become inputs; nothing here stops the stream for good.
 */
export class ListThenWatch {
  readonly model: Model;
  private readonly queue: Coalescer;
  /** Events applied, by key: `since` replays after a reconnect (it is inclusive). */
  private readonly seen = new LRUCache<string, true>({ max: 4096 });
  /** Ids deleted or destroyed by an event, and when: a list that started before must not bring them back. */
  private readonly gone = new LRUCache<string, number>({ max: 4096 });
  private listing: Listing | undefined;
  private readonly timers: {
    periodicRelist?: Subscription;
    retrySpacing?: Subscription;
    settleEvictions?: Subscription;
  } = {};
  private events: Subscription | undefined;
  /**
   * Lists and inspects in flight when the run is torn down still settle: their results must not be
   * applied, nor their wants start more work on the engine.
   */
  private closed = false;

  constructor(
    private readonly opts: ListThenWatchOptions,
    private readonly out: { next(tick: Tick): void },
  ) {
    this.model = createModel(opts.savedClocks, opts.savedEngineId);
    this.queue = new Coalescer(opts.scheduler);
  }

  /** Connect: the events stream (its connects, losses and lines come in as signals), and the periodic relist. */
  start(): void {
    const { port, scheduler, resyncMs } = this.opts;
    this.events = engineEvents$({ ...this.opts.stream, port, scheduler }).subscribe((s) => this.signal(s));
    const periodic = () => {
      this.resync('periodic');
      this.timers.periodicRelist = scheduler.schedule(periodic, resyncMs);
    };
    this.timers.periodicRelist = scheduler.schedule(periodic, resyncMs);
  }

  state(): ListThenWatchState {
    if (this.listing) return this.listing.overflowed ? 'overflowed' : 'listing';
    if (!this.model.sync.connected) return 'connecting';
    return this.timers.retrySpacing ? 'retry-wait' : 'watching';
  }

  /**
   * Pending work: refreshes queued or running, a full list in flight and the events held back meanwhile.
   * Until both are applied the model may not show a run that has already started (the executor's
   * barrier waits on this).
   */
  depth(): number {
    return this.queue.depth + (this.listing ? 1 + this.listing.held.length : 0);
  }

  /** Applies one input to the model, emits the tick, and does what the reducer wants. */
  push(input: ModelInput): void {
    if (this.closed) return;
    const at = this.opts.scheduler.now();
    const step = apply(this.model, input, {
      now: at,
      policy: this.opts.policy,
      ...(this.opts.pullBudget && { pullBudget: this.opts.pullBudget }),
    });
    this.out.next({ at, input, step, model: this.model });
    for (const want of step.wants) this.want(want);
  }

  close(): void {
    this.closed = true;
    this.events?.unsubscribe();
    for (const t of Object.values(this.timers)) t?.unsubscribe();
    this.queue.close();
  }

  private want(want: Want) {
    switch (want.kind) {
      case 'resync':
        return this.resync(want.reason);
      case 'set-state-aside':
        return; // the agent's: it owns the state file and reads the wants on the ticks
      case 'settle-evictions':
        // A timer, replaced by each request: held evictions are logged once their burst is quiet.
        this.timers.settleEvictions?.unsubscribe();
        this.timers.settleEvictions = this.opts.scheduler.schedule(
          () => this.push({ kind: 'evictions.settle' }),
          want.delayMs,
        );
        return;
      default: {
        const { port, scheduler } = this.opts;
        const { model, queue, gone } = this;
        return requestRefresh(want, { port, scheduler, model, queue, gone, push: (i) => this.push(i) });
      }
    }
  }

  private signal(signal: StreamSignal) {
    switch (signal.kind) {
      case 'event':
        return this.event(signal.event);
      case 'up':
        return this.push({ kind: 'stream.up', attempt: signal.attempt });
      case 'down':
        return this.push({
          kind: 'stream.down',
          reason: signal.reason,
          ...(signal.code && { code: signal.code }),
          retryInMs: signal.retryInMs,
          attempt: signal.attempt,
        });
      case 'malformed':
        return this.push({ kind: 'malformed', reason: signal.reason, sample: signal.sample });
    }
  }

  /** watching: applied now; listing: held; overflowed: dropped (the list after this one brings it). */
  private event(event: EngineEvent) {
    const listing = this.listing;
    if (!listing) return this.applyEvent(event);
    if (listing.held.length < this.opts.bufferLimit) listing.held.push(event);
    else if (!listing.overflowed) {
      listing.overflowed = true;
      // The list in flight can no longer be the truth: say so now, and list again after it.
      this.push({ kind: 'overflow', limit: this.opts.bufferLimit });
    }
  }

  private applyEvent(event: EngineEvent): void {
    const key = eventKey(event);
    if (this.seen.has(key)) return;
    this.seen.set(key, true);
    if (
      (event.type === 'image' && event.action === 'delete') ||
      (event.type === 'container' && event.action === 'destroy')
    )
      this.gone.set(event.actorId, this.opts.scheduler.now());
    this.push({ kind: 'event', event });
  }

  /** To `listing`, unless one runs already (then once more after it) or there is no stream to list beside. */
  private resync(reason: string): void {
    if (this.listing) {
      this.listing.again ??= reason;
      return;
    }
    if (!this.model.sync.connected) return; // connecting: the next connect lists anyway
    const listing: Listing = { startedAt: this.opts.scheduler.now(), held: [], overflowed: false };
    this.listing = listing;
    listAll(this.opts.port, this.model).then(
      (snapshot) => {
        if (this.closed) return;
        this.listing = undefined;
        const notGone = (x: { id: string }) => (this.gone.get(x.id) ?? -1) < listing.startedAt;
        snapshot.images = snapshot.images.filter(notGone);
        snapshot.containers = snapshot.containers.filter(notGone);
        this.push({ kind: 'snapshot', snapshot, reason, startedAt: listing.startedAt });
        for (const event of listing.held) this.applyEvent(event);
        if (listing.again) this.resync(listing.again);
      },
      (err: unknown) => {
        if (this.closed) return;
        this.listing = undefined;
        for (const event of listing.held) this.applyEvent(event);
        // To `retry-wait`: refresh.failed asks for another resync, spaced out.
        this.timers.retrySpacing?.unsubscribe();
        this.timers.retrySpacing = this.opts.scheduler.schedule(() => {
          this.timers.retrySpacing = undefined;
          this.push({ kind: 'refresh.failed', what: 'full list', message: message(err) });
        }, LIST_RETRY_MS);
      },
    );
  }
}
