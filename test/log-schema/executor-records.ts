/**
 * Records the prune executor (src/prune/executor.ts) really emits, logged through the agent's logger as
 * `prune --now` does (context `{ trigger: 'now' }`), over the scripted model and port of test/prune:
 * removals, every kind of skip, a dry run, a host that turns busy, the low-water mark (known and unknown
 * disk), the engine's own prune holding the lock, a stop request, and a second run refused; and an
 * image whose digest refs span repositories: removed by its refs, refused midway, stopped midway.
 */
import { writeRecord } from '../../src/records/log-records.js';
import { createExecutor, type ExecuteRequest } from '../../src/prune/executor.js';
import type { DiskReading } from '../../src/prune/gates.js';
import { planPrune } from '../../src/prune/plan.js';
import { captureLogger } from '../log/capture.js';
import {
  container,
  fakePort,
  H,
  image,
  liveOf,
  modelOf,
  resnapshot,
  service,
  type World,
  diskAt,
} from '../prune/world.js';

const NOW = Date.parse('2025-06-02T01:00:00Z');
const policy = { minAgeMs: 24 * H };
const disk = diskAt;

/** Old digest-only images, one tagged base, and a container of the base stopped 30 h ago. */
const world = (): World => ({
  images: ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => image(n)).concat(image('base', { tags: ['base:1'] })),
  containers: [container('done', 'base', 'exited', NOW - 30 * H)],
});

export async function executorRecords(): Promise<Array<Record<string, unknown>>> {
  const { logger, records } = captureLogger();
  const setup = (disks: DiskReading[] = []) => {
    const model = modelOf(world(), NOW, 30 * H, { 'sha256:a': 40 * H });
    const live = liveOf(model, () => NOW);
    const port = fakePort();
    const executor = createExecutor({
      port,
      live,
      log: (note) => writeRecord(logger, note),
      now: () => NOW,
      readDisk: async () => disks.shift() ?? disk(90),
    });
    const request = (extra: Partial<ExecuteRequest> = {}): ExecuteRequest => ({
      plan: planPrune(model, policy, NOW),
      policy,
      dryRun: false,
      context: { trigger: 'now' },
      ...extra,
    });
    return { model, live, port, executor, request };
  };

  // Removals and every skip: no longer eligible, gone from the model, 404, 409, a throwing port.
  {
    const { model, port, executor, request } = setup();
    port.buildCacheReclaimed = 4096;
    const plan = request().plan;
    const w = world();
    resnapshot(
      model,
      {
        images: (w.images ?? []).filter((i) => i.id !== 'sha256:b'),
        containers: [...(w.containers ?? []), container('new', 'c', 'created')],
      },
      NOW,
    );
    port.outcomes.set('sha256:d', { kind: 'gone' });
    port.outcomes.set('sha256:e', {
      kind: 'conflict',
      message:
        'conflict: unable to delete e (must be forced) - image is being used by stopped container 0b1c',
    });
    port.outcomes.set('sha256:f', new Error('socket hang up'));
    await executor.execute(request({ plan }));
  }

  // A dry run: what would go, the build cache without bytes, and an image no longer eligible.
  {
    const { model, executor, request } = setup();
    const plan = request().plan;
    const w = world();
    resnapshot(model, { ...w, containers: [...(w.containers ?? []), container('new', 'c', 'created')] }, NOW);
    await executor.execute(request({ plan, dryRun: true }));
  }

  // The host turns busy after the first removal: aborted with the reasons.
  {
    const { model, port, executor, request } = setup();
    port.after = (call) => {
      if (call === 'container c-done')
        resnapshot(model, { ...world(), services: [service('ci-7', 'app:1', 1, 0)] }, NOW);
    };
    await executor.execute(request());
  }

  // The low-water mark: reached, then a disk that cannot be read any more.
  {
    const { executor, request } = setup([disk(70), disk(55)]);
    await executor.execute(request({ diskLowPercent: 60 }));
    const unknown = setup([disk(70), { path: '/var/lib/docker', ok: false, reason: 'EACCES' }]);
    await unknown.executor.execute(unknown.request({ diskLowPercent: 60, dryRun: true }));
  }

  // The engine's own prune holds the lock (retryable); the agent stopping; a second run refused.
  {
    const { port, executor, request } = setup();
    port.outcomes.set('sha256:a', { kind: 'conflict', message: 'a prune operation is already running' });
    await executor.execute(request());
    const stopping = setup();
    let calls = 0;
    await stopping.executor.execute(stopping.request({ stopRequested: () => ++calls > 2 }));
    const busy = setup();
    let second: Promise<unknown> | undefined;
    busy.port.after = () => {
      second ??= busy.executor.execute(busy.request());
    };
    await busy.executor.execute(busy.request());
    await second;
  }
  // An image pulled by digest under two names: removed by its refs (and so in a dry run), the last ref
  // refused (409) after the first was untagged, and the host turning busy between the two.
  {
    const digest = `sha256:${'d'.repeat(64)}`;
    const refs = [`lw/a@${digest}`, `lw/b@${digest}`] as const;
    const multi = (digests: string[] = [...refs]): World => ({ images: [image('m', { digests })] });
    const run = async (o: { last?: 'refused' | 'busy'; dryRun?: boolean } = {}) => {
      const model = modelOf(multi(), NOW, 30 * H);
      const port = fakePort();
      port.outcomes.set(refs[0], { kind: 'untagged' });
      if (o.last === 'refused')
        port.outcomes.set(refs[1], {
          kind: 'conflict',
          message: `conflict: unable to remove repository reference "${refs[1]}" (must force) - container 0b1c is using its referenced image m`,
        });
      port.after = (call) => {
        if (call !== `image ${refs[0]}`) return;
        const w = multi([refs[1]]);
        resnapshot(model, o.last === 'busy' ? { ...w, services: [service('ci-7', 'app:1', 1, 0)] } : w, NOW);
      };
      const executor = createExecutor({
        port,
        live: liveOf(model, () => NOW),
        log: (note) => writeRecord(logger, note),
        now: () => NOW,
        readDisk: async () => disk(90),
      });
      const plan = planPrune(model, policy, NOW);
      await executor.execute({ plan, policy, dryRun: o.dryRun === true, context: { trigger: 'now' } });
    };
    await run();
    await run({ dryRun: true });
    await run({ last: 'refused' });
    await run({ last: 'busy' });
  }
  return records;
}
