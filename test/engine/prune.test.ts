import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { pruneNow } from '../../src/agent/prune-now.js';
import { pruneSettings } from '../../src/cli/prune-config.js';
import { idlePolicy } from '../../src/cli/shared.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import { loadState } from '../../src/state/state-file.js';
import { type Engine, startEngine } from './harness.js';
import {
  cli,
  digestOnly,
  exists,
  H,
  loadBuiltLongAgo,
  type Pulled,
  WATCH_FAST_BOUNDARIES,
  writeAgedState,
} from './prune-kit.js';

type Rec = Record<string, unknown>;
const QUIET = '1s';
/** Past the quiet period of the last pull, build or container start the test made. */
const quiet = () => sleep(1_100);
const ids = (xs: unknown) => (xs as Array<{ id: string }>).map((x) => x.id);
const byEvent = (records: Rec[], event: string) => records.filter((r) => r.event === event);

describe('prune on a real engine', { timeout: 600_000 }, () => {
  let engine: Engine;
  let dir: string;
  let n = 0;
  const stateFile = () => path.join(dir, `state-${++n}.json`);
  const common = (state: string) => ['--state-file', state, '--quiet-period', QUIET];

  before(async () => {
    engine = await startEngine();
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-prune-'));
    await engine.baseImage();
    await engine.swarmInit();
  });

  after(async () => {
    await engine?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('disk gate: a high-water mark above real usage removes nothing (decision logged); below it prunes', async () => {
    const img = await digestOnly(engine, 'gate');
    const state = stateFile();
    await writeAgedState(engine, state, { [img.id]: 25 * H });
    await quiet();

    const high = await cli(engine, ['prune', '--now', '--json', '--disk-high', '100', ...common(state)]);
    const doc = high.json();
    assert.equal(high.code, 0);
    assert.equal(doc.fired, false);
    const gates = doc.gates as {
      disk: { pass: boolean; usedPercent: number; high: number };
      candidates: Rec;
    };
    assert.equal(gates.disk.pass, false);
    assert.equal(gates.disk.high, 100);
    assert.ok(
      gates.disk.usedPercent > 0 && gates.disk.usedPercent < 100,
      `real usage ${gates.disk.usedPercent}`,
    );
    assert.equal((gates.candidates as { count: number }).count, 1);
    assert.deepEqual(doc.removed, []);
    const [decision] = byEvent(high.records, 'prune.decision');
    assert.equal(decision?.fire, false);
    assert.match(String(decision?.reasons), /below high-water 100%/);
    assert.deepEqual(ids(decision?.candidates), [img.id]);
    assert.equal(byEvent(high.records, 'prune.removed').length, 0);
    assert.ok(await exists(engine, 'image', img.id), 'kept above real usage');

    const low = await cli(engine, ['prune', '--now', '--json', '--disk-high', '1', ...common(state)]);
    const fired = low.json();
    assert.equal(fired.fired, true);
    assert.deepEqual(ids(fired.removed), [img.id]);
    assert.ok((fired.reclaimedBytes as number) >= 4096, `reclaimed ${fired.reclaimedBytes}`);
    assert.equal(await exists(engine, 'image', img.id), false);
    const removed = byEvent(low.records, 'prune.removed');
    assert.equal(removed[0]?.id, img.id);
    assert.ok((removed[0]?.bytes as number) >= 4096);
    assert.equal(byEvent(low.records, 'prune.done')[0]?.removed, 1);
    const eviction = byEvent(low.records, 'eviction').find((e) => e.image === img.id);
    assert.equal(eviction?.by, 'layerwarden');
  });

  it('age gate: untouched < 24 h is kept, past 24 h removed (clocks aged through the state file)', async () => {
    const young = await digestOnly(engine, 'young');
    const old = await digestOnly(engine, 'old');
    const state = stateFile();
    await writeAgedState(engine, state, { [young.id]: 23 * H, [old.id]: 25 * H });
    await quiet();

    const plan = (await cli(engine, ['plan', '--json', ...common(state)])).json();
    assert.deepEqual(ids(plan.candidates), [old.id]);
    const candidate = (plan.candidates as Rec[])[0]!;
    assert.deepEqual(candidate.refs, [old.ref]);
    assert.ok((candidate.untouchedFor as number) >= 25 * H);
    const kept = (plan.kept as Rec[]).find((k) => k.id === young.id);
    assert.equal(kept?.reason, 'untouched only 23h (needs 24h)');

    const pruned = (
      await cli(engine, ['prune', '--now', '--json', '--disk-high', '1', ...common(state)])
    ).json();
    assert.deepEqual(ids(pruned.removed), [old.id]);
    assert.ok(await exists(engine, 'image', young.id));
    assert.equal(await exists(engine, 'image', old.id), false);
  });

  it("age gate: the agent's clock moved 25 h on by faketime ages what it saw", async () => {
    const img = await digestOnly(engine, 'fake');
    const state = stateFile();
    await quiet();
    // The agent sees the image now (a dry run saves its clocks)...
    const seen = await cli(engine, [
      'prune',
      '--now',
      '--dry-run',
      '--json',
      '--disk-high',
      '1',
      ...common(state),
    ]);
    assert.equal(seen.json().fired, false);
    const { state: saved } = await loadState(state, Date.now(), { readOnly: true });
    assert.ok(saved.images[img.id], 'clocks saved');
    // ...and a day and an hour later by its own clock, the image is old enough.
    const plan = (await cli(engine, ['plan', '--json', ...common(state)], { faketime: '+25h' })).json();
    assert.ok(ids(plan.candidates).includes(img.id));
    const pruned = await cli(engine, ['prune', '--now', '--json', '--disk-high', '1', ...common(state)], {
      faketime: '+25h',
    });
    assert.ok(ids(pruned.json().removed).includes(img.id));
    assert.equal(await exists(engine, 'image', img.id), false);
  });

  it('tagged images, images of running and stopped containers and of a service at 0, volumes and networks survive', async () => {
    const tagged = `${engine.registry}/lw/tagged:1`;
    const taggedId = await engine.buildImage(tagged, [{ file: 'tagged.bin', bytes: 2048 }]);
    const running = await digestOnly(engine, 'running');
    const stopped = await digestOnly(engine, 'stopped');
    const scaled = await digestOnly(engine, 'scaled');
    const control = await digestOnly(engine, 'control');
    const runner = await engine.dockerOk([
      'run',
      '-d',
      '--network',
      'none',
      '--name',
      'lw-running',
      running.ref,
    ]);
    const exited = await engine.dockerOk([
      'run',
      '--network',
      'none',
      '--name',
      'lw-stopped',
      stopped.ref,
      'true',
    ]);
    assert.equal(exited, '');
    await engine.dockerOk(['service', 'create', '-d', '--name', 'lw-scaled', '--replicas', '0', scaled.ref]);
    await engine.dockerOk(['volume', 'create', 'lw-volume']);
    await engine.dockerOk(['network', 'create', '--driver', 'overlay', 'lw-network']);
    const state = stateFile();
    const aged = [taggedId, running.id, stopped.id, scaled.id, control.id];
    await writeAgedState(engine, state, Object.fromEntries(aged.map((id) => [id, 30 * H])));
    await quiet();

    const plan = (await cli(engine, ['plan', '--json', ...common(state)])).json();
    const reasons = Object.fromEntries((plan.kept as Rec[]).map((k) => [k.id, k.reason]));
    assert.match(String(reasons[taggedId]), /^tagged/);
    assert.equal(reasons[running.id], 'in use by container lw-running (running)');
    assert.equal(reasons[stopped.id], 'in use by container lw-stopped (exited)');
    assert.equal(reasons[scaled.id], 'referenced by service lw-scaled');
    assert.deepEqual(ids(plan.candidates), [control.id]);

    const pruned = (
      await cli(engine, ['prune', '--now', '--json', '--disk-high', '1', ...common(state)])
    ).json();
    assert.equal(pruned.fired, true);
    assert.deepEqual(ids(pruned.removed), [control.id]);
    for (const id of [taggedId, running.id, stopped.id, scaled.id])
      assert.ok(await exists(engine, 'image', id), id);
    assert.ok(await exists(engine, 'container', runner));
    assert.ok(await exists(engine, 'container', 'lw-stopped'));
    assert.ok(await exists(engine, 'volume', 'lw-volume'));
    assert.ok(await exists(engine, 'network', 'lw-network'));
    await engine.dockerOk(['rm', '-f', 'lw-running', 'lw-stopped']);
    await engine.dockerOk(['service', 'rm', 'lw-scaled']);
  });

  it("keeps the digest-only image of a stack torn down a second ago; the operator's until=24h deletes it", async () => {
    const tagged = `${engine.registry}/lw/built-2020:1`;
    const id = await loadBuiltLongAgo(engine, tagged);
    await engine.push(tagged);
    await engine.dockerOk(['rmi', tagged]); // the host has never seen it: swarm pulls it
    await engine.deployStack('ci-old', `version: "3.8"\nservices:\n  app:\n    image: ${tagged}\n`);
    await engine.waitForStack('ci-old');
    await engine.removeStack('ci-old');
    const inspect = JSON.parse(await engine.dockerOk(['image', 'inspect', id])) as Array<Rec>;
    assert.equal(inspect[0]?.Created, '2020-01-01T00:00:00Z');
    assert.deepEqual(inspect[0]?.RepoTags, [], 'swarm left it digest-only');
    const state = stateFile();

    const plan = (await cli(engine, ['plan', '--json', ...common(state)])).json();
    const kept = (plan.kept as Rec[]).find((k) => k.id === id);
    assert.match(String(kept?.reason), /^untouched only \d+s \(needs 24h\)$/);
    await quiet();
    const pruned = (
      await cli(engine, ['prune', '--now', '--json', '--disk-high', '1', ...common(state)])
    ).json();
    assert.ok(!ids(pruned.removed).includes(id));
    assert.ok(await exists(engine, 'image', id), 'layerwarden keeps it');

    const operator = await engine.dockerOk(['image', 'prune', '-f', '--filter', 'until=24h']);
    assert.match(operator, new RegExp(`deleted: ${id}`, 'i'));
    assert.equal(await exists(engine, 'image', id), false, "the operator's gate deleted the stack's cache");
    assert.ok(await exists(engine, 'image', 'lw-base:latest'));
  });

  it('a stack deployed while the executor works stops it before the next removal; nothing it uses goes', async () => {
    const images: Pulled[] = [];
    for (const name of ['race-1', 'race-2', 'race-3', 'race-4']) images.push(await digestOnly(engine, name));
    const state = stateFile();
    await writeAgedState(
      engine,
      state,
      Object.fromEntries(images.map((img, i) => [img.id, (30 - i) * H])), // race-1 is the oldest
    );
    await quiet();
    const { config } = resolveConfig(
      {
        dockerHost: engine.dockerHost,
        stateFile: state,
        diskHigh: '1',
        quietPeriod: QUIET,
        logLevel: 'info',
      },
      {},
    );
    const records: Rec[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n')) if (line) records.push(JSON.parse(line) as Rec);
          done();
        },
      }),
    );
    const real = createEnginePort(engine.dockerHost);
    let deployedAt: number | undefined;
    const removals: string[] = [];
    const port = {
      ...real,
      removeImage: async (id: string) => {
        removals.push(id);
        const outcome = await real.removeImage(id);
        if (removals.length === 1) {
          // A run starts between two removals, on the images the prune has not reached yet.
          const [, , third, fourth] = images;
          await engine.deployStack(
            'ci-race',
            `version: "3.8"\nservices:\n  a:\n    image: ${third!.ref}\n  b:\n    image: ${fourth!.ref}\n`,
          );
          deployedAt = performance.now();
        }
        return outcome;
      },
    };
    const { state: loaded } = await loadState(state, Date.now());
    const { evaluation, result } = await pruneNow({
      config,
      settings: pruneSettings(config),
      port,
      logger,
      state: loaded,
      policy: idlePolicy(config),
      dryRun: false,
    });
    const abortedAfterMs = deployedAt === undefined ? Number.NaN : performance.now() - deployedAt;
    assert.equal(evaluation.decision.fire, true);
    assert.deepEqual(removals, [images[0]!.id], 'no removal after the deploy');
    assert.equal(result?.outcome, 'aborted');
    assert.equal(result?.aborted?.reason, 'host busy');
    assert.match(String(result?.aborted?.busy), /ci-race/);
    for (const img of images.slice(1)) assert.ok(await exists(engine, 'image', img.id), img.ref);
    const aborted = byEvent(records, 'prune.aborted')[0];
    assert.equal(aborted?.removedSoFar, 1);
    const eviction = byEvent(records, 'eviction').find((e) => e.image === images[0]!.id);
    assert.equal(eviction?.by, 'layerwarden');
    await engine.waitForStack('ci-race');
    await engine.removeStack('ci-race');
    process.stderr.write(`# deploy returned → prune aborted: ${abortedAfterMs.toFixed(0)} ms\n`);
  });

  it('watch runs the schedule: a decision per boundary, the boundary saved; status shows the next boundary', async () => {
    const state = stateFile();
    const r = await cli(engine, [...WATCH_FAST_BOUNDARIES, '--disk-high', '100', ...common(state)]);
    assert.equal(r.code, 0, r.stderr);
    const start = byEvent(r.records, 'agent.start')[0];
    assert.match(String(start?.nextBoundary), /^\d{4}-\d\d-\d\dT/);
    const decisions = byEvent(r.records, 'prune.decision');
    assert.ok(decisions.length >= 1, 'at least one boundary evaluated');
    assert.equal(decisions[0]?.trigger, 'schedule');
    assert.equal(decisions[0]?.fire, false);
    const boundaries = decisions.map((d) => d.boundary);
    assert.equal(new Set(boundaries).size, boundaries.length, 'one evaluation per boundary');
    const saved = JSON.parse(await readFile(state, 'utf8')) as { prune: { lastEvaluatedBoundary?: number } };
    assert.ok(saved.prune.lastEvaluatedBoundary !== undefined);
    assert.ok(boundaries.includes(new Date(saved.prune.lastEvaluatedBoundary).toISOString()));

    const status = await cli(engine, [
      'status',
      '--json',
      '--schedule',
      '0 3 * * *',
      '--tz',
      'UTC',
      ...common(state),
    ]);
    const doc = status.json();
    assert.equal(typeof doc.candidates, 'number');
    assert.match(String(doc.nextBoundary), /T03:00:00\.000Z$/);
    assert.equal((doc.lastPrune as Rec).lastEvaluatedBoundary, saved.prune.lastEvaluatedBoundary);
  });
});
