/**
 * Issue 7, scenarios 7–10: the prune under faults, on a real engine. Scenarios 7 and 8 run `prune --now`
 * in-process through the fault proxy (which records every request: none may carry `force`), 9 runs the
 * executor beside a resident agent while runs are deployed at random moments, 10 runs `watch` under
 * `faketime`. Every figure is printed as a diagnostic (`# figures {...}`); docs/reliability.md reports them.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { type PruneNowOptions, pruneNow } from '../../src/agent/prune-now.js';
import { pruneSettings } from '../../src/cli/prune-config.js';
import { idlePolicy } from '../../src/cli/shared.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import type { DockerPort } from '../../src/docker/port.js';
import type { ImageRemoveOutcome } from '../../src/docker/types.js';
import { diskReadingFromStatfs, type StatfsFigures } from '../../src/prune/gates.js';
import { loadState } from '../../src/state/state-file.js';
import { startTestAgent } from './agent-under-test.js';
import { tinyTar } from './event-load.js';
import { FaultProxy } from './fault-proxy.js';
import { type Engine, run, startEngine, waitFor } from './harness.js';
import { livePrune } from './live-prune.js';
import { cli, digestOnly, exists, H, type Pulled, writeAgedState } from './prune-kit.js';

type Rec = Record<string, unknown>;
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const QUIET = '1s';
/** Past the quiet period of the last pull, import or container start the test made. */
const quiet = () => sleep(1_100);
const byEvent = (records: Rec[], event: string) => records.filter((r) => r.event === event);
const ids = (xs: ReadonlyArray<{ id: string }> | undefined) => (xs ?? []).map((x) => x.id);
const answer = (o: ImageRemoveOutcome) => ('message' in o ? `${o.kind} (${o.message})` : o.kind);
/** A request that asks the engine to force anything, or to take volumes along. */
const FORCING = /[?&](force|v|noprune)=/i;
const figures: Record<string, unknown> = {};
function report(tc: TestContext, scenario: string, values: Record<string, unknown>) {
  figures[scenario] = values;
  tc.diagnostic(`figures ${scenario} ${JSON.stringify(values)}`);
}
const shuffle = <T>(xs: T[]): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

