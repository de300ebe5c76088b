/**
 * Issue 7, scenarios 1–6 and 11, on a real engine (and a fault-injecting proxy in front of it): the
 * agent runs in-process, every figure it is judged by is measured here and printed as a diagnostic
 * (`# figures {...}`), and docs/reliability.md reports them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { decide, storeGate } from '../../src/prune/gates.js';
import { planPrune } from '../../src/prune/plan.js';
import { loadState } from '../../src/state/state-file.js';
import { eventKey } from '../../src/streams/decode-event.js';
import type { ModelLoopOptions } from '../../src/streams/model-loop.js';
import { type LogRecord, startTestAgent, type TestAgent } from './agent-under-test.js';
import { createContainer, removeContainer, tagBurst, tagImage, tinyTar, untagImage } from './event-load.js';
import { FaultProxy } from './fault-proxy.js';
import { type Engine, startEngine, waitFor } from './harness.js';
import { waitForModelToMatch } from './model-vs-engine.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const NOBODY = 65534;
const figures: Record<string, Record<string, unknown>> = {};
function report(tc: TestContext, scenario: string, values: Record<string, unknown>) {
  figures[scenario] = values;
  tc.diagnostic(`figures ${scenario} ${JSON.stringify(values)}`);
}

describe('faults (issue 7: 1–6, 11)', { timeout: 300_000 }, () => {
  let engine: Engine;
  let tmp: string;
  let tar: string;
  const agents: TestAgent[] = [];

  const imageIds = async () =>
    new Set((await engine.dockerOk(['images', '-aq', '--no-trunc'])).split('\n').filter(Boolean));
  /** Images present now; call the returned function at the end: how many of them are gone (none may be). */
  const imageGuard = async () => {
    const before = await imageIds();
    return async () => {
      const after = await imageIds();
      return [...before].filter((id) => !after.has(id)).length;
    };
  };
  /** Keys of the events the engine itself reports between two instants (its replay ring). */
  const engineEventKeys = async (fromMs: number, toMs: number) => {
    const sec = (ms: number) => (ms / 1000).toFixed(3);
    const r = await engine.api(`/v1.41/events?since=${sec(fromMs)}&until=${sec(toMs)}`, {
      timeoutMs: 10_000,
    });
    return r.body
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const e = JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string } };
        const nano = /"timeNano":(\d+)/.exec(l)?.[1];
        return `${nano}|${e.Type}|${e.Action}|${e.Actor.ID}`;
      });
  };

  async function agent(
    opts: { dockerHost?: string; stream?: ModelLoopOptions['stream']; flags?: Record<string, string> } = {},
  ) {
    const t = startTestAgent({
      dockerHost: opts.dockerHost ?? engine.dockerHost,
      stateFile: path.join(tmp, `state-${agents.length}.json`),
      ...(opts.stream && { stream: opts.stream }),
      ...(opts.flags && { flags: opts.flags }),
    });
    agents.push(t);
    await t.waitForRecord((r) => r.event === 'model.resync', 30_000, 'first list');
    return t;
  }
  const matches = (t: TestAgent, timeoutMs = 30_000) =>
    waitForModelToMatch(engine, () => t.agent.model(), timeoutMs);
  const after0 = (t: TestAgent, n0: number) => (pred: (r: LogRecord) => boolean) =>
    t.records.slice(n0).filter(pred);

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-faults-'));
    engine = await startEngine();
    await engine.baseImage();
    tar = await tinyTar(tmp);
  });

  after(async () => {
    try {
      for (const t of agents) await t.stop().catch(() => {});
    } finally {
      await engine?.stop();
      await rm(tmp, { recursive: true, force: true });
      process.stdout.write(`# all figures ${JSON.stringify(figures)}\n`);
    }
  });

  for (const sig of ['TERM', 'KILL'] as const) {
    it(`1: daemon stopped with SIG${sig}: reconnects with backoff, re-lists, model = engine, no prune while blind`, async (tc) => {
      const removedCount = await imageGuard();
      const t = await agent({
        stream: {
          backoff: { initialMs: 1000, maxMs: 3000, resetAfterMs: 60_000, jitter: 0 },
          silenceMs: 5000,
          pingTimeoutMs: 2000,
        },
      });
      // A running container: the daemon's exit stops it, which only a re-list can tell.
      const ctr = await engine.dockerOk(['run', '-d', '--network', 'none', 'lw-base']);
      await t.sentinel(engine);
      await matches(t);
      const n0 = t.records.length;
      const since = after0(t, n0);
      const stoppedAt = Date.now();
      await engine.stopDaemon(sig);
      // The drop, then failed connects 1 s and 3 s later: wait for the one that schedules a 3 s retry.
      const slow = await t.waitForRecord(
        (r) => t.records.indexOf(r) >= n0 && r.event === 'stream.down' && r.retryInMs === 3000,
        20_000,
        'stream.down with the slowest retry',
      );
      const downs = since((r) => r.event === 'stream.down');
      const codes = [...new Set(downs.map((r) => r.code))];
      assert.ok(codes.includes(sig === 'TERM' ? 'ENOENT' : 'ECONNREFUSED'), `codes ${codes.join(',')}`);
      assert.deepEqual(
        downs.map((r) => r.retryInMs),
        [1000, 2000, 3000].slice(0, downs.length),
        'backoff 1 s, 2 s, 3 s (the ceiling)',
      );

      // Blind: busy (out of sync), and the prune decision does not fire even on a full disk.
      const model = t.agent.model()!;
      const idle = t.agent.idle()!;
      assert.equal(model.sync.inSync, false);
      assert.ok(idle.busy.some((b) => b.reason === 'out-of-sync'));
      const decision = decide({
        idle,
        disk: { path: '/', ok: true, usedPercent: 99, usedBytes: 99, totalBytes: 100, freeBytes: 1 },
        store: storeGate(model.engine?.imageStore, false),
        plan: planPrune(model, { minAgeMs: 0 }, Date.now()),
        diskHighPercent: 80,
      });
      assert.equal(decision.fire, false);
      assert.equal(decision.gates.idle.pass, false);

      // Back up, and an image made before the agent's next attempt (due 3 s after `slow`).
      const startAt = Date.now();
      await engine.startDaemon();
      const ref = `lw/while-down:${sig.toLowerCase()}`;
      await engine.dockerOk(['import', tar, ref]);
      const madeAt = Date.now();
      const imageId = await engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', ref]);
      const up = await t.waitForRecord(
        (r) => t.records.indexOf(r) >= n0 && r.event === 'stream.up',
        20_000,
        'stream.up',
      );
      assert.ok(
        Date.parse(up.time) >= madeAt - 5,
        'the image was made while the agent was still disconnected',
      );
      assert.ok(Date.parse(slow.time) + 3000 >= madeAt, 'made within the backoff window');
      const recoverMs = await matches(t);
      const m = t.agent.model()!;
      assert.ok(m.images.has(imageId), 'the image made while it was down is in the model');
      assert.equal(m.containers.get(ctr)?.state, 'exited');
      const resync = since((r) => r.event === 'model.resync' && r.reason === 'reconnect')[0];
      assert.ok(resync, 'a re-list after the reconnect');
      const wrong = await removedCount();
      assert.equal(wrong, 0);
      // Every event the engine made from its restart to our reconnect reached the model (since + dedupe).
      const upAt = Date.parse(up.time);
      const engineKeys = await engineEventKeys(startAt - 1000, upAt);
      const applied = new Set(t.events.map((e) => eventKey(e.event)));
      const lost = engineKeys.filter((k) => !applied.has(k)).length;
      assert.equal(lost, 0, 'events made while disconnected were replayed');
      const replayed = t.events.filter(
        (e) => e.at >= Date.parse(up.time) && e.event.timeMs < Date.parse(up.time),
      ).length;
      report(tc, `1-SIG${sig}`, {
        downCodes: codes,
        retries: downs.map((r) => r.retryInMs),
        outOfSyncWhileDown: true,
        pruneFiredWhileDown: decision.fire,
        daemonDownMs: startAt - stoppedAt,
        reconnectAfterDaemonUpMs: Date.parse(up.time) - startAt,
        inSyncAfterDaemonUpMs: Date.now() - startAt - 0,
        matchWaitMs: recoverMs,
        replayedBySince: replayed,
        driftRepaired: resync.drift,
        imageMadeWhileDownSeen: true,
        eventsWhileDisconnected: engineKeys.length,
        eventsLost: lost,
        wronglyRemoved: wrong,
      });
      await t.stop();
    });
  }

  it('2: daemon frozen (SIGSTOP) past the watchdog: stall detected in time, stream recycled, model right after SIGCONT', async (tc) => {
    const silenceMs = 2000;
    const pingTimeoutMs = 1000;
    const removedCount = await imageGuard();
    const t = await agent({
      stream: {
        silenceMs,
        pingTimeoutMs,
        backoff: { initialMs: 500, maxMs: 1000, resetAfterMs: 60_000, jitter: 0 },
      },
    });
    await t.sentinel(engine);
    await matches(t);
    const n0 = t.records.length;
    const since = after0(t, n0);
    const frozenAt = Date.now();
    await engine.freeze();
    try {
      const down = await t.waitForRecord(
        (r) => t.records.indexOf(r) >= n0 && r.event === 'stream.down',
        15_000,
        'stall noticed',
      );
      const detectMs = Date.parse(down.time) - frozenAt;
      assert.match(String(down.reason), /ping timed out|ping failed/);
      assert.ok(detectMs <= silenceMs + pingTimeoutMs + 1000, `detected after ${detectMs} ms`);
      assert.equal(t.agent.model()?.sync.inSync, false);
      // Frozen well past the watchdog: connects to a frozen daemon hang, and are recycled too.
      await new Promise((r) => setTimeout(r, Math.max(0, frozenAt + 8000 - Date.now())));
      const downsWhileFrozen = since((r) => r.event === 'stream.down').length;
      assert.ok(downsWhileFrozen >= 2, 'the hung reconnects were recycled as well');
      const thawAt = Date.now();
      await engine.thaw();
      const recoverMs = await matches(t);
      const resync = since((r) => r.event === 'model.resync' && r.reason === 'reconnect').at(-1);
      assert.ok(resync);
      report(tc, '2-SIGSTOP', {
        watchdog: { silenceMs, pingTimeoutMs },
        detectMs,
        downReasons: [...new Set(since((r) => r.event === 'stream.down').map((r) => String(r.reason)))],
        downsWhileFrozen,
        frozenMs: thawAt - frozenAt,
        recoverAfterThawMs: Date.now() - thawAt,
        matchWaitMs: recoverMs,
        driftRepaired: resync.drift,
        wronglyRemoved: await removedCount(),
      });
    } finally {
      await engine.thaw().catch(() => {});
      await t.stop();
    }
  });

  it('5a: a burst of 10,000 events while the agent watches: none lost, no drift', async (tc) => {
    const baseId = await engine.baseImage();
    const removedCount = await imageGuard();
    const t = await agent({ flags: { resync: '4s' } });
    await t.sentinel(engine);
    await matches(t);
    const startMs = Date.now();
    const made = await tagBurst(engine, baseId, 5000, 8);
    const burstMs = Date.now() - startMs;
    const ours = () =>
      t.events.filter(
        (e) =>
          e.event.timeMs >= startMs - 1000 &&
          e.event.actorId === baseId &&
          ((e.event.action === 'tag' && e.event.attributes.name?.startsWith('lw/burst:')) ||
            e.event.action === 'untag'),
      ).length;
    await t.sentinel(engine, 60_000);
    const received = ours();
    assert.equal(received, made, 'every event of the burst reached the model');
    const doneAt = Date.now();
    await matches(t);
    // The next periodic re-list (every 4 s) finds nothing to repair.
    const periodic = await t.waitForRecord(
      (r) => r.event === 'model.resync' && r.reason === 'periodic' && Date.parse(r.time) > doneAt + 100,
      20_000,
      'periodic resync after the burst',
    );
    assert.equal(periodic.driftTotal, 0);
    const overflow = t.recordsOf('stream.overflow').length;
    report(tc, '5a-burst', {
      events: made,
      burstMs,
      eventsPerSecond: Math.round((made * 1000) / burstMs),
      received,
      eventsLost: made - received,
      driftAfter: periodic.driftTotal,
      bufferOverflows: overflow,
      wronglyRemoved: await removedCount(),
    });
  });

  describe('through a fault-injecting proxy', () => {
    let proxy: FaultProxy;
    let proxyDir: string;
    before(async () => {
      // Its own directory, open to all: scenario 6 runs an unprivileged agent against it.
      proxyDir = await mkdtemp(path.join(os.tmpdir(), 'lw-proxy-'));
      await chmod(proxyDir, 0o755);
      proxy = await FaultProxy.start(path.join(proxyDir, 'proxy.sock'), engine.socketPath);
    });
    after(async () => {
      await proxy?.close();
      await rm(proxyDir, { recursive: true, force: true });
    });
    const fastBackoff = { initialMs: 300, maxMs: 1000, resetAfterMs: 60_000, jitter: 0 };

    it('3: events connection closed while the daemon stays up, and a disconnect with more than 256 events: no gap survives', async (tc) => {
      const removedCount = await imageGuard();
      const baseId = await engine.baseImage();
      const t = await agent({ dockerHost: proxy.dockerHost, stream: { backoff: fastBackoff } });
      await t.sentinel(engine);
      await matches(t);

      // A cut: the agent reconnects through the proxy and re-lists.
      let n0 = t.records.length;
      const cutAt = Date.now();
      assert.equal(proxy.cutEvents(), 1);
      await t.waitForRecord(
        (r) => t.records.indexOf(r) >= n0 && r.event === 'model.resync' && r.reason === 'reconnect',
        10_000,
        'relist after cut',
      );
      const cutRecoverMs = Date.now() - cutAt;
      await matches(t);

      // A long disconnect: the proxy refuses the events connections while the engine makes > 256 events.
      n0 = t.records.length;
      const since = after0(t, n0);
      proxy.refuseEvents = true;
      proxy.cutEvents();
      await t.waitForRecord((r) => t.records.indexOf(r) >= n0 && r.event === 'stream.down', 10_000, 'down');
      const gapFrom = Date.now();
      const made = await tagBurst(engine, baseId, 150, 4); // 300 events
      const kept = `lw/kept:${Date.now()}`;
      await tagImage(engine, baseId, 'lw/kept', kept.split(':')[1] as string); // a change that stays
      const c1 = await createContainer(engine, 'lw-base', 'lw-gap-1');
      const c2 = await createContainer(engine, 'lw-base', 'lw-gap-2');
      await removeContainer(engine, c2);
      const gapEvents = made + 4;
      assert.equal(t.agent.model()?.sync.inSync, false, 'out of sync while disconnected');
      const openAt = Date.now();
      proxy.refuseEvents = false;
      const up = await t.waitForRecord(
        (r) => t.records.indexOf(r) >= n0 && r.event === 'stream.up',
        10_000,
        'up',
      );
      await matches(t);
      const recoverMs = Date.now() - openAt;
      const m = t.agent.model()!;
      assert.ok(m.images.get(baseId)?.tags.includes(kept), 'the tag added during the gap');
      assert.equal(m.containers.has(c1), true);
      assert.equal(m.containers.has(c2), false);
      const replayed = t.events.filter(
        (e) => e.at >= Date.parse(up.time) && e.event.timeMs >= gapFrom && e.event.timeMs <= openAt,
      ).length;
      assert.ok(replayed <= 256, `the engine replays at most 256 events (got ${replayed})`);
      assert.ok(replayed < gapEvents, 'part of the gap was not replayed: only the re-list can close it');
      const resync = since((r) => r.event === 'model.resync' && r.reason === 'reconnect')[0];
      assert.ok(resync);
      await removeContainer(engine, c1);
      report(tc, '3-connection-cut', {
        cut: { recoverMs: cutRecoverMs },
        gap: {
          eventsDuringGap: gapEvents,
          replayedBySince: replayed,
          eventsNotReplayed: gapEvents - replayed,
          driftRepaired: resync.drift,
          gapSurvived: 0,
          recoverMs,
          downs: since((r) => r.event === 'stream.down').length,
        },
        wronglyRemoved: await removedCount(),
      });
    });

    it('4: malformed stream: truncated line, overlong line, 1-byte chunks, two events in one chunk, API-1.52 shape', async (tc) => {
      const baseId = await engine.baseImage();
      const maxLineBytes = 65_536;
      const removedCount = await imageGuard();
      const t = await agent({ dockerHost: proxy.dockerHost, stream: { backoff: fastBackoff, maxLineBytes } });
      await t.sentinel(engine);
      await matches(t);
      const opened = proxy.eventsOpened;
      const n0 = t.records.length;
      const since = after0(t, n0);
      const resynced = async (k: number) =>
        t.waitForRecord(
          () => since((r) => r.event === 'model.resync' && r.reason === 'malformed event').length >= k,
          10_000,
          `resync ${k}`,
        );

      // A truncated JSON line.
      proxy.inject('{"Type":"container","Action":"sta\n');
      await resynced(1);
      // A line over the maximum length.
      const long = `{"Type":"image","Action":"tag","Actor":{"ID":"${'x'.repeat(100_000)}"}}`;
      proxy.inject(`${long}\n`);
      await resynced(2);
      const bad = since((r) => r.event === 'stream.malformed');
      assert.deepEqual(
        bad.map((r) => r.reason),
        ['not JSON', `line over ${maxLineBytes} bytes (${Buffer.byteLength(long)})`],
      );
      assert.ok(
        bad.every((r) => String(r.sample).length <= 120),
        'short samples in the log',
      );

      // A real event delivered one byte per chunk.
      proxy.byteByByte = true;
      await tagImage(engine, baseId, 'lw/bytes', '1');
      await t.waitForRecord(
        () => t.events.some((e) => e.event.action === 'tag' && e.event.attributes.name === 'lw/bytes:1'),
        10_000,
        'byte-split tag',
      );
      proxy.byteByByte = false;

      // Two events in one chunk, shaped as API 1.52 sends them (no status/id/from).
      const nano = (BigInt(Date.now()) * 1_000_000n + 123n).toString();
      const ev = (name: string, n: string) =>
        `{"Type":"network","Action":"create","Actor":{"ID":"${name}","Attributes":{"name":"${name}","type":"bridge"}},"scope":"local","time":${Math.floor(Date.now() / 1000)},"timeNano":${n}}`;
      proxy.inject(`${ev('lw-inj-1', nano)}\n${ev('lw-inj-2', `${BigInt(nano) + 1n}`)}\n`);
      await t.waitForRecord(
        () => t.events.filter((e) => e.event.actorId.startsWith('lw-inj-')).length === 2,
        10_000,
        'both injected events',
      );
      const injected = t.events.filter((e) => e.event.actorId.startsWith('lw-inj-'));
      assert.deepEqual(
        injected.map((e) => e.event.timeNano),
        [nano, `${BigInt(nano) + 1n}`],
        'exact timeNano',
      );
      await untagImage(engine, 'lw/bytes:1');
      await t.sentinel(engine);
      await matches(t);
      assert.equal(proxy.eventsOpened, opened, 'no reconnect: bad lines do not drop the connection');
      assert.equal(t.agent.model()?.sync.connected, true);
      report(tc, '4-malformed', {
        malformedCounted: bad.length,
        malformedLogged: bad.map((r) => r.reason),
        resyncsTriggered: since((r) => r.event === 'model.resync' && r.reason === 'malformed event').length,
        goodEventsParsed: { byteByByte: 1, twoInOneChunk: 2 },
        reconnects: proxy.eventsOpened - opened,
        stillConnected: t.agent.model()?.sync.connected,
        wronglyRemoved: await removedCount(),
      });
    });

    it('5b: a slowed consumer loses events; the periodic resync detects and repairs the drift', async (tc) => {
      const baseId = await engine.baseImage();
      const removedCount = await imageGuard();
      const t = await agent({
        dockerHost: proxy.dockerHost,
        flags: { resync: '4s' },
        stream: { backoff: fastBackoff, silenceMs: 60_000 },
      });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await createContainer(engine, 'lw-base', `lw-slow-${i}`));
      await t.sentinel(engine);
      await matches(t);
      const n0 = t.records.length;
      const since = after0(t, n0);
      proxy.stall(); // the agent's events stop being read: the engine's buffer for it fills up
      const stalledAt = Date.now();
      let made = 0;
      // Once the engine's buffer for us is full, it waits 100 ms on every event before dropping it: each
      // call then takes 100 ms or more. Five such calls in a row (not a stray slow one) mean full.
      let slowInARow = 0;
      for (let i = 0; i < 4000 && slowInARow < 5; i++) {
        for (const lat of [
          await tagImage(engine, baseId, 'lw/slow', `f${i}`),
          await untagImage(engine, `lw/slow:f${i}`),
        ]) {
          made++;
          slowInARow = lat >= 95 ? slowInARow + 1 : 0;
        }
      }
      const fullAfter = made;
      for (const id of ids) await removeContainer(engine, id);
      const resumeAt = Date.now();
      proxy.resume();
      await t.sentinel(engine, 60_000);
      const matchMs = await matches(t, 60_000);
      const recoverMs = Date.now() - resumeAt;
      const fillerReceived = t.events.filter(
        (e) =>
          e.event.timeMs >= stalledAt - 1000 &&
          e.event.actorId === baseId &&
          (e.event.action === 'untag' || e.event.attributes.name?.startsWith('lw/slow:')),
      ).length;
      const destroysReceived = t.events.filter(
        (e) => e.event.action === 'destroy' && ids.includes(e.event.actorId),
      ).length;
      const lost = made - fillerReceived + (ids.length - destroysReceived);
      assert.ok(lost > 0, 'the stalled reader lost events (the premise of the scenario)');
      const repaired = since(
        (r) => r.event === 'model.resync' && r.reason === 'periodic' && Number(r.driftTotal) > 0,
      );
      assert.ok(repaired.length > 0, 'a periodic resync found drift');
      for (const id of ids) assert.equal(t.agent.model()?.containers.has(id), false);
      report(tc, '5b-slowed-consumer', {
        stalledMs: resumeAt - stalledAt,
        eventsMade: made + ids.length,
        bufferFullAfterEvents: fullAfter,
        eventsLost: lost,
        destroysLost: ids.length - destroysReceived,
        driftRepaired: repaired.map((r) => r.drift),
        recoverAfterResumeMs: recoverMs,
        matchWaitMs: matchMs,
        wronglyRemoved: await removedCount(),
      });
    });

    it('6: permission denied on the socket (unprivileged agent, socket mode 0600): clear message, slow retries, recovers', async (tc) => {
      const removedCount = await imageGuard();
      const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-nobody-'));
      await chown(dir, NOBODY, NOBODY);
      await proxy.setMode(0o600);
      const records: LogRecord[] = [];
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/bin.ts',
          'watch',
          '--no-prune',
          '--docker-host',
          proxy.dockerHost,
          '--state-file',
          path.join(dir, 'state.json'),
          '--reconnect-max',
          '2s',
          '--resync',
          '1h',
        ],
        {
          cwd: REPO_ROOT,
          uid: NOBODY,
          gid: NOBODY,
          env: { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: dir },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      let partial = '';
      child.stdout.on('data', (b: Buffer) => {
        const lines = (partial + b.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) records.push(JSON.parse(l) as LogRecord);
      });
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const first = await waitFor(() => records.find((r) => r.event === 'stream.down'), 30_000, {
          message: 'first EACCES',
        });
        assert.equal(first.code, 'EACCES');
        assert.match(String(first.hint), /permission denied on the Docker socket/);
        // Watch for a while: one line per retry at the slow pace, no flood.
        const windowMs = 7000;
        await new Promise((r) => setTimeout(r, windowMs));
        const downs = records.filter((r) => r.event === 'stream.down');
        assert.ok(
          downs.every((r) => r.code === 'EACCES' && r.retryInMs === 2000),
          JSON.stringify(downs.map((r) => [r.code, r.retryInMs])),
        );
        assert.ok(
          downs.length <= Math.ceil(windowMs / 2000) + 2,
          `${downs.length} records in ${windowMs} ms`,
        );
        assert.ok(downs.length >= 3);
        const fixAt = Date.now();
        await proxy.setMode(0o666);
        const resync = await waitFor(() => records.find((r) => r.event === 'model.resync'), 15_000, {
          message: 'listed after the fix',
        });
        const recoverMs = Date.parse(resync.time) - fixAt;
        assert.ok(recoverMs <= 2000 + 2000, `recovered ${recoverMs} ms after the fix`);
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
        assert.equal(stderr.includes('    at '), false, 'no stack trace');
        report(tc, '6-EACCES', {
          user: 'nobody (65534)',
          socketMode: '0600 root',
          message: first.hint,
          reason: first.reason,
          retryInMs: first.retryInMs,
          recordsIn7s: downs.length,
          logLinesPerMinute: Math.round(
            (downs.length * 60_000) /
              (Date.parse(String(downs.at(-1)?.time)) - Date.parse(String(first.time)) || 1),
          ),
          recoverAfterFixMs: recoverMs,
          wronglyRemoved: await removedCount(),
        });
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await proxy.setMode(0o666);
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('11: corrupt, truncated and foreign state files: moved aside, clocks restart at now, nothing eligible early', async (tc) => {
    // An untagged, unused image: the only kind a prune may take.
    const untagged = await engine.dockerOk(['import', tar]);
    const engineId = (JSON.parse((await engine.api('/v1.41/info')).body) as { ID: string }).ID;
    const old = Date.now() - 30 * 86_400_000;
    const valid = (id: string) =>
      JSON.stringify({
        version: 1,
        engineId: id,
        savedAt: new Date(old).toISOString(),
        images: { [untagged]: { firstSeen: old, lastUsed: old, untaggedSince: old } },
        prune: {},
      });
    const cases = [
      { name: 'control: valid, this engine', text: valid(engineId), bad: false },
      { name: 'corrupt', text: '\\u0000\\u00ff{{ not json', bad: true },
      { name: 'truncated', text: valid(engineId).slice(0, 80), bad: true },
      { name: 'another engine', text: valid('OTHER:ENGINE:0000'), bad: true },
    ];
    const results: Record<string, unknown> = {};
    for (const c of cases) {
      const dir = await mkdtemp(path.join(tmp, 'state-'));
      const file = path.join(dir, 'state.json');
      await writeFile(file, c.text);
      const startedAt = Date.now();
      const loaded = await loadState(file, startedAt); // as `watch` does
      const t = startTestAgent({ dockerHost: engine.dockerHost, stateFile: file, state: loaded.state });
      agents.push(t);
      try {
        await t.waitForRecord((r) => r.event === 'model.resync', 30_000, 'first list');
        if (c.name === 'another engine')
          await t.waitForRecord((r) => r.event === 'state.moved', 10_000, 'moved aside');
        const img = t.agent.model()?.images.get(untagged);
        assert.ok(img);
        const plan = planPrune(t.agent.model()!, { minAgeMs: 86_400_000 }, Date.now());
        const candidate = plan.candidates.some((x) => x.id === untagged);
        const aside = (await readdir(dir)).filter((f) => f.startsWith('state.json.bad-'));
        if (c.bad) {
          assert.ok(img.firstSeen >= startedAt, `${c.name}: clocks restart at now`);
          assert.equal(candidate, false, `${c.name}: not eligible early`);
          assert.equal(aside.length, 1, `${c.name}: moved aside`);
        } else {
          assert.equal(img.firstSeen, old, 'control: clocks kept');
          assert.equal(candidate, true, 'control: an image untouched for 30 days is a candidate');
          assert.equal(aside.length, 0);
        }
        results[c.name] = {
          movedAside: aside.length === 1,
          warning: loaded.warning ?? (t.recordsOf('state.foreign')[0] ? 'state.foreign' : undefined),
          firstSeenAgeMs: Date.now() - img.firstSeen,
          eligible: candidate,
        };
      } finally {
        await t.stop();
      }
    }
    const wronglyEligible = Object.entries(results).filter(
      ([name, r]) => !name.startsWith('control') && (r as { eligible: boolean }).eligible,
    ).length;
    report(tc, '11-state-file', { cases: results, wronglyEligible });
  });
});
