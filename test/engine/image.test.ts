/**
 * The agent's container image, built from the project's Dockerfile on a private engine with no registry
 * access (agent-image.ts), and deployed with deploy/stack.yml as a Swarm global service on one node.
 * One test: building is the slow part. cluster.test.ts deploys the same on three nodes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, buildAgentImage, ok, records } from './agent-image.js';
import { type Engine, startEngine, waitFor } from './harness.js';

const AGENT_IMAGE = 'layerwarden:test';
const STACK = 'layerwarden';

describe('container image and Swarm global service', { timeout: 900_000 }, () => {
  let engine: Engine;
  let work: string;

  before(async () => {
    engine = await startEngine();
    work = await mkdtemp(path.join(os.tmpdir(), 'lw-image-'));
  });

  after(async () => {
    try {
      if (engine) await engine.docker(['stack', 'rm', STACK]);
    } finally {
      await engine?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    }
  });

  it('builds from the Dockerfile offline, runs one healthy agent per node, logs a pull made on the host', async () => {
    await buildAgentImage(engine, work, AGENT_IMAGE);
    const version = await engine.dockerOk(['run', '--rm', '--network', 'none', AGENT_IMAGE, '--version']);
    assert.equal(version, '0.1.0');

    // The image the host will pull later, in the registry only. Made before the agent starts: an image
    // first seen within seconds of a pull is taken for that pull's own result (src/model/pulls.ts).
    const ref = `${engine.registry}/lw/probe:1`;
    await engine.buildImage(ref, [{ file: 'probe.bin', bytes: 8192 }]);
    await engine.push(ref);
    await engine.dockerOk(['rmi', ref]);

    await engine.swarmInit();
    await engine.dockerOk(
      ['stack', 'deploy', '--resolve-image', 'never', '-c', path.join(ROOT, 'deploy/stack.yml'), STACK],
      {
        env: { LAYERWARDEN_IMAGE: AGENT_IMAGE, LAYERWARDEN_DOCKER_SOCKET: engine.socketPath },
      },
    );
    const mode = await engine.dockerOk([
      'service',
      'inspect',
      '--format',
      '{{json .Spec.Mode}}',
      `${STACK}_agent`,
    ]);
    assert.deepEqual(JSON.parse(mode), { Global: {} });

    const byService = `label=com.docker.swarm.service.name=${STACK}_agent`;
    const cid = await waitFor(
      async () =>
        (await engine.dockerOk(['ps', '-q', '--filter', byService, '--filter', 'health=healthy'])) ||
        undefined,
      120_000,
      { intervalMs: 500, message: 'the agent task is running and healthy' },
    );
    assert.equal(cid.split('\n').length, 1, 'one agent on the one node');

    // Host networking: the node's own 127.0.0.1:9465 answers (the engine's namespace is the "node").
    const curl = (p: string) =>
      ok('nsenter', [`--net=${engine.netnsPath}`, 'curl', '-sS', '-m', '5', `http://127.0.0.1:9465${p}`]);
    const health = JSON.parse(await curl('/healthz')) as { status: string };
    assert.equal(health.status, 'ok');
    const status = JSON.parse(await curl('/v1/status')) as {
      stacks: Array<{ name: string; run: boolean }>;
      busy: Array<{ reason: string; stack?: string }>;
      disk: { ok: boolean; path: string };
    };
    assert.deepEqual(
      status.stacks.find((s) => s.name === STACK),
      { name: STACK, kind: 'swarm', live: true, run: false, containers: 1, services: 1 },
      'its own stack is live but never a run',
    );
    assert.ok(!status.busy.some((b) => b.reason === 'run-stack-live' && b.stack === STACK));
    assert.deepEqual([status.disk.ok, status.disk.path], [true, '/var/lib/layerwarden']);
    const logs = () => engine.dockerOk(['logs', cid]);
    const start = records(await logs()).find((r) => r.event === 'agent.start');
    assert.match(
      String(start?.msg),
      /watching unix:\/\/\/var\/run\/docker\.sock \(docker 20\.10\.\S+, API 1\.41 of 1\.12–1\.41\); log to stdout; state in \/var\/lib\/layerwarden\/state\.json; next prune boundary/,
    );
    assert.equal(start?.apiVersion, '1.41', 'the version negotiated with the 20.10 engine');

    // A pull made on the host, outside the agent: it shows up in the agent's log, classified.
    const truth = await engine.pullWithProgress(ref);
    const pull = await waitFor(
      async () => records(await logs()).find((r) => r.event === 'pull' && r.ref === ref),
      30_000,
      { message: 'the agent logged the pull' },
    );
    assert.equal(pull.class, truth.kind);

    // SIGTERM (docker stop, as a Swarm update or removal sends): exit 0, the last records flushed.
    const stoppedAt = Date.now();
    await engine.dockerOk(['stop', '--time', '10', cid]);
    assert.ok(Date.now() - stoppedAt < 10_000, 'stopped before the grace period ran out');
    assert.equal(await engine.dockerOk(['inspect', '--format', '{{.State.ExitCode}}', cid]), '0');
    assert.deepEqual(
      records(await logs())
        .slice(-2)
        .map((r) => r.event),
      ['agent.stop', 'agent.stopped'],
    );
  });
});