describe('prune under faults (issue 7: 7–10)', { timeout: 300_000 }, () => {
  let engine: Engine;
  let tmp: string;
  let tar: string;
  let proxy: FaultProxy;
  let n = 0;
  const stateFile = () => path.join(tmp, `state-${++n}.json`);

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-prune-faults-'));
    engine = await startEngine();
    await engine.baseImage();
    await engine.swarmInit();
    tar = await tinyTar(tmp);
    proxy = await FaultProxy.start(path.join(tmp, 'proxy.sock'), engine.socketPath);
  });

  after(async () => {
    try {
      await proxy?.close();
    } finally {
      await engine?.stop();
      await rm(tmp, { recursive: true, force: true });
      process.stdout.write(`# all figures ${JSON.stringify(figures)}\n`);
    }
  });

  /** Untagged images (no ref at all), one `docker import` each: what a prune may take. */
  const untagged = async (labels: string[]) => {
    const out: string[] = [];
    for (const l of labels)
      out.push(await engine.dockerOk(['import', '--change', `LABEL lw.case=${l}`, tar]));
    return out;
  };

  /** `prune --now` in-process through the proxy, its log records in memory. */
  async function pruneIn(o: {
    state: string;
    port?: DockerPort;
    flags?: Record<string, string>;
    readDisk?: PruneNowOptions['readDisk'];
  }) {
    const { config } = resolveConfig(
      {
        dockerHost: proxy.dockerHost,
        stateFile: o.state,
        diskHigh: '1',
        quietPeriod: QUIET,
        logLevel: 'info',
        ...o.flags,
      },
      {},
    );
    const records: Rec[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => records.push(JSON.parse(line) as Rec) },
    );
    const { state } = await loadState(o.state, Date.now());
    const out = await pruneNow({
      config,
      settings: pruneSettings(config),
      port: o.port ?? createEnginePort(proxy.dockerHost),
      logger,
      state,
      policy: idlePolicy(config),
      dryRun: false,
      ...(o.readDisk && { readDisk: o.readDisk }),
    });
    return { ...out, records };
  }

  it('7: disk figures unknown or absurd: no prune, the reason in prune.decision; unreadable mid-run stops early', async (tc) => {
    const [a, b] = (await untagged(['7a', '7b'])) as [string, string];
    const state = stateFile();
    await writeAgedState(engine, state, { [a]: 31 * H, [b]: 30 * H });
    await quiet();

    // As an operator runs it: a --disk-path that does not exist.
    const run = await cli(engine, [
      'prune',
      '--now',
      '--json',
      '--disk-high',
      '1',
      '--disk-path',
      '/nonexistent',
      '--state-file',
      state,
      '--quiet-period',
      QUIET,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const doc = run.json();
    assert.equal(doc.fired, false);
    const gates = doc.gates as {
      idle: { pass: boolean };
      disk: { pass: boolean; reason: string };
      candidates: { pass: boolean };
    };
    assert.equal(gates.disk.pass, false);
    assert.match(gates.disk.reason, /^disk usage of \/nonexistent unknown: statfs failed: ENOENT/);
    assert.equal(gates.idle.pass, true);
    assert.equal(gates.candidates.pass, true);
    assert.equal(doc.candidates, 2);
    const [decision] = byEvent(run.records, 'prune.decision');
    assert.deepEqual(ids(decision?.candidates as Array<{ id: string }>), [a, b]);
    assert.equal(decision?.fire, false);
    assert.deepEqual(decision?.reasons, [gates.disk.reason], 'the disk is the only reason');
    assert.equal((decision?.disk as Rec).ok, false);
    assert.equal(byEvent(run.records, 'prune.removed').length, 0);

    // Figures no real filesystem here gives: fed to the same code through the disk reader.
    const absurd: Array<[string, StatfsFigures]> = [
      ['zero blocks', { blocks: 0, bfree: 0, bavail: 0, bsize: 4096 }],
      ['more free than blocks', { blocks: 1000, bfree: 5000, bavail: 10, bsize: 4096 }],
      ['2^60 blocks (past 2^53)', { blocks: 2n ** 60n, bfree: 1n, bavail: 1n, bsize: 4096n }],
    ];
    const absurdReasons: Record<string, unknown> = {};
    for (const [name, figs] of absurd) {
      const r = await pruneIn({ state, readDisk: async (p) => diskReadingFromStatfs(p, figs) });
      assert.equal(r.evaluation.decision.fire, false, name);
      assert.equal(r.result, undefined, `${name}: nothing executed`);
      const d = byEvent(r.records, 'prune.decision')[0];
      const reason = (d?.gates as { disk: { reason: string } }).disk.reason;
      assert.match(reason, / unknown: statfs (figures|reports)/, name);
      assert.deepEqual(d?.reasons, [reason], `${name}: the disk is the only reason`);
      absurdReasons[name] = reason;
    }
    assert.ok(await exists(engine, 'image', a));
    assert.ok(await exists(engine, 'image', b));

    // Readable at the decision and at the first removal, absurd before the second: stop, say why.
    let reads = 0;
    const fine: StatfsFigures = { blocks: 100, bfree: 10, bavail: 10, bsize: 4096 };
    const broken: StatfsFigures = { blocks: 100, bfree: 200, bavail: 10, bsize: 4096 };
    const mid = await pruneIn({
      state,
      flags: { diskHigh: '60', diskLow: '50' },
      readDisk: async (p) => diskReadingFromStatfs(p, ++reads <= 2 ? fine : broken),
    });
    assert.equal(mid.evaluation.decision.fire, true);
    assert.equal(mid.result?.outcome, 'low-water');
    assert.deepEqual(ids(mid.result?.removed), [a], 'the oldest went, then it stopped');
    const low = byEvent(mid.records, 'prune.low-water')[0];
    assert.match(String(low?.reason), /^disk unknown: statfs figures are inconsistent/);
    assert.equal(await exists(engine, 'image', a), false);
    assert.ok(await exists(engine, 'image', b), 'nothing removed blind');
    report(tc, '7-disk', {
      nonexistent: { fired: doc.fired, reason: gates.disk.reason, removed: 0 },
      absurd: absurdReasons,
      unreadableMidRun: { outcome: mid.result?.outcome, removedBefore: 1, reason: low?.reason },
      wronglyRemoved: 0,
    });
  });

  it('8: the next candidate removed by someone else (gone, 404) or taken by a new container (409); an engine prune alongside; no request carries force', async (tc) => {
    const c = (await untagged(['8-1', '8-2', '8-3', '8-4', '8-5'])) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const state = stateFile();
    await writeAgedState(engine, state, Object.fromEntries(c.map((id, i) => [id, (40 - i) * H])));
    await quiet();
    const real = createEnginePort(proxy.dockerHost);
    const answers: Record<string, string> = {};
    const deletes: string[] = [];
    let holder: string | undefined;
    const port: DockerPort = {
      ...real,
      removeImage: async (id) => {
        deletes.push(id);
        // Hooks between the executor's re-check and its DELETE (the model's view is already taken).
        if (id === c[0]) await engine.dockerOk(['rmi', c[1]]); // the next candidate, before its turn
        if (id === c[2]) await engine.dockerOk(['rmi', c[2]]); // this one: the DELETE finds it gone
        if (id === c[3]) holder = await engine.dockerOk(['create', '--network', 'none', c[3], 'true']);
        const outcome = await real.removeImage(id);
        answers[id] = answer(outcome);
        return outcome;
      },
    };
    const wire0 = proxy.requests.length;
    const r = await pruneIn({ state, port });
    const res = r.result;
    assert.equal(res?.outcome, 'done');
    assert.deepEqual(ids(res?.removed), [c[0], c[4]]);
    assert.deepEqual(new Set(ids(res?.alreadyGone)), new Set([c[1], c[2]]));
    assert.equal(answers[c[2]], 'gone', '404 from the engine');
    assert.deepEqual(ids(res?.skipped), [c[3]]);
    assert.match(
      String(res?.skipped[0]?.reason),
      /^in use: conflict: unable to delete \w+ \(must be forced\) - image is being used by stopped container/,
    );
    const skipped = Object.fromEntries(byEvent(r.records, 'prune.skipped').map((s) => [s.id, s.reason]));
    assert.equal(skipped[c[2]], 'already gone');
    assert.equal(skipped[c[3]], 'in use');
    assert.match(String(skipped[c[1]]), /^(gone|already gone)$/);
    const by = Object.fromEntries(byEvent(r.records, 'eviction').map((e) => [e.image, e.by]));
    assert.deepEqual(
      [by[c[0]], by[c[1]], by[c[2]], by[c[4]]],
      ['layerwarden', 'external', 'external', 'layerwarden'],
      'who removed each image',
    );
    assert.ok(await exists(engine, 'image', c[3]), 'the image the new container holds');
    for (const id of [c[0], c[1], c[2], c[4]]) assert.equal(await exists(engine, 'image', id), false);
    const wireA = proxy.requests.slice(wire0);

    // An engine image prune started between the executor's re-check and its first DELETE.
    const d = await untagged(['8p-1', '8p-2', '8p-3', '8p-4']);
    const state2 = stateFile();
    await writeAgedState(engine, state2, Object.fromEntries(d.map((id, i) => [id, (40 - i) * H])));
    await quiet();
    let enginePrune: Promise<{ status: number; body: string }> | undefined;
    let secondPrune: Promise<{ status: number; body: string }> | undefined;
    const answers2: Record<string, string> = {};
    const port2: DockerPort = {
      ...real,
      removeImage: async (id) => {
        if (!enginePrune) {
          enginePrune = engine.api('/v1.41/images/prune', { method: 'POST' });
          secondPrune = sleep(2).then(() => engine.api('/v1.41/images/prune', { method: 'POST' }));
        }
        const outcome = await real.removeImage(id);
        answers2[id] = answer(outcome);
        return outcome;
      },
    };
    const wire1 = proxy.requests.length;
    const r2 = await pruneIn({ state: state2, port: port2 });
    const [first, second] = await Promise.all([enginePrune, secondPrune]);
    const prunedByEngine = (
      (JSON.parse(first?.body ?? '{}') as { ImagesDeleted?: Array<{ Deleted?: string }> }).ImagesDeleted ?? []
    )
      .map((x) => x.Deleted)
      .filter((x): x is string => d.includes(x ?? ''));
    for (const id of d) assert.equal(await exists(engine, 'image', id), false, `${id} gone`);
    const res2 = r2.result;
    // Which of our buckets a candidate lands in races the engine's own prune (removed, found gone, or
    // skipped when the engine answered otherwise; an abandoned run leaves the rest to the next one).
    // What must hold: none counted twice, and a run that finished said something of every candidate.
    const accounted = [...ids(res2?.removed), ...ids(res2?.alreadyGone), ...ids(res2?.skipped)];
    assert.equal(new Set(accounted).size, accounted.length, 'no candidate accounted twice');
    for (const id of accounted) assert.ok(d.includes(id), `${id} is one of the candidates`);
    if (res2?.outcome === 'done')
      assert.deepEqual(new Set(accounted), new Set(d), 'a finished run accounts for each candidate');
    // On 20.10 a DELETE is not refused while the engine prunes (only a second prune is): measured.
    const refusedPruneRunning = Object.values(answers2).filter((a) => /prune operation/.test(a)).length;
    assert.equal(res2?.outcome, refusedPruneRunning ? 'aborted' : 'done');
    const by2 = byEvent(r2.records, 'eviction').filter((e) => d.includes(String(e.image)));
    for (const e of by2) {
      const ours = ids(res2?.removed).includes(String(e.image));
      assert.equal(e.by, ours ? 'layerwarden' : 'external', `eviction of ${e.image}`);
    }
    const wireB = proxy.requests.slice(wire1);
    const imageDeletes = wireB.filter((w) => w.startsWith('DELETE ')).length;
    assert.ok(imageDeletes <= d.length, 'one pass, no loop');

    const wire = [...wireA, ...wireB];
    const forcing = wire.filter((w) => FORCING.test(w));
    assert.deepEqual(forcing, [], 'no request carries force');
    report(tc, '8-concurrent', {
      others: {
        removed: ids(res?.removed).length,
        goneBeforeItsTurn: skipped[c[1]],
        deleteAnswer404: answers[c[2]],
        deleteAnswer409: answers[c[3]],
        containerHolding: holder?.slice(0, 12),
        evictions: { [c[1].slice(7, 19)]: by[c[1]], [c[2].slice(7, 19)]: by[c[2]] },
      },
      enginePrune: {
        ourAnswers: Object.values(answers2),
        removedByUs: ids(res2?.removed).length,
        foundGone: ids(res2?.alreadyGone).length,
        prunedByEngine: prunedByEngine.length,
        secondPruneAnswer: `${second?.status} ${second?.body.trim()}`,
        refusedPruneRunning,
        outcome: res2?.outcome,
        evictions: by2.map((e) => `${e.by}/${e.activity}`),
      },
      wire: {
        requests: wire.length,
        deletes: wire.filter((w) => w.startsWith('DELETE ')),
        posts: [...new Set(wire.filter((w) => w.startsWith('POST ')).map((w) => w.split('?')[0]))],
        forcing: forcing.length,
      },
      wronglyRemoved: 0,
    });
  });

  it('9: a run deployed at a random moment while the executor works, 8 times: no "No such image", no removal once the run is seen, the other candidates removed', async (tc) => {
    const ITERATIONS = 8;
    const pool: Pulled[] = [];
    for (const group of [
      ['r1', 'r2', 'r3'],
      ['r4', 'r5', 'r6'],
    ])
      pool.push(...(await Promise.all(group.map((g) => digestOnly(engine, `race9-${g}`)))));
    const rows: Rec[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const missing: Pulled[] = [];
      for (const img of pool) if (!(await exists(engine, 'image', img.id))) missing.push(img);
      await Promise.all(missing.map((img) => engine.dockerOk(['pull', img.ref])));
      const state = stateFile();
      const ages = shuffle(pool.map((_, k) => (25 + k) * H));
      await writeAgedState(engine, state, Object.fromEntries(pool.map((img, k) => [img.id, ages[k] ?? 0])));
      const { state: loaded } = await loadState(state, Date.now());
      const t = startTestAgent({
        dockerHost: engine.dockerHost,
        stateFile: state,
        state: loaded,
        flags: { quietPeriod: QUIET },
      });
      try {
        await t.waitForRecord((r) => r.event === 'model.resync', 30_000, 'first list');
        const used = shuffle(pool).slice(0, 2);
        const usedIds = new Set(used.map((u) => u.id));
        const stack = `ci9-${i}`;
        // A random moment inside the run: during the Nth removal (of 6), a random few ms into it.
        const atRemoval = 1 + Math.floor(Math.random() * 4);
        const delayMs = Math.round(Math.random() * 30);
        const real = createEnginePort(engine.dockerHost);
        const calls: Array<{ id: string; at: number; done?: number }> = [];
        let deploy: Promise<{ requestedAt: number; firstCreatedAt: number; createdAt: number }> | undefined;
        const port: DockerPort = {
          ...real,
          removeImage: async (id) => {
            const call: { id: string; at: number; done?: number } = { id, at: Date.now() };
            calls.push(call);
            if (!deploy && calls.length === atRemoval) {
              deploy = sleep(delayMs).then(() => deployRun(stack, used));
              deploy.catch(() => {}); // awaited below; a failure surfaces there
            }
            const out = await real.removeImage(id);
            call.done = Date.now();
            return out;
          },
        };
        const prune = livePrune(t, { port, minAgeMs: 24 * H, diskHighPercent: 1 });
        const n0 = t.records.length;
        const first = await prune();
        assert.equal(first.evaluation.decision.fire, true, JSON.stringify(first.evaluation.decision.reasons));
        // A run that ended before that removal came (items skipped) is deployed now, after it.
        deploy ??= deployRun(stack, used);
        const run = await deploy;
        await engine.waitForStack(stack, 90_000);
        const errors = await taskErrors(stack);
        const noSuchImage = errors.filter((e) => /no such image/i.test(e));
        assert.deepEqual(noSuchImage, [], 'no task failed for a missing image');
        // The first moment the agent knew of the run: its first service create, applied.
        const seen = await waitFor(
          () =>
            t.events.find(
              (e) =>
                e.event.type === 'service' &&
                e.event.action === 'create' &&
                e.event.attributes.name?.startsWith(`${stack}_`),
            ),
          10_000,
          { message: 'agent saw the run' },
        );
        const late = calls.filter((c) => c.at > seen.at);
        assert.deepEqual(late, [], 'no DELETE issued after the agent saw the run');
        for (const u of used)
          assert.ok(await exists(engine, 'image', u.id), `${u.ref} present while it runs`);
        const aborted = byEvent(t.records.slice(n0), 'prune.aborted')[0];
        const inFlightAtCreate = calls.filter(
          (c) => c.at <= run.createdAt && (c.done ?? Number.POSITIVE_INFINITY) >= run.requestedAt,
        );
        const pulledAgain = t.events.filter(
          (e) =>
            e.at >= run.requestedAt &&
            e.event.type === 'image' &&
            e.event.action === 'pull' &&
            used.some((u) => e.event.actorId.includes(u.ref.split('@')[1] ?? '?')),
        ).length;

        // The run ends; the next evaluation takes the rest and keeps what the run touched.
        await engine.removeStack(stack);
        await waitFor(() => t.agent.idle()?.idle, 20_000, { message: 'idle after the run' });
        const followUp = await prune();
        for (const img of pool) {
          if (usedIds.has(img.id)) assert.ok(await exists(engine, 'image', img.id), `${img.ref} kept`);
          else assert.equal(await exists(engine, 'image', img.id), false, `${img.ref} removed`);
        }
        rows.push({
          atRemoval,
          delayMs,
          landed: first.result?.outcome === 'aborted' ? 'mid-prune' : 'after it',
          removedFirst: ids(first.result?.removed).length,
          usedRemovedBeforeRun: ids(first.result?.removed).filter((id) => usedIds.has(id)).length,
          pulledAgainByRun: pulledAgain,
          deletesInFlightAtDeploy: inFlightAtCreate.length,
          abortMsAfterCreate: aborted ? Date.parse(String(aborted.time)) - run.firstCreatedAt : undefined,
          abortReason: aborted?.reason,
          removedFollowUp: ids(followUp.result?.removed).length,
          noSuchImage: noSuchImage.length,
          deletesAfterSeen: late.length,
        });
      } finally {
        await t.stop();
      }
    }
    const midPrune = rows.filter((r) => r.landed === 'mid-prune').length;
    assert.ok(midPrune > 0, 'at least one run landed while the executor worked (the premise)');
    const abortMs = rows.map((r) => r.abortMsAfterCreate).filter((x): x is number => typeof x === 'number');
    report(tc, '9-race', {
      iterations: ITERATIONS,
      candidatesPerIteration: pool.length,
      landedMidPrune: midPrune,
      abortMsAfterCreate: abortMs.length ? [Math.min(...abortMs), Math.max(...abortMs)] : [],
      noSuchImage: 0,
      deletesAfterSeen: 0,
      usedRemovedBeforeRun: rows.reduce((s, r) => s + Number(r.usedRemovedBeforeRun), 0),
      pulledAgainByRuns: rows.reduce((s, r) => s + Number(r.pulledAgainByRun), 0),
      wronglyRemoved: 0,
      rows,
    });
  });

  /** A run: two swarm services of stack `stack` (labelled as `docker stack deploy` labels them), over the API. */
  async function deployRun(stack: string, images: Pulled[]) {
    const requestedAt = Date.now();
    let firstCreatedAt = 0;
    for (const [k, img] of images.entries()) {
      const labels = { 'com.docker.stack.namespace': stack };
      const body = JSON.stringify({
        Name: `${stack}_s${k}`,
        Labels: labels,
        TaskTemplate: { ContainerSpec: { Image: img.ref, Labels: labels } },
        Mode: { Replicated: { Replicas: 1 } },
      });
      const r = await engine.api('/v1.41/services/create', { method: 'POST', body });
      if (r.status !== 201) throw new Error(`service create: ${r.status} ${r.body}`);
      firstCreatedAt ||= Date.now();
    }
    return { requestedAt, firstCreatedAt, createdAt: Date.now() };
  }

  /** Every task error of the stack's services, failed and rejected tasks included. */
  async function taskErrors(stack: string): Promise<string[]> {
    const services = [0, 1].map((k) => `${stack}_s${k}`);
    const filters = encodeURIComponent(JSON.stringify({ service: services }));
    const r = await engine.api(`/v1.41/tasks?filters=${filters}`);
    if (r.status !== 200) throw new Error(`tasks: ${r.status} ${r.body}`);
    const tasks = JSON.parse(r.body) as Array<{ Status?: { Err?: string; State?: string } }>;
    assert.ok(tasks.length >= 2, `tasks of ${stack}: ${tasks.length}`);
    return tasks.map((t) => t.Status?.Err ?? '').filter(Boolean);
  }

  it('10: watch killed at 23:59:59 and restarted at 00:00:01 (faketime): one decision for the new day, after the first list', async (tc) => {
    const [img] = (await untagged(['10'])) as [string];
    // A day ahead of the engine's clock (events are then in the agent's past, as they would be).
    const midnight = Math.ceil(Date.now() / 86_400_000 + 1) * 86_400_000;
    const state = stateFile();
    const engineId = await engine.dockerOk(['info', '--format', '{{.ID}}']);
    const longAgo = midnight - 30 * 86_400_000;
    await writeFile(
      state,
      JSON.stringify({
        version: 1,
        engineId,
        savedAt: new Date(midnight - 60_000).toISOString(),
        images: { [img]: { firstSeen: longAgo, lastUsed: longAgo, untaggedSince: longAgo } },
        prune: { lastEvaluatedBoundary: midnight - 86_400_000, lastRunAt: midnight - 86_000_000 },
      }),
    );
    const args = [
      'watch',
      '--docker-host',
      engine.dockerHost,
      '--state-file',
      state,
      '--schedule',
      '0 0 * * *',
      '--tz',
      'UTC',
      '--disk-high',
      '1',
      '--quiet-period',
      QUIET,
      '--resync',
      '1h',
    ];
    const startsBefore = 12_000;
    let killedAt = 0;
    const first = fakeWatch(midnight - startsBefore, args);
    try {
      await waitFor(() => first.records.find((r) => r.event === 'model.resync'), 15_000, {
        message: 'first agent in sync',
      });
      // Killed when its clock says 23:59:59.
      const killIn = first.spawnedAt + startsBefore - 1_000 - Date.now();
      assert.ok(killIn > 0, `in sync before 23:59:59 (${killIn} ms to spare)`);
      await sleep(killIn);
      process.kill(await first.agentPid(), 'SIGKILL');
      killedAt = midnight - startsBefore + (Date.now() - first.spawnedAt);
      await first.exited;
    } finally {
      await first.kill();
    }
    const lastTime = Date.parse(String(first.records.at(-1)?.time));
    assert.ok(lastTime < midnight, 'the first agent never reached midnight');
    assert.equal(byEvent(first.records, 'prune.decision').length, 0, 'the old day was evaluated already');

    const second = fakeWatch(midnight + 1_000, args);
    try {
      await waitFor(() => second.records.find((r) => r.event === 'prune.done'), 30_000, {
        message: 'the prune of the new day',
      });
      // A while longer, with engine events to tick on: nothing repeats.
      await engine.sentinel();
      await sleep(1_500);
      process.kill(await second.agentPid(), 'SIGTERM');
      assert.equal(await second.exited, 0, 'a clean stop');
    } finally {
      await second.kill();
    }
    const recs = second.records;
    const decisions = byEvent(recs, 'prune.decision');
    assert.equal(decisions.length, 1, 'exactly one evaluation');
    assert.equal(decisions[0]?.boundary, new Date(midnight).toISOString());
    assert.equal(decisions[0]?.fire, true);
    const firstList = recs.findIndex((r) => r.event === 'model.resync');
    assert.ok(
      firstList >= 0 && recs.indexOf(decisions[0] as Rec) > firstList,
      'decided after the first list',
    );
    assert.deepEqual(
      byEvent(recs, 'prune.removed').map((r) => r.id),
      [img],
    );
    assert.equal(byEvent(recs, 'prune.done').length, 1);
    assert.equal(await exists(engine, 'image', img), false);
    const saved = JSON.parse(await readFile(state, 'utf8')) as { prune: { lastEvaluatedBoundary: number } };
    assert.equal(saved.prune.lastEvaluatedBoundary, midnight);
    report(tc, '10-restart-at-midnight', {
      firstAgentKilledAt: new Date(killedAt).toISOString(),
      firstAgentLastRecordAt: new Date(lastTime).toISOString(),
      decisionsBeforeKill: 0,
      decisionsAfterRestart: decisions.length,
      decisionAfterMidnightMs: Date.parse(String(decisions[0]?.time)) - midnight,
      recordsBeforeFirstList: recs.slice(0, firstList).map((r) => r.event),
      removed: 1,
      savedBoundary: new Date(saved.prune.lastEvaluatedBoundary).toISOString(),
    });
  });

  /**
   * `layerwarden watch` under `faketime`, its clock starting at `at` (UTC) and running at real speed.
   * faketime forks the program and waits for it: signals go to the agent's own pid (`agentPid`), not to
   * the wrapper, which would die alone and leave the agent running.
   */
  function fakeWatch(at: number, args: string[]) {
    const stamp = new Date(at).toISOString().replace('T', ' ').slice(0, 19);
    const records: Rec[] = [];
    const child: ChildProcess = spawn(
      'faketime',
      ['-f', `@${stamp}`, process.execPath, '--import', 'tsx', 'src/cli/bin.ts', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...(engine.childEnv() as Record<string, string>), TZ: 'UTC' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const spawnedAt = Date.now();
    let partial = '';
    child.stdout?.on('data', (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) records.push(JSON.parse(l) as Rec);
    });
    child.stderr?.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const agentPid = async () =>
      Number(
        await waitFor(async () => (await run('pgrep', ['-P', String(child.pid)])).stdout.trim(), 10_000, {
          message: 'the agent under faketime',
        }),
      );
    /** Whatever still runs of it, gone. */
    const kill = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(await agentPid(), 'SIGKILL');
      await exited;
    };
    return { child, records, exited, spawnedAt, agentPid, kill };
  }
});
