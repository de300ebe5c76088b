/**
 * The run-time eviction audit on a private engine: the agent runs in-process (its log in memory) while
 * a swarm stack runs and `docker rmi` / `docker image prune -af` evict cached images, then again after
 * the stack is gone; the agent's own removal; re-pulls linked to their eviction; `audit` over the log.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningAgent, startAgent } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import type { DockerPort } from '../../src/docker/port.js';
import type { AuditSection } from '../../src/report/audit.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { type Engine, run, startEngine, waitFor } from './harness.js';

type Rec = Record<string, unknown>;
const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
/** Unique layer of each image, in bytes (the layer size the history reports is the file's). */
const SIZES = { a: 4096, b: 8192, c: 12288, app: 16384 } as const;
type Name = keyof typeof SIZES;
const refsOf = (r: Rec | undefined) => (r?.refs ?? []) as string[];
const pruneOf = (r: Rec | undefined) => (r?.prune ?? {}) as Rec;

describe('eviction audit on a private engine', { timeout: 600_000 }, () => {
  let engine: Engine;
  let work: string;
  let port: DockerPort;
  let agent: RunningAgent | undefined;
  const log = captureLogger();
  const ref = {} as Record<Name, string>;
  const id = {} as Record<Name, string>;
  let baseBytes = 0;

  const find = (pred: (r: Rec) => boolean) => log.records.filter(pred);
  const evictionsOf = (name: Name) => find((r) => r.event === 'eviction' && r.image === id[name]);
  const waitRecord = (what: string, pred: (r: Rec) => boolean, count = 1): Promise<Rec[]> =>
    waitFor(
      () => {
        const hits = find(pred);
        return hits.length >= count ? hits : undefined;
      },
      30_000,
      { message: what },
    );
  const inspectId = async (r: string) => engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', r]);

  before(async () => {
    engine = await startEngine();
    work = await mkdtemp(path.join(os.tmpdir(), 'lw-audit-'));
    for (const name of Object.keys(SIZES) as Name[]) {
      ref[name] = `${engine.registry}/lw/${name}:1`;
      await engine.buildImage(ref[name], [{ file: `${name}.bin`, bytes: SIZES[name] }]);
      await engine.push(ref[name]);
    }
    // Only what the registry holds stays reachable: the host starts empty, as a fresh CI host.
    await engine.dockerOk(['rmi', ...Object.values(ref), 'lw-base:latest']);
    await engine.swarmInit();
    port = createEnginePort(engine.dockerHost);
    const { config } = resolveConfig(
      { dockerHost: engine.dockerHost, stateFile: path.join(work, 'state.json') },
      {},
    );
    agent = startAgent({
      config,
      port,
      logger: log.logger,
      state: emptyState(),
      policy: { runStack: /.*/, quietPeriodMs: 1000 },
    });
    await waitRecord('the first list', (r) => r.event === 'model.resync');
  });

  after(async () => {
    try {
      await agent?.stop();
    } finally {
      await engine?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  it('pulls the cache and starts a run stack', async () => {
    for (const name of Object.keys(SIZES) as Name[]) {
      const truth = await engine.pullWithProgress(ref[name]);
      id[name] = await inspectId(ref[name]);
      const [pull] = await waitRecord(`pull of ${name}`, (r) => r.event === 'pull' && r.ref === ref[name]);
      assert.equal(pull?.class, truth.kind, `${name}: the agent's class is the puller's`);
      assert.equal(pull?.afterEviction, undefined);
    }
    const history = await engine.dockerOk([
      'history',
      '--no-trunc',
      '--human=false',
      '--format',
      '{{.Size}}',
      ref.a,
    ]);
    baseBytes = Number(history.split('\n').at(-1));
    assert.ok(baseBytes > 0);
    await engine.deployStack('ci-run', `version: "3.8"\nservices:\n  app:\n    image: ${ref.app}\n`);
    await engine.waitForStack('ci-run');
    await waitRecord('stack.up ci-run', (r) => r.event === 'stack.up' && r.stack === 'ci-run');
  });

  it('docker rmi during the run: external, duringRun, the stack, at warn, with its refs', async () => {
    await engine.dockerOk(['rmi', ref.a]);
    const [e] = await waitRecord('eviction of a', (r) => r.event === 'eviction' && r.image === id.a);
    assert.equal(e?.by, 'external');
    assert.equal(e?.duringRun, true);
    assert.deepEqual(e?.stacks, ['ci-run']);
    assert.equal(e?.level, 'warn');
    assert.equal(e?.activity, 'delete');
    assert.ok(refsOf(e).includes(ref.a), `refs ${JSON.stringify(e?.refs)}`);
    assert.ok(refsOf(e).some((r) => r.startsWith(`${engine.registry}/lw/a@sha256:`)));
    assert.equal(e?.freedBytes, SIZES.a);
  });

  it('docker image prune -af during the run: the burst is the engine prune, the used image stays', async () => {
    const out = await engine.dockerOk(['image', 'prune', '-af']);
    const [prune] = await waitRecord('engine.prune', (r) => r.event === 'engine.prune' && r.what === 'image');
    for (const name of ['b', 'c'] as const) {
      const [e] = await waitRecord(
        `eviction of ${name}`,
        (r) => r.event === 'eviction' && r.image === id[name],
      );
      assert.equal(e?.by, 'external');
      assert.equal(e?.duringRun, true);
      assert.deepEqual(e?.stacks, ['ci-run']);
      assert.equal(e?.level, 'warn');
      assert.equal(e?.activity, 'engine-prune');
      assert.deepEqual(e?.prune, { at: prune?.at, reclaimed: prune?.reclaimed });
      assert.ok(refsOf(e).includes(ref[name]));
    }
    assert.equal(evictionsOf('app').length, 0, 'the image the stack runs is not evicted');
    assert.equal(prune?.evictions, 2);
    assert.equal(prune?.claimedBy, 'reclaimed-bytes');
    assert.equal(prune?.reclaimed, SIZES.b + SIZES.c);
    assert.match(out, /Total reclaimed space: 20\.48kB/);
  });

  it('re-pulls of evicted images link their eviction', async () => {
    for (const [name, activity] of [
      ['b', 'engine-prune'],
      ['a', 'delete'],
    ] as const) {
      const truth = await engine.pullWithProgress(ref[name]);
      assert.equal(truth.kind, 'partial', 'the base layer is still held by the stack image');
      const [pull] = await waitRecord(
        `re-pull of ${name}`,
        (r) => r.event === 'pull' && r.ref === ref[name],
        2,
      );
      const repull = find((r) => r.event === 'pull' && r.ref === ref[name]).at(-1);
      assert.ok(pull);
      assert.equal(repull?.class, 'partial');
      assert.deepEqual(repull?.bytes, { downloaded: SIZES[name], reused: baseBytes, known: true });
      const link = repull?.afterEviction as Rec;
      assert.equal(link.by, 'external');
      assert.equal(link.activity, activity);
      assert.equal(link.image, id[name]);
      assert.equal(link.at, evictionsOf(name)[0]?.at);
    }
  });

  it('after the stack is gone: duringRun false, no stacks, at info', async () => {
    await engine.removeStack('ci-run');
    await waitRecord('stack.down ci-run', (r) => r.event === 'stack.down' && r.stack === 'ci-run');
    await engine.dockerOk(['rmi', ref.b]);
    await engine.dockerOk(['image', 'prune', '-af']);
    await waitRecord('second eviction of b', (r) => r.event === 'eviction' && r.image === id.b, 2);
    await waitRecord('eviction of app', (r) => r.event === 'eviction' && r.image === id.app);
    await waitRecord('second eviction of a', (r) => r.event === 'eviction' && r.image === id.a, 2);
    const after = [evictionsOf('b')[1], evictionsOf('a')[1], evictionsOf('app')[0]];
    for (const e of after) {
      assert.equal(e?.duringRun, false);
      assert.deepEqual(e?.stacks, []);
      assert.equal(e?.level, 'info');
      assert.equal(e?.by, 'external');
    }
    assert.deepEqual(
      after.map((e) => e?.activity),
      ['delete', 'engine-prune', 'engine-prune'],
    );
    // Whichever of the two goes last frees the base layer too; the engine reclaimed exactly that.
    const freed = (evictionsOf('a')[1]?.freedBytes as number) + (evictionsOf('app')[0]?.freedBytes as number);
    assert.equal(freed, SIZES.a + SIZES.app + baseBytes);
    assert.equal(pruneOf(evictionsOf('app')[0]).reclaimed, freed);
  });

  it('a cold re-pull links the prune that evicted it during the run', async () => {
    const truth = await engine.pullWithProgress(ref.c);
    assert.equal(truth.kind, 'cold');
    await waitRecord('re-pull of c', (r) => r.event === 'pull' && r.ref === ref.c, 2);
    const repull = find((r) => r.event === 'pull' && r.ref === ref.c).at(-1);
    assert.equal(repull?.class, 'cold');
    assert.deepEqual(repull?.bytes, { downloaded: SIZES.c + baseBytes, reused: 0, known: true });
    const link = repull?.afterEviction as Rec;
    assert.equal(link.activity, 'engine-prune');
    assert.equal(link.pruneAt, pruneOf(evictionsOf('c')[0]).at);
  });

  it("the agent's own removal (announced with own-removal and answered, as the executor does) is by layerwarden", async () => {
    agent?.loop.push({ kind: 'own-removal', id: id.c });
    assert.deepEqual(await port.removeImage(id.c), { kind: 'removed' });
    agent?.loop.push({ kind: 'own-removal', id: id.c, answer: 'removed' });
    const [own] = await waitRecord(
      'own eviction of c',
      (r) => r.event === 'eviction' && r.by === 'layerwarden',
    );
    assert.equal(own?.image, id.c);
    assert.equal(own?.activity, 'delete');
    assert.equal(own?.duringRun, false);
    assert.equal(own?.level, 'info');
  });

  it('report on the saved log lists all of it with the right counts and bytes', async () => {
    await agent?.stop();
    agent = undefined;
    const file = path.join(work, 'layerwarden.log');
    await writeFile(file, `${log.lines.join('\n')}\n`);
    const r = await run(process.execPath, ['--import', 'tsx', BIN, 'report', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = (JSON.parse(r.stdout) as { audit: AuditSection }).audit;
    assert.equal(s.evictions.total, 7);
    assert.deepEqual(
      s.evictions.byActor.map((a) => [a.by, a.evictions, a.duringRun]),
      [
        ['external', 6, 3],
        ['layerwarden', 1, 0],
      ],
    );
    const external = s.evictions.byActor[0];
    assert.equal(
      external?.freedBytes,
      SIZES.a + SIZES.b + SIZES.c + SIZES.b + SIZES.a + SIZES.app + baseBytes,
    );
    assert.deepEqual(
      // The engine prunes in no fixed order: compare as sets.
      s.duringRun
        .map((e) => [e.image, e.activity, e.stacks])
        .sort(),
      [
        [id.a, 'delete', ['ci-run']],
        [id.b, 'engine-prune', ['ci-run']],
        [id.c, 'engine-prune', ['ci-run']],
      ].sort(),
    );
    assert.equal(s.rePulls.total, 3);
    assert.equal(s.rePulls.bytes, SIZES.b + SIZES.a + SIZES.c + baseBytes);
    const firstPrune = pruneOf(evictionsOf('b')[0]).at;
    assert.deepEqual(
      s.rePulls.byCause.map((c) => [c.activity, c.at, c.evictions, c.rePulls, c.cold, c.partial, c.bytes]),
      [
        ['engine-prune', firstPrune, 2, 2, 1, 1, SIZES.b + SIZES.c + baseBytes],
        ['delete', evictionsOf('a')[0]?.at, 1, 1, 0, 1, SIZES.a],
      ],
    );
    assert.equal(s.enginePrunes.filter((p) => p.what === 'image').length, 2);
    assert.deepEqual(s.pruneDecisions, []);
    const text = await run(process.execPath, ['--import', 'tsx', BIN, 'report', file]);
    assert.match(text.stdout, /evictions: 7 \(external 6, layerwarden 1\)/);
    assert.match(text.stdout, /evictions during runs: 3/);
    assert.match(text.stdout, /re-pulls caused by evictions: 3/);
  });
});
