/**
 * The agent's container image, built from the project's Dockerfile on a private engine with no registry
 * access, and deployed with deploy/stack.yml as a Swarm global service. Nothing can be pulled, so the
 * Node base is made here: `docker import` of this machine's node binary and the libraries it links
 * (NODE_IMAGE), and of the compiled agent with its production node_modules (APP_FILES, standing in for
 * the Dockerfile's npm-based build stage, which BuildKit then skips). One test: building is the slow part.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Engine, run, startEngine, waitFor } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_IMAGE = 'lw-node:20';
const APP_FILES = 'lw-app-files:1';
const AGENT_IMAGE = 'layerwarden:test';
const STACK = 'layerwarden';

async function ok(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const r = await run(cmd, args, { ...opts, timeoutMs: 300_000 });
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-500)}`);
  return r.stdout;
}

/** node and every library `ldd` names, at their own paths: all a Node runtime needs to start. */
async function nodeRootfs(dir: string): Promise<void> {
  const libs = [...(await ok('ldd', [process.execPath])).matchAll(/(\/\S+) \(0x/g)].map(
    (m) => m[1] as string,
  );
  await mkdir(path.join(dir, 'usr/local/bin'), { recursive: true });
  await copyFile(process.execPath, path.join(dir, 'usr/local/bin/node'));
  for (const lib of libs) {
    await mkdir(path.join(dir, path.dirname(lib)), { recursive: true });
    await copyFile(lib, path.join(dir, lib)); // copyFile follows links: the real file under the linked name
  }
  await mkdir(path.join(dir, 'tmp'));
  await chmod(path.join(dir, 'tmp'), 0o1777);
}

/** /app as the Dockerfile's build stage leaves it: dist/src compiled, production node_modules only. */
async function appFiles(dir: string): Promise<void> {
  const app = path.join(dir, 'app');
  await ok('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')], { cwd: ROOT });
  await copyFile(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
  const prod = (await ok('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT }))
    .split('\n')
    .map((p) => path.relative(ROOT, p.trim()))
    .filter(
      (p) => p.startsWith('node_modules/') && !p.slice('node_modules/'.length).includes('node_modules/'),
    );
  for (const rel of prod) await cp(path.join(ROOT, rel), path.join(app, rel), { recursive: true });
}

async function importTar(engine: Engine, dir: string, ref: string, changes: string[] = []): Promise<void> {
  const tar = `${dir}.tar`;
  await ok('tar', ['-C', dir, '-cf', tar, '.']);
  await engine.dockerOk(['import', ...changes.flatMap((c) => ['--change', c]), tar, ref], {
    timeoutMs: 300_000,
  });
  await rm(tar, { force: true });
}

/** `docker build` of the project's Dockerfile through BuildKit (the CLI here has no buildx). */
async function buildAgentImage(engine: Engine): Promise<void> {
  const files = [
    'Dockerfile',
    '.dockerignore',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
  ];
  const tar = spawn('tar', ['-C', ROOT, '-cf', '-', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
  await engine.buildKitTar(tar, AGENT_IMAGE, { buildargs: JSON.stringify({ NODE_IMAGE, APP_FILES }) });
}

type Rec = { event?: string; [k: string]: unknown };
const records = (logs: string): Rec[] =>
  logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Rec);

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
    await nodeRootfs(path.join(work, 'node'));
    await importTar(engine, path.join(work, 'node'), NODE_IMAGE, ['ENV PATH=/usr/local/bin:/usr/bin:/bin']);
    await appFiles(path.join(work, 'files'));
    await importTar(engine, path.join(work, 'files'), APP_FILES);
    await buildAgentImage(engine);
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
