/**
 * Records the boundary runner (src/agent/boundary-runner.ts) really emits, logged through the agent's
 * logger, over the scripted model and port of test/prune and a scheduler whose clock this file moves:
 * windows that close busy or while the agent was down, decisions that fire (on, dry run, off, a retry
 * after the engine's own prune) or not (disk low, disk unknown, 51+ candidates, the containerd image
 * store without the opt-in), a retry whose window
 * closes first, and an evaluation that throws.
 */
import { type SchedulerLike, Subject } from 'rxjs';
import { createPruneBook } from '../../src/agent/prune-book.js';
import { type BoundaryRunnerOptions, startBoundaryRunner } from '../../src/agent/boundary-runner.js';
import { logRecords } from '../../src/records/log-records.js';
import { createRecordStream } from '../../src/records/record-stream.js';
import { apply } from '../../src/model/apply.js';
import { idleAnswer } from '../../src/model/idle.js';
import { parseSchedule } from '../../src/prune/schedule.js';
import type { AgentState } from '../../src/state/state-file.js';
import type { Tick } from '../../src/streams/model-loop.js';
import { captureLogger } from '../log/capture.js';
import {
  type FakePort,
  fakePort,
  H,
  image,
  modelOf,
  POLICY,
  resnapshot,
  service,
  type World,
  diskAt,
} from '../prune/world.js';
import { ManualScheduler, settle } from '../agent/manual-scheduler.js';

const at = (iso: string) => Date.parse(iso);

const disk = diskAt;
const oldImages: World = { images: [image('a'), image('b')] };
const busy = (w: World): World => ({ ...w, services: [service('ci-1', 'app:1', 1, 0)] });

export async function boundaryRecords(): Promise<Array<Record<string, unknown>>> {
  const { logger, records } = captureLogger();

  /** A runner from `start` over `world` with the agent's saved prune state; `until` moves its clock on. */
  const run = async (opts: {
    start: string;
    until: string;
    world?: World;
    state?: AgentState['prune'];
    mode?: BoundaryRunnerOptions['mode'];
    readDisk?: BoundaryRunnerOptions['readDisk'];
    prepare?: (port: FakePort) => void;
  }) => {
    const clock = new ManualScheduler(at(opts.start));
    const stream = createRecordStream(clock);
    logRecords(stream.records$, logger);
    const model = modelOf(opts.world ?? oldImages, clock.t, 30 * H);
    const ticks$ = new Subject<Tick>();
    const port = fakePort();
    opts.prepare?.(port);
    const agent = {
      records: stream,
      ticks$,
      model: () => model,
      pruneBook: createPruneBook(opts.state),
      saveNow: async () => {},
      // The agent's one idle answer, read on its clock (src/agent/agent.ts).
      idle: () => idleAnswer(model, POLICY, clock.now()),
      loop: {
        ticks$,
        push: (input: Parameters<typeof apply>[1]) => apply(model, input, { now: clock.t, policy: POLICY }),
        queueDepth: () => 0,
      },
    };
    const runner = startBoundaryRunner({
      agent,
      port,
      schedule: parseSchedule({ cron: '0 0 * * *', tz: 'UTC', windowMs: 6 * H }),
      policy: POLICY,
      settings: { minAgeMs: 24 * H, diskHighPercent: 80, diskLowPercent: 60 },
      mode: opts.mode ?? 'on',
      scheduler: clock as unknown as SchedulerLike,
      readDisk: opts.readDisk ?? (async () => disk(90)),
      settle: async () => ({ ok: true }),
    });
    await settle();
    /** The engine's truth changes and the loop ticks. */
    const world = async (w: World) => {
      resnapshot(model, w, clock.t);
      ticks$.next({} as Tick);
      await settle();
    };
    return { clock, world, port, runner, until: () => clock.advanceTo(at(opts.until)) };
  };

  // A window that closes while a run is live, then the next boundary fires and removes.
  {
    const s = await run({
      start: '2025-06-01T23:00:00Z',
      until: '2025-06-03T00:00:01Z',
      world: busy(oldImages),
      prepare: (port) => {
        port.buildCacheReclaimed = 2048;
      },
    });
    await s.clock.advanceTo(at('2025-06-02T12:00:00Z'));
    await s.world(oldImages);
    await s.until();
    await s.runner.stop();
  }

  // Windows that closed while the agent was not running.
  {
    const state = { lastEvaluatedBoundary: at('2025-05-30T00:00:00Z') };
    const s = await run({ start: '2025-06-01T12:00:00Z', until: '2025-06-01T12:00:01Z', state });
    await s.runner.stop();
  }

  // The engine's own prune holds the lock: a retry five minutes later; then one whose window closes first.
  for (const start of ['2025-06-02T00:01:00Z', '2025-06-02T05:58:00Z']) {
    const state = { lastEvaluatedBoundary: at('2025-06-01T00:00:00Z') };
    const s = await run({
      start,
      until: '2025-06-02T07:00:00Z',
      state,
      prepare: (port) =>
        port.outcomes.set('sha256:a', { kind: 'conflict', message: 'a prune operation is already running' }),
    });
    await s.clock.advanceTo(at(start) + 1000);
    s.port.outcomes.clear();
    await s.until();
    await s.runner.stop();
  }

  // Decisions that do not fire (disk below high-water, disk unknown), a dry run of many, --no-prune.
  const many: World = { images: Array.from({ length: 52 }, (_, i) => image(`m${i}`)) };
  const decisions: Array<Parameters<typeof run>[0]> = [
    { start: '2025-06-02T00:00:30Z', until: '2025-06-02T01:00:00Z', readDisk: async () => disk(50) },
    {
      start: '2025-06-02T00:00:30Z',
      until: '2025-06-02T01:00:00Z',
      readDisk: async (path) => ({ path, ok: false, reason: 'ENOENT: no such file or directory' }),
    },
    { start: '2025-06-02T00:00:30Z', until: '2025-06-02T01:00:00Z', world: many, mode: 'dry-run' },
    { start: '2025-06-02T00:00:30Z', until: '2025-06-02T01:00:00Z', mode: 'off' },
    // The containerd image store without the opt-in: the store gate holds it.
    {
      start: '2025-06-02T00:00:30Z',
      until: '2025-06-02T01:00:00Z',
      world: { ...oldImages, imageStore: 'containerd' },
    },
    // An evaluation that throws: prune.error, the boundary given up.
    {
      start: '2025-06-02T00:00:30Z',
      until: '2025-06-02T01:00:00Z',
      readDisk: async () => {
        throw new Error('statfs exploded');
      },
    },
  ];
  for (const opts of decisions) {
    const s = await run(opts);
    await s.until();
    await s.runner.stop();
  }
  return records;
}
