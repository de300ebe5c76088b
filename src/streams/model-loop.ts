import { LRUCache } from 'lru-cache';
import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { DockerPort } from '../docker/port.js';
import type { EngineEvent } from '../docker/types.js';
import { apply } from '../model/apply.js';
import { createModel } from '../model/create.js';
import type { PullBudget } from '../model/images/pull-budget.js';
import type { RunPolicy } from '../model/services/stacks.js';
import type { ImageClocks, Model, ModelInput, Step, Want } from '../model/types.js';
import { Coalescer } from './coalescer.js';
import { eventKey } from './decode-event.js';
import { type EventStreamOptions, engineEvents$, message } from './engine-events.js';
import { listAll, listContainerDetails, listImageDetails } from './list-all.js';

export interface ModelLoopOptions {
  port: DockerPort;
  policy: RunPolicy;
  scheduler?: SchedulerLike;
  savedClocks?: Map<string, ImageClocks>;
  savedEngineId?: string;
  /** Pulls per registry before a `pull.budget` warning (default 200 per 6 h). */
  pullBudget?: PullBudget;
  /** Periodic full re-list and diff (default 5 min). */
  resyncMs?: number;
  /** Events held while a full list runs; past this the buffer is dropped and the list repeated. */
  bufferLimit?: number;
  stream?: Omit<EventStreamOptions, 'port' | 'scheduler'>;
}

/** One applied input: what came in, what the reducer said, and the model after it (the live instance). */
export interface Tick {
  at: number;
  input: ModelInput;
  step: Step;
  model: Model;
}

/** A handle on the running loop for code that must act on the engine in step with the model (the executor). */
export interface ModelLoop {
  ticks$: Observable<Tick>;
  /** Apply an input now (the executor announces its own removals this way). */
  push(input: ModelInput): void;
  /** Work not yet applied: refreshes queued or running, a full list in flight, events held during it. */
  queueDepth(): number;
}

/**
 * The one place that holds the live model: list-then-watch. Subscribes to the events first, lists
 * everything on every connect (and after a malformed line, a failed refresh and every `resyncMs`),
 * holds the events that arrive while a full list runs and applies them after it, de-duplicated. Between
 * full lists, events are hints: the work they ask for (lists, inspects) runs off the reading path,
 * coalesced by key. Errors in that work become inputs; nothing here stops the stream for good.
 */
