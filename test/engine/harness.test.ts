import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Engine, processesOf, startEngine, waitFor } from './harness.js';

describe('private engine harness', { timeout: 600_000 }, () => {
  let engine: Engine;
  let ref: string;

  before(async () => {
    engine = await startEngine();
  });

  after(async () => {
    if (!engine) return;
    const dir = engine.dir;
    await engine.stop();
    await engine.stop(); // idempotent
    assert.equal(existsSync(dir), false, 'engine dir removed');
    await waitFor(() => processesOf(dir).length === 0, 15_000, { message: `no process of ${dir} left` });
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    assert.equal(mounts.includes(`${dir}/`), false, 'nothing mounted under the engine dir');
  });

  it('starts an engine that answers on its private socket', async () => {
    assert.match(engine.dockerHost, /^unix:\/\/.*\/docker\.sock$/);
    assert.ok(existsSync(engine.socketPath));
    const version = await engine.dockerOk(['version', '--format', '{{.Server.APIVersion}}']);
    assert.match(version, /^1\.\d+$/);
    const ping = await engine.api('/_ping');
    assert.equal(ping.body, 'OK');
    assert.match(engine.registry, /^127\.0\.0\.1:\d+$/);
    assert.equal((await engine.registryGet('/v2/')).status, 200);
  });

  it('runs echo in the base image', async () => {
    await engine.baseImage();
    const out = await engine.dockerOk([
      'run',
      '--rm',
      '--pull',
      'never',
      '--network',
      'none',
      'lw-base',
      'echo',
      'hello',
    ]);
    assert.equal(out, 'hello');
  });

  it('builds a 3-layer image, pushes it, pulls it back cold then up to date', async () => {
    ref = `${engine.registry}/lw/app:1`;
    const layers = [
      { file: 'a.bin', bytes: 2048 },
      { file: 'b/b.bin', bytes: 4096 },
      { file: 'c.bin', bytes: 1024, seed: 'c' },
    ];
    const id = await engine.buildImage(ref, layers, { labels: { 'lw.test': 'harness' } });
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    // Equal specs give equal layers: a second build shares every layer.
    const again = await engine.buildImage(`${engine.registry}/lw/app:same`, layers);
    const diffIds = async (r: string) =>
      JSON.parse(
        await engine.dockerOk(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', r]),
      ) as string[];
    assert.deepEqual(await diffIds(again), await diffIds(id));
    assert.equal((await diffIds(id)).length, 4, 'base + 3 layers');
    await engine.dockerOk(['rmi', `${engine.registry}/lw/app:same`]);

    const digest = await engine.push(ref);
    assert.match(digest, /^sha256:/);
    // Remove the image and the base so the pull is cold on every layer.
    await engine.dockerOk(['rmi', ref, 'lw-base:latest']);
    const cold = await engine.pullWithProgress(ref);
    assert.equal(cold.status, 'Downloaded newer image');
    assert.equal(cold.digest, digest);
    assert.equal(cold.layers.length, 4);
    assert.ok(
      cold.layers.every((l) => l.outcome === 'Pull complete'),
      cold.output,
    );
    assert.equal(cold.kind, 'cold');

    const warm = await engine.pullWithProgress(ref);
    assert.equal(warm.status, 'Image is up to date');
    assert.equal(warm.layers.length, 0);
    assert.equal(warm.kind, 'warm');
  });

  it('builds with BuildKit through the API', async () => {
    const id = await engine.buildImage('lw/bk:1', [{ file: 'k.bin', bytes: 512 }], { builder: 'buildkit' });
    assert.equal(await engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'lw/bk:1']), id);
  });

  it('deploys a stack from the local registry on a single-node swarm', async () => {
    await engine.swarmInit();
    await engine.deployStack('demo', `version: "3.8"\nservices:\n  web:\n    image: ${ref}\n`);
    await engine.waitForStack('demo', 120_000);
    const ls = await engine.dockerOk(['service', 'ls', '--format', '{{.Name}} {{.Replicas}}']);
    assert.equal(ls, 'demo_web 1/1');
    await engine.removeStack('demo');
    assert.equal(await engine.dockerOk(['service', 'ls', '-q']), '');
  });

  it('sentinel creates and removes a uniquely named network', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const name = await engine.sentinel();
    const until = Math.ceil(Date.now() / 1000) + 1;
    const events = await engine.api(
      `/v1.41/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'] }))}`,
    );
    const actions = events.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: { name?: string } } })
      .filter((e) => e.Actor.Attributes.name === name)
      .map((e) => e.Action);
    assert.deepEqual(actions, ['create', 'destroy']);
  });

  it('survives a daemon stop with TERM and with KILL', async () => {
    await engine.stopDaemon('TERM');
    await assert.rejects(engine.api('/_ping'));
    await engine.startDaemon();
    assert.equal((await engine.api('/_ping')).body, 'OK');

    await engine.stopDaemon('KILL');
    await assert.rejects(engine.api('/_ping'));
    await engine.startDaemon();
    assert.equal((await engine.api('/_ping')).body, 'OK');
    assert.equal(await engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', ref]).then(Boolean), true);
  });

  it('freezes and thaws the daemon', async () => {
    await engine.freeze();
    await assert.rejects(engine.api('/_ping', { timeoutMs: 1000 }), /timeout/);
    await engine.thaw();
    assert.equal((await engine.api('/_ping')).body, 'OK');
  });
});
