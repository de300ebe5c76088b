/**
 * The redeploy proof on a real swarm (deployed from a fresh image: cold; removed and deployed again:
 * nothing downloaded), and `watch --report` against `report` on the log it saved.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentUnderTest, type LogRecord } from './agent-log.js';
import { type Engine, run, startEngine, waitFor } from './harness.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const REPLICAS = 2;

describe('deploy evidence on a real swarm', { timeout: 600_000 }, () => {
  let engine: Engine;
  let lw: AgentUnderTest;
  let web: string;
  let pinned: string;
  let webId: string;
  let child: ChildProcess | undefined;
  let work: string;

  const stack = (name: string) =>
    engine.deployStack(
      name,
      `version: "3.8"\nservices:\n  web:\n    image: ${web}\n    deploy:\n      replicas: ${REPLICAS}\n`,
    );
  const converged = (mark: number) =>
    lw.next((r) => r.event === 'service.converged' && r.service === 'lwci_web', mark, 60_000);

  before(async () => {
    engine = await startEngine();
    work = await mkdtemp(path.join(os.tmpdir(), 'lw-deploy-'));
    lw = await AgentUnderTest.start(engine.dockerHost);
    await engine.swarmInit();
    web = `${engine.registry}/lw/web:1`;
    webId = await engine.buildImage(web, [
      { file: 'w1.bin', bytes: 4000 },
      { file: 'w2.bin', bytes: 600 },
    ]);
    pinned = `${engine.registry}/lw/web@${await engine.push(web)}`;
    await engine.dockerOk(['rmi', web, 'lw-base:latest']);
  });

  after(async () => {
    try {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await lw?.stop();
    } finally {
      await engine?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  it('deploys a stack from a fresh image: one cold pull, warm repeats for the other tasks', async () => {
    // Ground truth for a pull nobody can watch: the engine holds no image at all, so every layer
    // the swarm's pull brought had to be downloaded.
    assert.equal(await engine.dockerOk(['images', '-aq']), '');
    const mark = lw.mark;
    await stack('lwci');
    await engine.waitForStack('lwci');
    const done = await converged(mark);
    const pulls = lw.since(mark, (r) => r.event === 'pull') as Array<LogRecord & Record<string, never>>;
    assert.equal(pulls.length, REPLICAS, 'one record per task');
    const [first, ...rest] = pulls;
    assert.equal(first!.class, 'cold');
    assert.equal(first!.image, webId);
    const size = Number(await engine.dockerOk(['image', 'inspect', '--format', '{{.Size}}', pinned]));
    assert.deepEqual(first!.layers, { total: 3, new: 3 });
    assert.deepEqual(first!.bytes, { downloaded: size, reused: 0, known: true });
    for (const r of rest) assert.deepEqual([r.class, r.repeatOf], ['warm', first!.at]);

    assert.equal(done.cause, 'create');
    assert.ok((done.seconds as number) > 0);
    assert.deepEqual(
      (done.pulls as Array<{ class: string; at: string }>).map((p) => [p.class, p.at]),
      pulls.map((p) => [p.class, p.at]),
      'the deploy names its pulls as their own records do',
    );
    assert.deepEqual([done.layersDownloaded, done.bytesDownloaded], [3, size]);
  });

  it('removed and deployed again: converged with no layer downloaded (the redeploy proof)', async () => {
    await engine.removeStack('lwci');
    const mark = lw.mark;
    await stack('lwci');
    await engine.waitForStack('lwci');
    const done = await converged(mark);
    assert.equal(done.cause, 'create');
    assert.deepEqual([done.pulls, done.layersDownloaded, done.bytesDownloaded], [[], 0, 0]);
    assert.deepEqual(
      lw.since(mark, (r) => r.event === 'pull'),
      [],
    );

    // Ground truth: the puller finds nothing to download for the image the stack runs.
    const truth = await engine.pullWithProgress(pinned);
    assert.deepEqual([truth.status, truth.layers.length], ['Image is up to date', 0]);
    const record = await lw.next((r) => r.event === 'pull' && r.ref === pinned, mark);
    assert.deepEqual([record.class, record.upToDate], ['warm', true]);
    await engine.removeStack('lwci');
  });

  it('watch --report prints each pull and a summary; report on the saved log gives the same', async () => {
    const log = path.join(work, 'log.ndjson');
    const extra = `${engine.registry}/lw/extra:1`;
    await engine.buildImage(extra, [{ file: 'x.bin', bytes: 1500 }]);
    await engine.push(extra);
    await engine.dockerOk(['rmi', extra, 'lw-base:latest']);
    child = spawn(
      process.execPath,
      ['--import', 'tsx', BIN, 'watch', '--report', '--report-format', 'json', '--for', '120s'],
      {
        env: {
          ...engine.childEnv(),
          LAYERWARDEN_DOCKER_HOST: engine.dockerHost,
          LAYERWARDEN_STATE_FILE: path.join(work, 'state.json'),
          LAYERWARDEN_LOG_FILE: log,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    await waitFor(
      async () => (await readFile(log, 'utf8').catch(() => '')).includes('"model.resync"'),
      30_000,
      {
        message: 'the child agent listed the engine',
      },
    );

    const truths = [];
    for (const ref of [web, web, pinned, extra]) truths.push(await engine.pullWithProgress(ref));
    const lines = () =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => lines().length >= truths.length, 20_000, { message: 'a report line per pull' });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);

    const out = lines();
    const summary = out.at(-1) as { type: string; totals: Record<string, number>; pulls: unknown[] };
    assert.equal(summary.type, 'summary');
    assert.deepEqual(
      out.slice(0, -1).map((l) => [l.type, l.class]),
      truths.map((t) => ['pull', t.kind]),
    );
    assert.deepEqual(
      [summary.totals.cold, summary.totals.partial, summary.totals.warm, summary.totals.bytesDownloaded],
      [0, 1, 3, 1500],
    );

    const rebuilt = await run(process.execPath, ['--import', 'tsx', BIN, 'report', log, '--json']);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.equal(rebuilt.stderr, '');
    const again = JSON.parse(rebuilt.stdout) as typeof summary;
    assert.deepEqual(again.totals, summary.totals);
    assert.deepEqual(again.pulls, summary.pulls);
  });
});