export function createModelLoop(opts: ModelLoopOptions): ModelLoop {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const resyncMs = opts.resyncMs ?? 300_000;
  const bufferLimit = opts.bufferLimit ?? 10_000;
  const { port, policy } = opts;
  let pushInput: (input: ModelInput) => void = () => {};
  let depth = () => 0;

  const ticks$ = new Observable<Tick>((out) => {
    const model = createModel(opts.savedClocks, opts.savedEngineId);
    const queue = new Coalescer(scheduler);
    // Pending work includes a full list in flight and the events held back meanwhile: until both are
    // applied, the model may not show a run that has already started (the executor's barrier waits on this).
    depth = () => queue.depth + (listing ? 1 : 0) + (buffer?.length ?? 0);
    const seen = new LRUCache<string, true>({ max: 4096 });
    // Ids deleted or destroyed by an event, and when: a list that started before must not bring them back.
    const gone = new LRUCache<string, number>({ max: 4096 });
    let buffer: EngineEvent[] | undefined;
    let overflowed = false;
    let listing = false;
    let again: string | undefined;
    let resyncTimer: Subscription | undefined;
    let settleTimer: Subscription | undefined;
    let retryTimer: Subscription | undefined;
    // Lists and inspects in flight when the loop is torn down still settle: their results must not
    // be applied, nor their wants start more work on the engine.
    let closed = false;

    const push = (input: ModelInput) => {
      if (closed) return;
      const at = scheduler.now();
      const step = apply(model, input, {
        now: at,
        policy,
        ...(opts.pullBudget && { pullBudget: opts.pullBudget }),
      });
      out.next({ at, input, step, model });
      for (const want of step.wants) handle(want);
    };
    pushInput = push;

    const fail = (what: string) => (err: unknown) =>
      push({ kind: 'refresh.failed', what, message: message(err) });
    const notGoneSince = (startedAt: number) => (x: { id: string }) => (gone.get(x.id) ?? -1) < startedAt;

    const handle = (want: Want) => {
      switch (want.kind) {
        case 'resync':
          return resync(want.reason);
        case 'list-images':
          return queue.request('images', async () => {
            const startedAt = scheduler.now();
            // New images get the engine's clock, read right after /images/json, as the bound by which
            // they were stored (pull evidence); no /info when the list shows nothing new.
            let clock: Promise<number | undefined> | undefined;
            const readClock = (list: Array<{ id: string }>) => {
              if (list.some((i) => !model.images.has(i.id)))
                clock = port.info().then(
                  (i) => i.systemTime,
                  () => undefined,
                );
            };
            await listImageDetails(port, model, readClock)
              .then(async (images) => {
                const engineTimeMs = await clock;
                push({
                  kind: 'images',
                  images: images.filter(notGoneSince(startedAt)),
                  ...(engineTimeMs !== undefined && { engineTimeMs }),
                });
              })
              .catch(fail('image list'));
          });
        case 'list-containers':
          return queue.request('containers', async () => {
            const startedAt = scheduler.now();
            await listContainerDetails(port, model).then(
              (containers) =>
                push({ kind: 'containers', containers: containers.filter(notGoneSince(startedAt)) }),
              fail('container list'),
            );
          });
        case 'inspect-container':
          return queue.request(`container:${want.id}`, async () => {
            const startedAt = scheduler.now();
            await port.inspectContainer(want.id).then((container) => {
              if ((gone.get(want.id) ?? -1) >= startedAt) return;
              push({ kind: 'container', id: want.id, container });
            }, fail('container inspect'));
          });
        case 'list-services':
          return queue.request(
            'services',
            async () => {
              await Promise.all([port.listServices(), port.listTasks()]).then(
                ([services, tasks]) => push({ kind: 'services', services, tasks }),
                fail('service list'),
              );
            },
            want.delayMs,
          );
        case 'set-state-aside':
          return; // the agent's: it owns the state file and reads the wants on the ticks
        case 'settle-evictions':
          // A timer, replaced by each request: held evictions are logged once their burst is quiet.
          settleTimer?.unsubscribe();
          settleTimer = scheduler.schedule(() => push({ kind: 'evictions.settle' }), want.delayMs);
          return;
        case 'resolve-pull':
          // Coalesced per ref: one inspect answers for every pull of the ref queued before it started;
          // later ones make it run once more.
          return queue.request(`pull:${want.ref}`, async () => {
            const upTo = model.pullSeq;
            const startedAt = scheduler.now();
            await port.inspectImage(want.ref).then(
              (image) =>
                push({
                  kind: 'pull.resolved',
                  ref: want.ref,
                  image,
                  upTo,
                  ...(image && (gone.get(image.id) ?? -1) >= startedAt && { deletedSince: true }),
                }),
              (err: unknown) => {
                push({ kind: 'pull.resolved', ref: want.ref, image: null, upTo, error: message(err) });
                fail('pull inspect')(err);
              },
            );
          });
      }
    };

    const resync = (reason: string) => {
      if (listing) {
        again = again ?? reason;
        return;
      }
      if (!model.sync.connected) return; // the next connect lists anyway
      listing = true;
      buffer = [];
      overflowed = false;
      const startedAt = scheduler.now();
      listAll(port, model).then(
        (snapshot) => {
          if (closed) return;
          const held = buffer ?? [];
          buffer = undefined;
          listing = false;
          snapshot.images = snapshot.images.filter(notGoneSince(startedAt));
          snapshot.containers = snapshot.containers.filter(notGoneSince(startedAt));
          push({ kind: 'snapshot', snapshot, reason, startedAt });
          for (const event of held) applyEvent(event);
          if (again) {
            const next = again;
            again = undefined;
            resync(next);
          }
        },
        (err: unknown) => {
          if (closed) return;
          const held = buffer ?? [];
          buffer = undefined;
          listing = false;
          again = undefined;
          for (const event of held) applyEvent(event);
          // refresh.failed asks for another resync: space it out so a sick engine is not hammered.
          retryTimer?.unsubscribe();
          retryTimer = scheduler.schedule(() => fail('full list')(err), 5_000);
        },
      );
    };

    const applyEvent = (event: EngineEvent) => {
      const key = eventKey(event);
      if (seen.has(key)) return; // replayed by `since` after a reconnect (since is inclusive)
      seen.set(key, true);
      if (
        (event.type === 'image' && event.action === 'delete') ||
        (event.type === 'container' && event.action === 'destroy')
      ) {
        gone.set(event.actorId, scheduler.now());
      }
      push({ kind: 'event', event });
    };

    const events = engineEvents$({ ...opts.stream, port, scheduler }).subscribe((signal) => {
      switch (signal.kind) {
        case 'event':
          if (!buffer) return applyEvent(signal.event);
          if (buffer.length < bufferLimit) buffer.push(signal.event);
          else if (!overflowed) {
            overflowed = true;
            // The list in flight can no longer be the truth: say so now, and list again after it.
            push({ kind: 'overflow', limit: bufferLimit });
          }
          return;
        case 'up':
          return push({ kind: 'stream.up', attempt: signal.attempt });
        case 'down':
          return push({
            kind: 'stream.down',
            reason: signal.reason,
            ...(signal.code && { code: signal.code }),
            retryInMs: signal.retryInMs,
            attempt: signal.attempt,
          });
        case 'malformed':
          return push({ kind: 'malformed', reason: signal.reason, sample: signal.sample });
      }
    });

    const periodic = () => {
      resync('periodic');
      resyncTimer = scheduler.schedule(periodic, resyncMs);
    };
    resyncTimer = scheduler.schedule(periodic, resyncMs);

    return () => {
      closed = true;
      events.unsubscribe();
      resyncTimer?.unsubscribe();
      settleTimer?.unsubscribe();
      retryTimer?.unsubscribe();
      queue.close();
      pushInput = () => {};
    };
  });

  return { ticks$, push: (input) => pushInput(input), queueDepth: () => depth() };
}
