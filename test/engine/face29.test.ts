/**
 * Issue 11: the agent against Docker 29's face (test/engine/face.ts) over the private dockerd 20.10.
 * What the suite proves on the bare engine, through the face: it negotiates 1.52; pulls classified as the
 * puller printed; the model equals the engine after a burst; an aged untagged candidate pruned and a
 * tagged image kept; an external removal audited; a SIGKILL of the daemon survived; `status --json` of the
 * built CLI; and an upgrade under a running agent (20.10 → the 29 face), nothing pruned while it was blind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEnginePort } from '../../src/docker/engine-port.js';
import { startTestAgent, type TestAgent } from './agent-under-test.js';
import { createContainer, removeContainer, tagBurst } from './event-load.js';
import { docker29Face, FACE_29 } from './face.js';
import { FaultProxy } from './fault-proxy.js';
import { type Engine, startEngine, waitFor } from './harness.js';
import { livePrune } from './live-prune.js';
import { waitForModelToMatch } from './model-vs-engine.js';
import { recordsOf } from '../cli/watch-child.js';
import { BUILT_CLI, cli, digestOnly, ensureBuilt, exists, H, writeAgedState } from './prune-kit.js';

type Rec = Record<string, unknown>;
const ids = (xs: unknown) => (xs as Array<{ id: string }>).map((x) => x.id);
const versionsAsked = (p: FaultProxy, from: number) =>
  new Set(
    p.requests
      .slice(from)
      .map((r) => /^\w+ \/v(\d+\.\d+)\//.exec(r)?.[1])
      .filter(Boolean),
  );

describe('Docker 29 face (issue 11)', { timeout: 600_000 }, () => {
  let engine: Engine;
  let face: FaultProxy;
  let dir: string;
  const agents: TestAgent[] = [];

  const agent = async (dockerHost: string, n: string) => {
    const t = startTestAgent({ dockerHost, stateFile: path.join(dir, `state-${n}.json`) });
    agents.push(t);
    await t.waitForRecord((r) => r.event === 'model.resync', 30_000, 'first list');
    return t;
  };

  before(async () => {
    engine = await startEngine();
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-face29-'));
    face = await FaultProxy.start(path.join(engine.dir, 'face29.sock'), engine.socketPath);
    face.face = docker29Face;
    await ensureBuilt(); // the built CLI runs as an operator runs it (status, watch)
  });

  after(async () => {
    for (const t of agents) await t.stop().catch(() => {});
    await face?.close();
    await engine?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pulls through the face: cold, partial and warm as the puller printed', async () => {
    const from = face.requests.length;
    const t = await agent(face.dockerHost, 'pulls');
    assert.equal(t.agent.model()?.engine?.apiVersion, '1.52');
    const app = `${engine.registry}/lw/face:1`;
    const app2 = `${engine.registry}/lw/face:2`;
    await engine.buildImage(app, [
      { file: 'a.bin', bytes: 3000 },
      { file: 'b.bin', bytes: 5000 },
    ]);
    await engine.buildImage(app2, [
      { file: 'a.bin', bytes: 3000 },
      { file: 'c.bin', bytes: 4000 },
    ]);
    await engine.push(app);
    await engine.push(app2);
    await engine.dockerOk(['rmi', app, app2, 'lw-base:latest']);
    assert.equal(await engine.dockerOk(['images', '-aq']), '', 'nothing left that could share a layer');
    const pull = async (ref: string) => {
      const n = t.records.length;
      const truth = await engine.pullWithProgress(ref);
      const record = await waitFor(
        () => t.records.slice(n).find((r) => r.event === 'pull' && r.ref === ref),
        30_000,
        { message: `pull record of ${ref}` },
      );
      assert.equal(record.class, truth.kind, truth.output);
      return truth.kind;
    };
    assert.equal(await pull(app), 'cold');
    assert.equal(await pull(app2), 'partial');
    assert.equal(await pull(app), 'warm');
    assert.deepEqual([...versionsAsked(face, from)], ['1.52'], 'every versioned call at 1.52');
  });

  it('the face answers as Docker 29: range 1.44–1.52, the exact refusal of 1.41, events without legacy fields', async () => {
    const version = await engine.api('/version', { via: face.socketPath });
    const v = JSON.parse(version.body) as Rec;
    assert.equal(v.ApiVersion, '1.52');
    assert.equal(v.MinAPIVersion, '1.44');
    assert.equal(version.headers['api-version'], '1.52');
    const old = await engine.api('/v1.41/info', { via: face.socketPath });
    assert.equal(old.status, 400);
    assert.equal(
      (JSON.parse(old.body) as Rec).message,
      'client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version',
    );
    await engine.baseImage();
    const t0 = Date.now() / 1000;
    await engine.dockerOk(['tag', 'lw-base:latest', 'lw/face-events:1']);
    await engine.dockerOk(['rmi', 'lw/face-events:1']);
    const events = await engine.api(`/v1.52/events?since=${t0 - 1}&until=${Date.now() / 1000 + 0.5}`, {
      via: face.socketPath,
    });
    const lines = events.body.split('\n').filter(Boolean);
    assert.ok(lines.length >= 2, events.body);
    for (const l of lines) assert.doesNotMatch(l, /"(status|id|from)":/);
    // The real engine still sends them at 1.41: the face is what removed them.
    const real = await engine.api(`/v1.41/events?since=${t0 - 1}&until=${Date.now() / 1000 + 0.5}`);
    assert.match(real.body, /"status":/);
  });

  it('the docker CLI itself through the face: run -d (it waits for the headers of wait), ps, rm, tag, rmi', async () => {
    await engine.baseImage();
    const via = { host: face.dockerHost, timeoutMs: 30_000 };
    // CLI 28 sends `POST /containers/{id}/wait?condition=next-exit` and starts the container only once
    // its headers came back: an engine sends them at once, the body when the container exits.
    const id = await engine.dockerOk(['run', '-d', '--network', 'none', 'lw-base:latest'], via);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await engine.dockerOk(['inspect', '--format', '{{.State.Running}}', id]), 'true');
    assert.match(await engine.dockerOk(['ps', '-q', '--no-trunc'], via), new RegExp(id));
    await engine.dockerOk(['rm', '-f', id], via);
    await engine.dockerOk(['tag', 'lw-base:latest', 'lw/face-cli:1'], via);
    await engine.dockerOk(['rmi', 'lw/face-cli:1'], via);
  });

  it('a burst of events through the face: the model equals the engine', async () => {
    const t = await agent(face.dockerHost, 'burst');
    const base = await engine.baseImage();
    await tagBurst(engine, base, 150);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push(await createContainer(engine, base, `lw-face-${i}`));
    for (const id of made.slice(0, 3)) await removeContainer(engine, id);
    await t.sentinel(engine);
    await waitForModelToMatch(engine, () => t.agent.model(), 30_000);
    assert.equal(t.recordsOf('stream.malformed').length, 0);
    const m = t.agent.model()!;
    assert.deepEqual(m.engine?.apiRange, { min: FACE_29.min, max: FACE_29.max });
    assert.equal(m.engine?.serverVersion, FACE_29.release);
  });

  it('prune through the face: the aged untagged candidate removed, the tagged image kept; an external rmi audited', async () => {
    const t = await agent(face.dockerHost, 'audit');
    const gone = await digestOnly(engine, 'face-old');
    const tagged = `${engine.registry}/lw/face-kept:1`;
    const keptId = await engine.buildImage(tagged, [{ file: 'k.bin', bytes: 2048 }]);
    const state = path.join(dir, 'prune.json');
    await writeAgedState(engine, state, { [gone.id]: 25 * H, [keptId]: 25 * H });
    await sleep(1_100);
    const args = ['--state-file', state, '--quiet-period', '1s', '--docker-host', face.dockerHost];
    const r = await cli(engine, ['prune', '--now', '--json', '--disk-high', '1', ...args]);
    const doc = r.json();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ids(doc.removed), [gone.id]);
    assert.equal(await exists(engine, 'image', gone.id), false);
    assert.ok(await exists(engine, 'image', keptId), 'the tagged image stays');

    await engine.dockerOk(['rmi', tagged]);
    const e = await t.waitForRecord((x) => x.event === 'eviction' && x.image === keptId, 30_000, 'eviction');
    assert.equal(e.by, 'external');
    assert.ok((e.refs as string[]).includes(tagged), JSON.stringify(e.refs));
  });

  it('a SIGKILL of the daemon behind the face is survived: reconnected, renegotiated, in sync', async () => {
    const t = await agent(face.dockerHost, 'kill');
    await engine.stopDaemon('KILL');
    await t.waitForRecord((r) => r.event === 'stream.down', 30_000, 'stream.down');
    const n = t.records.length;
    await engine.startDaemon();
    await t.waitForRecord((r) => t.records.indexOf(r) >= n && r.event === 'model.resync', 60_000, 'resync');
    await engine.dockerOk(['tag', 'lw-base:latest', 'lw/after-kill:1']);
    await t.sentinel(engine);
    await waitForModelToMatch(engine, () => t.agent.model(), 30_000);
  });

  it('status (--json and text) of the built CLI through the face: exit 0, API 1.52, the engine image count', async () => {
    const r = await cli(
      engine,
      ['status', '--json', '--docker-host', face.dockerHost, '--state-file', path.join(dir, 'status.json')],
      { built: true },
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = r.json() as { engine: Rec; images: { total: number } };
    assert.equal(doc.engine.apiVersion, '1.52');
    assert.deepEqual(doc.engine.apiRange, { min: '1.44', max: '1.52' });
    const count = (await engine.dockerOk(['images', '-q', '--no-trunc'])).split('\n').filter(Boolean);
    assert.equal(doc.images.total, new Set(count).size);
    const text = await cli(
      engine,
      ['status', '--docker-host', face.dockerHost, '--state-file', path.join(dir, 'status.json')],
      { built: true },
    );
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^engine: .* docker 29\.1\.3 \(API 1\.52 spoken; engine serves 1\.44–1\.52\)/m);
  });

  it('watch (the built CLI) through the face: agent.start, /v1/status and layerwarden_engine_info say 1.52', async () => {
    const log = path.join(dir, 'watch.ndjson');
    const child = spawn(
      'node',
      [
        BUILT_CLI,
        'watch',
        '--no-prune',
        '--for',
        '20s',
        '--listen',
        '127.0.0.1:0',
        '--log-file',
        log,
        '--docker-host',
        face.dockerHost,
        '--state-file',
        path.join(dir, 'watch.json'),
      ],
      { stdio: 'ignore', env: engine.childEnv() },
    );
    try {
      const start = await waitFor(() => recordsOf(log).find((r) => r.event === 'agent.start'), 20_000, {
        message: 'agent.start',
      });
      assert.equal(start.engineVersion, FACE_29.release);
      assert.equal(start.apiVersion, '1.52');
      assert.equal(start.engineApi, '1.44–1.52');
      assert.match(String(start.msg), /\(docker 29\.1\.3, API 1\.52 of 1\.44–1\.52\)/);
      const url = String(start.listen);
      const status = await waitFor(
        async () => {
          const r = await fetch(`${url}/v1/status`);
          const doc = r.ok ? ((await r.json()) as { engine: Rec | null }) : undefined;
          return doc?.engine ? doc : undefined;
        },
        20_000,
        { message: '/v1/status' },
      );
      assert.equal(status.engine?.apiVersion, '1.52');
      assert.deepEqual(status.engine?.apiRange, { min: '1.44', max: '1.52' });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(
        metrics,
        /^layerwarden_engine_info\{engine_version="29\.1\.3",api_version="1\.52",image_store="graphdriver"\} 1$/m,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('an upgrade under a running agent: the daemon returns as 29, the agent renegotiates and re-lists; nothing pruned meanwhile', async () => {
    const proxy = await FaultProxy.start(path.join(engine.dir, 'upgrade.sock'), engine.socketPath);
    try {
      const t = await agent(proxy.dockerHost, 'upgrade');
      assert.equal(t.agent.model()?.engine?.apiVersion, '1.41', 'the 20.10 engine itself');
      const candidate = await digestOnly(engine, 'face-upgrade');
      await t.sentinel(engine);
      const prune = livePrune(t, {
        port: createEnginePort(proxy.dockerHost),
        minAgeMs: 0,
        diskHighPercent: 1,
      });

      await engine.stopDaemon('TERM');
      await t.waitForRecord((r) => r.event === 'stream.down', 30_000, 'stream.down');
      proxy.face = docker29Face;
      const from = proxy.requests.length;
      const blind = await prune();
      assert.equal(blind.evaluation.decision.fire, false, 'no prune while the agent cannot see');
      assert.equal(blind.result, undefined);

      const n = t.records.length;
      await engine.startDaemon();
      await t.waitForRecord((r) => t.records.indexOf(r) >= n && r.event === 'model.resync', 60_000, 'resync');
      await waitFor(() => t.agent.model()?.engine?.apiVersion === '1.52', 30_000, { message: 'spoke 1.52' });
      await engine.dockerOk(['tag', 'lw-base:latest', 'lw/after-upgrade:1']);
      await t.sentinel(engine);
      await waitForModelToMatch(engine, () => t.agent.model(), 30_000);
      assert.ok(await exists(engine, 'image', candidate.id), 'nothing pruned while it could not see');
      assert.deepEqual([...versionsAsked(proxy, from)], ['1.52'], 'after the upgrade, only 1.52');
    } finally {
      await proxy.close();
    }
  });
});
