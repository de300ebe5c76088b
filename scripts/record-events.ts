/**
 * Records raw Docker event streams and list responses from a private engine into test/fixtures/events/
 * (layout: test/fixtures/events/README.md). Each group of scenarios runs on a fresh engine.
 *
 *   bash scripts/with-engine.sh node --import tsx scripts/record-events.ts [--out DIR] [SCENARIO...]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Engine, type PullResult, run, startEngine } from '../test/engine/harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A live subscription to /events that keeps the raw bytes; opened and closed on a sentinel so that
 * nothing the scenario did is missed (the replay ring holds only 256 events, ENGINE-FACTS 3). */
class EventTap {
  private constructor(
    private readonly engine: Engine,
    private readonly req: http.ClientRequest,
    private readonly chunks: Buffer[],
  ) {}

  static async open(engine: Engine): Promise<EventTap> {
    const chunks: Buffer[] = [];
    const req = await new Promise<http.ClientRequest>((resolve, reject) => {
      const r = http.get({ socketPath: engine.socketPath, path: '/v1.41/events' }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`GET /events: ${res.statusCode}`));
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => {}); // the stream is destroyed on close
        resolve(r);
      });
      r.on('error', reject);
    });
    const tap = new EventTap(engine, req, chunks);
    await tap.sync();
    return tap;
  }

  /** Creates and removes a sentinel network and waits until both events arrived. */
  private async sync(): Promise<string> {
    const name = await this.engine.sentinel();
    const deadline = Date.now() + 30_000;
    while (
      this.text()
        .split('\n')
        .filter((l) => l.includes(`"${name}"`)).length < 2
    ) {
      if (Date.now() > deadline) throw new Error(`sentinel ${name} not seen on the events stream`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return name;
  }

  private text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Closes the stream; returns the raw lines, without the sentinels' own events. */
  async close(): Promise<string[]> {
    await this.sync();
    this.req.destroy();
    return this.text()
      .split('\n')
      .filter((l) => l.trim() !== '' && !/"name":"lw-sentinel-[0-9a-f]+"/.test(l));
  }
}

async function getJson(engine: Engine, apiPath: string, orElse?: unknown): Promise<unknown> {
  const r = await engine.api(`/v1.41${apiPath}`);
  if (r.status === 200) return JSON.parse(r.body);
  if (orElse !== undefined) return orElse;
  throw new Error(`GET ${apiPath}: ${r.status} ${r.body}`);
}

/** The list responses the agent re-lists from, as the engine answered them. */
async function snapshot(engine: Engine): Promise<Record<string, unknown>> {
  const list = (await getJson(engine, '/images/json?all=0')) as Array<{ Id: string }>;
  const inspect: Record<string, unknown> = {};
  for (const img of list) inspect[img.Id] = await getJson(engine, `/images/${img.Id}/json`);
  return {
    images: { list, inspect },
    containers: await getJson(engine, '/containers/json?all=1'),
    services: await getJson(engine, '/services?status=true', []),
    tasks: await getJson(engine, '/tasks', []),
    info: await getJson(engine, '/info'),
  };
}

async function writeSnapshot(out: string, prefix: string, snap: Record<string, unknown>): Promise<void> {
  for (const [kind, value] of Object.entries(snap)) {
    await writeFile(path.join(out, `${prefix}.${kind}.json`), `${JSON.stringify(value, null, 2)}\n`);
  }
}

function pullSummary(p: PullResult | { ref: string; error: string }) {
  if ('error' in p) return p;
  const { ref, digest, status, kind, layers } = p;
  return { ref, digest, status, kind, layers };
}

interface Step {
  step: string;
  code?: number;
  stderr?: string;
  /** Wall clock around the step, in Unix nanoseconds (ms precision) like the events' timeNano. */
  startedNano: string;
  endedNano: string;
}
interface Recording {
  steps: Step[];
  pulls: Array<PullResult | { ref: string; error: string }>;
}
interface Scenario {
  name: string;
  description: string;
  /** Runs before the "before" lists and the events subscription: not recorded. */
  setup?: (engine: Engine, rec: Recording) => Promise<void>;
  run: (engine: Engine, rec: Recording) => Promise<void>;
}

const nowNano = () => (BigInt(Date.now()) * 1_000_000n).toString();

/** Runs `docker ARGS` as a recorded step; throws on failure unless `mayFail`. */
async function docker(engine: Engine, rec: Recording, args: string[], mayFail = false): Promise<string> {
  const startedNano = nowNano();
  const r = await engine.docker(args);
  const s: Step = { step: `docker ${args.join(' ')}`, code: r.code, startedNano, endedNano: nowNano() };
  if (r.code !== 0) {
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('WARNING:'));
    s.stderr = lines.at(-1) ?? '';
  }
  rec.steps.push(s);
  if (r.code !== 0 && !mayFail) throw new Error(`${s.step}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** A recorded step that is not a docker command (a wait, a registry call). */
async function note<T>(rec: Recording, step: string, fn: () => Promise<T>): Promise<T> {
  const startedNano = nowNano();
  const v = await fn();
  rec.steps.push({ step, startedNano, endedNano: nowNano() });
  return v;
}

async function pull(engine: Engine, rec: Recording, ref: string): Promise<void> {
  const startedNano = nowNano();
  try {
    const p = await engine.pullWithProgress(ref);
    rec.pulls.push(p);
    rec.steps.push({ step: `docker pull ${ref}`, code: 0, startedNano, endedNano: nowNano() });
  } catch (e) {
    const error = e instanceof Error ? (e.message.split('\n').pop() ?? e.message) : String(e);
    rec.pulls.push({ ref, error });
    rec.steps.push({ step: `docker pull ${ref}`, code: 1, stderr: error, startedNano, endedNano: nowNano() });
  }
}

/** Points `repo:to` at the manifest of `repo:from` in the registry itself: no engine event. */
async function retagInRegistry(engine: Engine, repo: string, from: string, to: string): Promise<void> {
  const manifest = await engine.registryGet(`/v2/${repo}/manifests/${from}`);
  if (manifest.status !== 200) throw new Error(`GET manifest ${repo}:${from}: ${manifest.status}`);
  const type = 'Content-Type: application/vnd.docker.distribution.manifest.v2+json';
  const url = `http://${engine.registry}/v2/${repo}/manifests/${to}`;
  const put = await run(
    'nsenter',
    [`--net=${engine.netnsPath}`, 'curl', '-fsS', '-X', 'PUT', '-H', type, '--data-binary', '@-', url],
    { input: manifest.body },
  );
  if (put.code !== 0) throw new Error(`PUT manifest ${repo}:${to}: ${put.stderr}`);
}

const kb = (n: number) => n * 1024;

const images: Scenario = {
  name: 'images',
  description:
    'build (classic and BuildKit, COPY and RUN), tag, untag, a tag moved by a rebuild, save/load, import, rmi of a dangling image and of a tag',
  setup: async (e) => {
    await e.baseImage();
  },
  run: async (e, rec) => {
    await note(rec, 'build demo/app:1 (classic, 2 COPY layers)', () =>
      e.buildImage('demo/app:1', [
        { file: 'a.bin', bytes: kb(1) },
        { file: 'b.bin', bytes: kb(2) },
      ]),
    );
    await docker(e, rec, ['tag', 'demo/app:1', 'demo/app:latest']);
    await docker(e, rec, ['rmi', 'demo/app:latest']);
    const oldId = await docker(e, rec, ['image', 'inspect', '--format', '{{.Id}}', 'demo/app:1']);
    await note(
      rec,
      'build demo/app:1 again with new content (the tag moves; the old image is dangling)',
      () =>
        e.buildImage('demo/app:1', [
          { file: 'a.bin', bytes: kb(1) },
          { file: 'b.bin', bytes: kb(2), seed: 'b-v2' },
        ]),
    );
    await note(rec, 'build demo/bk:1 (BuildKit through the API, with a RUN step)', () =>
      e.buildImage('demo/bk:1', [{ file: 'k.bin', bytes: kb(1) }], {
        builder: 'buildkit',
        run: ['echo bk > /bk.txt'],
      }),
    );
    await note(rec, 'build demo/run:1 (classic, with a RUN step: an intermediate container)', () =>
      e.buildImage('demo/run:1', [], { run: ['echo classic > /run.txt'] }),
    );
    await docker(e, rec, ['rmi', oldId]);
    await docker(e, rec, ['rmi', 'demo/bk:1']);
    const tar = path.join(e.dir, 'work', 'app.tar');
    await docker(e, rec, ['save', '-o', tar, 'demo/app:1']);
    await docker(e, rec, ['rmi', 'demo/app:1']);
    await docker(e, rec, ['load', '-q', '-i', tar]);
    const rootfs = path.join(e.dir, 'work', 'rootfs.tar');
    await writeFile(path.join(e.dir, 'work', 'hello.txt'), 'hello\n');
    await run('tar', ['-C', path.join(e.dir, 'work'), '-cf', rootfs, 'hello.txt']);
    await docker(e, rec, ['import', rootfs, 'demo/imported:1']);
  },
};

const containers: Scenario = {
  name: 'containers',
  description:
    'containers run, stopped, killed, failed and removed, two of a compose project "demo", one with a label "name"',
  setup: async (e) => {
    await e.buildImage('demo/app:1', [{ file: 'a.bin', bytes: kb(1) }], {
      labels: { 'com.example.image': 'app' },
    });
  },
  run: async (e, rec) => {
    await docker(e, rec, ['run', '--rm', '--pull', 'never', 'lw-base', 'echo', 'hello']);
    for (const svc of ['web', 'db']) {
      await docker(e, rec, [
        'run',
        '-d',
        '--pull',
        'never',
        '--name',
        `demo-${svc}-1`,
        '--label',
        'com.docker.compose.project=demo',
        '--label',
        `com.docker.compose.service=${svc}`,
        '--label',
        'com.docker.compose.container-number=1',
        'demo/app:1',
      ]);
    }
    await docker(e, rec, ['run', '-d', '--pull', 'never', '--name', 'plain', 'lw-base']);
    await docker(e, rec, ['stop', 'demo-web-1']);
    await docker(e, rec, ['rm', 'demo-web-1']);
    await docker(e, rec, [
      'run',
      '-d',
      '--pull',
      'never',
      '--name',
      'shadowed',
      '--label',
      'name=shadow',
      'lw-base',
    ]);
    await docker(e, rec, ['kill', 'shadowed']);
    await docker(
      e,
      rec,
      ['run', '--pull', 'never', '--name', 'failing', 'lw-base', 'sh', '-c', 'exit 3'],
      true,
    );
  },
};

const stackYaml = (reg: string) => `version: "3.8"
services:
  web:
    image: ${reg}/demo/app:1
    deploy:
      replicas: 2
      update_config: { parallelism: 1, delay: 0s, monitor: 1s }
  worker:
    image: ${reg}/demo/app:1
    deploy:
      replicas: 1
`;

const swarmDeploy: Scenario = {
  name: 'swarm-deploy',
  description:
    'swarm init, stack deploy of a 2-service stack from the local registry, scale web 2->3, update web to app:2',
  setup: async (e) => {
    const reg = e.registry;
    await e.buildImage(`${reg}/demo/app:1`, [
      { file: 'a.bin', bytes: kb(2) },
      { file: 'b.bin', bytes: kb(1) },
    ]);
    await e.buildImage(`${reg}/demo/app:2`, [
      { file: 'a.bin', bytes: kb(2) },
      { file: 'c.bin', bytes: kb(1) },
    ]);
    await e.push(`${reg}/demo/app:1`);
    await e.push(`${reg}/demo/app:2`);
    await e.dockerOk(['rmi', `${reg}/demo/app:1`, `${reg}/demo/app:2`]);
  },
  run: async (e, rec) => {
    await docker(e, rec, ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    await note(rec, 'docker stack deploy demo', () => e.deployStack('demo', stackYaml(e.registry)));
    await note(rec, 'wait: stack demo converged', () => e.waitForStack('demo'));
    await docker(e, rec, ['service', 'scale', '--detach', 'demo_web=3']);
    await note(rec, 'wait: stack demo converged', () => e.waitForStack('demo'));
    await docker(e, rec, [
      'service',
      'update',
      '--detach',
      '--image',
      `${e.registry}/demo/app:2`,
      'demo_web',
    ]);
    await note(rec, 'wait: stack demo converged and update completed', () => e.waitForStack('demo'));
  },
};

const swarmRm: Scenario = {
  name: 'swarm-rm',
  description:
    'continues swarm-deploy: stack rm, then image prune without -a deletes the digest-only swarm-pulled images',
  run: async (e, rec) => {
    await note(rec, 'docker stack rm demo (and wait until its tasks are gone)', () => e.removeStack('demo'));
    await docker(e, rec, ['image', 'prune', '-f']);
  },
};

const pulls: Scenario = {
  name: 'pulls',
  description:
    'pulls: cold, warm repeat, partial (shared layers), by digest, a new tag of a present image, a tag moved in the registry, a missing ref',
  setup: async (e) => {
    const reg = e.registry;
    await e.buildImage(`${reg}/demo/app:1`, [
      { file: 'a.bin', bytes: kb(2) },
      { file: 'b.bin', bytes: kb(3) },
      { file: 'c.bin', bytes: kb(1) },
    ]);
    await e.buildImage(`${reg}/demo/app:2`, [
      { file: 'a.bin', bytes: kb(2) },
      { file: 'b.bin', bytes: kb(3) },
      { file: 'd.bin', bytes: kb(2) },
    ]);
    await e.push(`${reg}/demo/app:1`);
    await e.push(`${reg}/demo/app:2`);
    await retagInRegistry(e, 'demo/app', '1', 'moving');
    await e.dockerOk(['rmi', `${reg}/demo/app:1`, `${reg}/demo/app:2`, 'lw-base:latest']);
  },
  run: async (e, rec) => {
    const repo = `${e.registry}/demo/app`;
    await pull(e, rec, `${repo}:1`);
    await pull(e, rec, `${repo}:1`);
    await pull(e, rec, `${repo}:2`);
    const digest = await docker(e, rec, [
      'image',
      'inspect',
      '--format',
      '{{index .RepoDigests 0}}',
      `${repo}:1`,
    ]);
    await pull(e, rec, digest);
    await pull(e, rec, `${repo}:moving`);
    await note(rec, 'registry: demo/app:moving now points at the manifest of demo/app:2', () =>
      retagInRegistry(e, 'demo/app', '2', 'moving'),
    );
    await pull(e, rec, `${repo}:moving`);
    await pull(e, rec, `${e.registry}/demo/missing:1`);
  },
};

const prune: Scenario = {
  name: 'prune',
  description:
    'rmi of an unused tag, a refused rmi of an image in use, container prune, image prune -af, builder prune -af',
  setup: async (e) => {
    const reg = e.registry;
    await e.buildImage('demo/keep:1', [{ file: 'k.bin', bytes: kb(1) }]);
    await e.buildImage('demo/unused:1', [{ file: 'u.bin', bytes: kb(1) }]);
    await e.buildImage('demo/old:1', [{ file: 'o.bin', bytes: kb(1) }]);
    await e.buildImage('demo/old:1', [{ file: 'o.bin', bytes: kb(1), seed: 'o-v2' }]); // leaves a dangling image
    await e.buildImage(`${reg}/demo/pulled:1`, [{ file: 'p.bin', bytes: kb(1) }]);
    const digest = await e.push(`${reg}/demo/pulled:1`);
    await e.dockerOk(['rmi', `${reg}/demo/pulled:1`]);
    await e.dockerOk(['pull', `${reg}/demo/pulled@${digest}`]); // digest-only: RepoTags null
    await e.dockerOk(['run', '-d', '--pull', 'never', '--name', 'keeper', 'demo/keep:1']);
    await e.dockerOk(['run', '--pull', 'never', '--name', 'stopped-one', 'lw-base', 'true']);
  },
  run: async (e, rec) => {
    await docker(e, rec, ['rmi', 'demo/unused:1']);
    await docker(e, rec, ['rmi', 'demo/keep:1'], true);
    await docker(e, rec, ['container', 'prune', '-f']);
    await docker(e, rec, ['image', 'prune', '-af']);
    await docker(e, rec, ['builder', 'prune', '-af']);
  },
};

/** Scenarios of one group run in order on one engine; each group gets a fresh engine. */
const scenarioGroups: Scenario[][] = [[images], [containers], [swarmDeploy, swarmRm], [pulls], [prune]];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let out = path.join(root, 'test/fixtures/events');
  const outAt = args.indexOf('--out');
  if (outAt >= 0) {
    out = path.resolve(args[outAt + 1] ?? '.');
    args.splice(outAt, 2);
  }
  const wanted = new Set(args);
  await mkdir(out, { recursive: true });
  const recorded: Array<Record<string, unknown>> = [];
  let versions: unknown;

  for (const group of scenarioGroups) {
    if (wanted.size > 0 && !group.some((s) => wanted.has(s.name))) continue;
    const engine = await startEngine();
    try {
      versions ??= await getJson(engine, '/version');
      for (const scenario of group) {
        const rec: Recording = { steps: [], pulls: [] };
        await scenario.setup?.(engine, rec);
        rec.steps = [];
        await writeSnapshot(out, `${scenario.name}.before`, await snapshot(engine));
        const tap = await EventTap.open(engine);
        await scenario.run(engine, rec);
        const lines = await tap.close();
        await writeSnapshot(out, scenario.name, await snapshot(engine));
        await writeFile(path.join(out, `${scenario.name}.events.ndjson`), `${lines.join('\n')}\n`);
        await writeFile(
          path.join(out, `${scenario.name}.steps.json`),
          `${JSON.stringify(rec.steps, null, 2)}\n`,
        );
        if (rec.pulls.length > 0) {
          const pulls = rec.pulls.map(pullSummary);
          await writeFile(
            path.join(out, `${scenario.name}.pulls.json`),
            `${JSON.stringify(pulls, null, 2)}\n`,
          );
        }
        recorded.push({ name: scenario.name, description: scenario.description, events: lines.length });
        console.log(`${scenario.name}: ${lines.length} events, ${rec.steps.length} steps`);
      }
    } finally {
      await engine.stop();
    }
  }
  const cli = (await run('docker', ['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  const v = versions as { Version?: string; ApiVersion?: string } | undefined;
  const meta = {
    recordedAt: new Date().toISOString(),
    engine: v?.Version,
    api: v?.ApiVersion,
    cli,
    scenarios: recorded,
  };
  await writeFile(path.join(out, 'recorded.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
