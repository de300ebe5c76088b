/**
 * The resident agent in production, against a private engine: /healthz follows the engine through a
 * daemon stop and start, /metrics parses and its counters match what the test did, and `watch` stops
 * cleanly on SIGTERM (exit 0 within 10 s, state file and log flushed).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { type RunningAgent, startAgent } from '../../src/agent/agent.js';
import { type Served, serveAgent } from '../../src/agent/serve.js';
import { idlePolicy } from '../../src/cli/shared.js';
import { scheduleOf } from '../../src/cli/prune-config.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import { emptyState } from '../../src/state/state-file.js';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { type Engine, startEngine, waitFor } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
type Record_ = { event?: string; msg?: string; [k: string]: unknown };

function get(base: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${urlPath}`, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const scrape = async (base: string) => {
  const r = await get(base, '/metrics');
  assert.equal(r.status, 200);
  return parsePrometheusText(r.body);
};

describe('agent in production: health, metrics, lifecycle', { timeout: 600_000 }, () => {
  let engine: Engine;
  let work: string;
  let agent: RunningAgent | undefined;
  let served: Served | undefined;
  const records: Record_[] = [];
  let base = '';
  const refs: string[] = [];

  before(async () => {
    engine = await startEngine();
    work = await mkdtemp(path.join(os.tmpdir(), 'lw-ops-'));
    for (const name of ['a', 'b']) {
      const ref = `${engine.registry}/lw/ops-${name}:1`;
      await engine.buildImage(ref, [{ file: `${name}.bin`, bytes: 4096 }]);
      await engine.push(ref);
      await engine.dockerOk(['rmi', ref]);
      refs.push(ref);
    }
    const dest = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) records.push(JSON.parse(line));
        done();
      },
    });
    const logger = pino({ level: 'info' }, dest);
    const { config } = resolveConfig(
      {
        dockerHost: engine.dockerHost,
        stateFile: path.join(work, 'state.json'),
        listen: '127.0.0.1:0',
        quietPeriod: '10m',
      },
      {},
    );
    const policy = idlePolicy(config);
    agent = startAgent({
      config,
      port: createEnginePort(config.dockerHost),
      logger,
      state: emptyState(),
      policy,
    });
    served = await serveAgent({ agent, config, logger, policy, prune: 'on', schedule: scheduleOf(config) });
    base = `http://127.0.0.1:${served.http?.address.port}`;
  });

  after(async () => {
    try {
      await served?.close();
      await agent?.stop();
    } finally {
      await engine?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  it('logs one startup line: what it watches, where it logs, its state, the next boundary, where it serves', () => {
    const start = records.filter((r) => r.event === 'agent.start');
    assert.equal(start.length, 1);
    const msg = String(start[0]?.msg);
    assert.match(msg, new RegExp(`watching ${engine.dockerHost}`));
    assert.match(msg, /log to stdout/);
    assert.match(msg, new RegExp(`state in ${work}/state.json`));
    assert.match(msg, /next prune boundary \d{4}-\d\d-\d\dT/);
    assert.match(msg, new RegExp(`serving ${base}/healthz`));
    assert.ok(Date.parse(String(start[0]?.nextBoundary)) > Date.now());
  });

  it('answers /healthz 503 while the engine is stopped and 200 again after it returns', async () => {
    await waitFor(async () => (await get(base, '/healthz')).status === 200, 60_000, {
      message: 'healthy at start',
    });
    await engine.stopDaemon('TERM');
    const down = await waitFor(
      async () => {
        // A refresh in flight may fail first (503, still connected): wait for the stream's own loss.
        const r = await get(base, '/healthz');
        return r.status === 503 && JSON.parse(r.body).connected === false ? r : undefined;
      },
      30_000,
      { message: '503 with the stream down while the daemon is down' },
    );
    const body = JSON.parse(down.body) as { status: string; reasons: string[]; connected: boolean };
    assert.equal(body.status, 'unavailable');
    assert.equal(body.connected, false);
    assert.match(body.reasons[0] ?? '', /events stream down/);

    await engine.startDaemon();
    await waitFor(async () => (await get(base, '/healthz')).status === 200, 90_000, {
      intervalMs: 250,
      message: '200 after the daemon returned',
    });
    const exp = await scrape(base);
    const downs = records.filter((r) => r.event === 'stream.down').length;
    assert.ok(downs >= 1);
    assert.equal(
      sampleValue(exp, 'layerwarden_stream_disconnects_total'),
      downs,
      'every stream.down counted',
    );
    assert.equal(
      sampleValue(exp, 'layerwarden_stream_reconnects_total'),
      records.filter((r) => r.event === 'stream.up').length - 1,
    );
    assert.ok((sampleValue(exp, 'layerwarden_resyncs_total', { reason: 'reconnect' }) ?? 0) >= 1);
    assert.equal(sampleValue(exp, 'layerwarden_stream_connected'), 1);
    assert.equal(sampleValue(exp, 'layerwarden_model_in_sync'), 1);
  });

  it('counts in /metrics what happened: pulls by class and bytes, an eviction, events by type', async () => {
    const before = await scrape(base);
    const imageEventsBefore = sampleValue(before, 'layerwarden_events_total', { type: 'image' }) ?? 0;
    const pulls = () => records.filter((r) => r.event === 'pull');
    const seen = pulls().length;
    const truth = [];
    for (const ref of refs) truth.push(await engine.pullWithProgress(ref)); // cold, except the shared base
    truth.push(await engine.pullWithProgress(refs[0] as string)); // up to date: warm
    await waitFor(() => pulls().length === seen + truth.length, 30_000, { message: 'every pull logged' });
    await engine.dockerOk(['rmi', refs[1] as string]);
    await waitFor(() => records.some((r) => r.event === 'eviction'), 30_000, { message: 'eviction logged' });

    const mine = pulls().slice(seen);
    const exp = await scrape(base);
    for (const cls of ['cold', 'partial', 'warm']) {
      const logged = mine.filter((p) => p.class === cls).length;
      const before_ = sampleValue(before, 'layerwarden_pulls_total', { class: cls }) ?? 0;
      assert.equal((sampleValue(exp, 'layerwarden_pulls_total', { class: cls }) ?? 0) - before_, logged, cls);
    }
    assert.equal(mine.filter((p) => p.class === 'warm').length, 1, 'the repeated pull is warm');
    const downloaded = mine.reduce((n, p) => n + ((p.bytes as { downloaded: number }).downloaded ?? 0), 0);
    assert.ok(downloaded >= 2 * 4096, 'at least the two 4 KiB layers came down');
    assert.equal(
      (sampleValue(exp, 'layerwarden_pull_bytes_total', { kind: 'downloaded' }) ?? 0) -
        (sampleValue(before, 'layerwarden_pull_bytes_total', { kind: 'downloaded' }) ?? 0),
      downloaded,
    );
    assert.equal(sampleValue(exp, 'layerwarden_evictions_total', { by: 'external', during_run: 'false' }), 1);
    const imageEvents =
      (sampleValue(exp, 'layerwarden_events_total', { type: 'image' }) ?? 0) - imageEventsBefore;
    assert.ok(imageEvents >= truth.length + 2, `pulls, untag and delete are image events (${imageEvents})`);
    assert.equal(sampleValue(exp, 'layerwarden_registry_pulls_in_window', { registry: engine.registry }), 3);
    assert.equal(
      sampleValue(exp, 'layerwarden_model_objects', { kind: 'images' }),
      agent?.model()?.images.size,
    );
    assert.equal(sampleValue(exp, 'layerwarden_disk_reading_ok'), 1, 'statfs of the Docker root on scrape');
    assert.ok(
      (sampleValue(exp, 'layerwarden_prune_next_boundary_timestamp_seconds') ?? 0) * 1000 > Date.now(),
    );
    assert.equal(
      sampleValue(exp, 'layerwarden_busy_reasons', { reason: 'recent-pull' }),
      1,
      'within 1 s quiet',
    );
  });

  it('serves /v1/status as the status document', async () => {
    const r = await get(base, '/v1/status');
    assert.equal(r.status, 200);
    const doc = JSON.parse(r.body) as Record<string, unknown> & {
      images: { total: number };
      disk: { ok: boolean };
    };
    assert.equal(doc.images.total, agent?.model()?.images.size);
    assert.equal(doc.disk.ok, true);
    // The real engine's graphdriver store: removal allowed, the Docker root the one filesystem measured.
    assert.equal((doc.engine as { imageStore: string }).imageStore, 'graphdriver');
    assert.deepEqual(doc.removal, { allowed: true });
    assert.equal(doc.lastPruneRun, null, 'no prune ran in this process');
    assert.deepEqual(
      (doc.disks as Array<{ role: string; path: string }>).map((d) => [d.role, d.path]),
      [['docker-root', agent?.model()?.engine?.dockerRootDir]],
    );
    assert.deepEqual(Object.keys(doc).sort(), [
      'at',
      'busy',
      'containers',
      'disk',
      'disks',
      'engine',
      'idle',
      'images',
      // The last prune run seen on the record stream (docs/deploy.md); null before the first.
      'lastPruneRun',
      'removal',
      'services',
      'stacks',
      'sync',
    ]);
  });

  it('watch stops on SIGTERM with exit 0 within 10 s, state file written, log flushed', async () => {
    const stateFile = path.join(work, 'watch-state.json');
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src/cli/bin.ts'),
        'watch',
        '--docker-host',
        engine.dockerHost,
        '--state-file',
        stateFile,
        '--listen',
        '127.0.0.1:0',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAYERWARDEN_CONFIG: '' } },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.on('exit', (code) => resolve({ code, at: Date.now() })),
    );
    try {
      const listen = await waitFor(() => /"listen":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1], 30_000, {
        message: `agent.start with its address (stderr: ${err})`,
      });
      await waitFor(async () => (await get(listen, '/healthz')).status === 200, 60_000, {
        message: 'child healthy',
      });
      const sentAt = Date.now();
      child.kill('SIGTERM');
      const { code, at } = await exited;
      assert.equal(code, 0, err);
      assert.ok(at - sentAt < 10_000, `exited in ${at - sentAt} ms`);
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record_);
      assert.deepEqual(
        lines.slice(-2).map((l) => l.event),
        ['agent.stop', 'agent.stopped'],
        'the last records reached stdout',
      );
      assert.equal(lines.at(-2)?.reason, 'SIGTERM');
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as { engineId?: string; images: object };
      assert.equal(state.engineId, (await engine.dockerOk(['info', '--format', '{{.ID}}'])).trim());
      assert.ok(Object.keys(state.images).length >= 1, 'clocks of the images it saw');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
