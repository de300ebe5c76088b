import type { LRUCache } from 'lru-cache';
import type { SchedulerLike } from 'rxjs';
import type { DockerPort } from '../docker/port.js';
import type { Model, ModelInput, Want } from '../model/types.js';
import type { Coalescer } from './coalescer.js';
import { message } from './engine-events.js';
import { listContainerDetails, listImageDetails } from './list-all.js';

/** The refreshes an event asks for between full lists: what the reducer wants, done off the reading path. */
export type RefreshWant = Extract<
  Want,
  {
    kind:
      | 'list-images'
      | 'list-containers'
      | 'inspect-container'
      | 'inspect-image'
      | 'list-services'
      | 'resolve-pull';
  }
>;

export interface RefreshContext {
  port: DockerPort;
  scheduler: SchedulerLike;
  model: Model;
  queue: Coalescer;
  /** Ids deleted or destroyed by an event, and when: a refresh that started before must not bring them back. */
  gone: LRUCache<string, number>;
  push(input: ModelInput): void;
}

/**
 * Queues one refresh, coalesced by key (a request while the key's task runs makes it run once more).
 * Its answer, or its failure (`refresh.failed`), comes back as an input: nothing here throws.
 */
export function requestRefresh(want: RefreshWant, ctx: RefreshContext) {
  const { port, scheduler, model, queue, gone, push } = ctx;
  const fail = (what: string) => (err: unknown) =>
    push({ kind: 'refresh.failed', what, message: message(err) });
  const notGoneSince = (startedAt: number) => (x: { id: string }) => (gone.get(x.id) ?? -1) < startedAt;
  switch (want.kind) {
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
    case 'inspect-image':
      return queue.request(`image:${want.id}`, async () => {
        const startedAt = scheduler.now();
        await port.inspectImage(want.id).then((image) => {
          if ((gone.get(want.id) ?? -1) >= startedAt) return;
          push({ kind: 'image', id: want.id, image, engineTimeMs: want.eventTimeMs });
        }, fail('image inspect'));
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
}
