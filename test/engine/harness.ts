/**
 * A private Docker engine for engine tests: started by scripts/private-engine.sh in a temp dir with its
 * own socket, data-root, network namespace and local registry (docs/private-engine.md). Nothing here
 * depends on src/. Every engine started is stopped by `stop()`, else at process exit, else by
 * scripts/with-engine.sh.
 */
import { type ChildProcessByStdio, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

export const ENGINE_SCRIPT =
  process.env.LW_ENGINE_SCRIPT ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/private-engine.sh');
export const BASE_IMAGE = 'lw-base:latest';
const BUSYBOX = process.env.LW_BUSYBOX ?? '/bin/busybox';
const APPLETS = (
  'sh sleep true false echo cat ls env id ps kill touch mkdir rm head tail grep sed date hostname wc ' +
  'printf test uname dd ln cp'
).split(' ');
/** Default CMD of the base image: waits forever but exits at once on SIGTERM (a PID 1 without a
 * handler ignores it and costs a 10 s stop timeout). */
const IDLE_SCRIPT = "#!/bin/sh\ntrap 'exit 0' TERM INT\nsleep 2147483647 &\nwait\n";
/** Fixed mtime for COPY sources so equal files give equal layers across builds and engines. */
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}
export interface DockerOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Another address for the CLI (a proxy's `dockerHost`, e.g. the Docker 29 face); default the engine's. */
  host?: string;
  /** Run as this user and group (the caller must be root): what an unprivileged service user may do. */
  user?: { uid: number; gid: number };
}
export interface LayerSpec {
  /** Path inside the image (relative, e.g. `app/a.bin`). */
  file: string;
  bytes: number;
  /** Content seed; the same (file, bytes, seed) always gives the same layer. Defaults to `file`. */
  seed?: string;
}
export interface BuildOptions {
  from?: string;
  labels?: Record<string, string>;
  /** `classic` (default) runs the legacy builder through the CLI; `buildkit` posts to /build?version=2
   * (the CLI has no buildx plugin here). */
  builder?: 'classic' | 'buildkit';
  /** RUN steps after the COPY layers (each adds a layer; the classic builder runs them in intermediate
   * containers, with no network). */
  run?: string[];
}
export type LayerOutcome = 'Pull complete' | 'Already exists';
export interface PullResult {
  ref: string;
  digest: string | undefined;
  status: 'Image is up to date' | 'Downloaded newer image';
  /** Per layer as the puller printed it (short blob digest), in order. */
  layers: Array<{ id: string; outcome: LayerOutcome }>;
  /** cold: every layer downloaded; partial: some; warm: none. */
  kind: 'cold' | 'partial' | 'warm';
  output: string;
}
export interface ApiResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

const liveEngines = new Set<Engine>();

/** Runs a program, collecting its output; never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], opts: DockerOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const spawnOpts: SpawnOptions = { env: opts.env ?? process.env, stdio: [stdin, 'pipe', 'pipe'] };
    if (opts.cwd) spawnOpts.cwd = opts.cwd;
    if (opts.user) Object.assign(spawnOpts, opts.user);
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (signal ? `\n(killed by ${signal})` : '');
      resolve({ stdout: Buffer.concat(out).toString(), stderr, code: code ?? 128 });
    });
    // A child that exits without reading its input closes the pipe first: EPIPE here is not a failure
    // (unhandled, it became an uncaught exception that failed whichever test was running).
    child.stdin?.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    child.stdin?.end(opts.input ?? '');
  });
}

async function engineScript(args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await run('bash', [ENGINE_SCRIPT, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`private-engine.sh ${args[0]} failed: ${r.stderr.trim() || r.code}`);
  return r.stdout;
}

/** Polls `predicate` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  opts: { intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms (${opts.message ?? 'condition'})${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** Deterministic pseudo-random bytes (AES-256-CTR keystream keyed by the seed). */
export function seededBytes(seed: string, bytes: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes));
}

/** Parses the text of `docker pull` (non-TTY) into per-layer outcomes. */
export function parsePullOutput(ref: string, output: string): PullResult {
  const layers: PullResult['layers'] = [];
  for (const m of output.matchAll(/^([0-9a-f]{12}): (Pull complete|Already exists)\s*$/gm)) {
    layers.push({ id: m[1]!, outcome: m[2] as LayerOutcome });
  }
  const status = /^Status: (Image is up to date|Downloaded newer image) for /m.exec(output)?.[1];
  if (!status) throw new Error(`no Status line in pull output of ${ref}:\n${output}`);
  const pulled = layers.filter((l) => l.outcome === 'Pull complete').length;
  const kind = pulled === 0 ? 'warm' : pulled === layers.length ? 'cold' : 'partial';
  const digest = /^Digest: (sha256:[0-9a-f]{64})/m.exec(output)?.[1];
  return { ref, digest, status: status as PullResult['status'], layers, kind, output };
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

/** Starts a private engine (dockerd + registry) in a fresh temp dir. Call `stop()` in an after hook. */
export async function startEngine(): Promise<Engine> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-engine-'));
  if (process.env.LW_ENGINE_LIST) appendFileSync(process.env.LW_ENGINE_LIST, `${dir}\n`);
  let env: Record<string, string>;
  try {
    env = parseEnvFile(await engineScript(['start', dir]));
  } catch (e) {
    await run('bash', [ENGINE_SCRIPT, 'stop', dir]);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  // Build contexts and scratch files: a sibling of the data-root, never a parent (ENGINE-FACTS 24).
  const work = path.join(dir, 'work');
  await mkdir(work);
  const engine = new Engine(dir, work, env);
  liveEngines.add(engine);
  return engine;
}

export class Engine {
  readonly socketPath: string;
  readonly dockerHost: string;
  /** host:port of the local registry, reachable by the engine (it lives in the engine's netns). */
  readonly registry: string;
  readonly netnsPath: string;
  private baseTar: Promise<string> | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly work: string,
    readonly env: Record<string, string>,
  ) {
    this.dockerHost = env.DOCKER_HOST ?? `unix://${dir}/docker.sock`;
    this.socketPath = this.dockerHost.replace(/^unix:\/\//, '');
    this.registry = env.LW_TEST_REGISTRY ?? '127.0.0.1:5000';
    this.netnsPath = env.LW_TEST_NETNS ?? `${dir}/netns`;
  }

  /** Environment for a child process (the docker CLI, the agent) pointed at this engine only. */
  childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
    return {
      ...env,
      DOCKER_HOST: this.dockerHost,
      DOCKER_CONFIG: path.join(this.dir, 'cli'),
      DOCKER_BUILDKIT: '0',
      DOCKER_CLI_HINTS: 'false',
      ...extra,
    };
  }

  docker(args: string[], opts: DockerOptions = {}): Promise<CommandResult> {
    return run('docker', ['-H', opts.host ?? this.dockerHost, ...args], {
      ...opts,
      env: this.childEnv(opts.env),
    });
  }

  /** Like `docker` but throws with stderr on a non-zero exit; returns trimmed stdout. */
  async dockerOk(args: string[], opts: DockerOptions = {}): Promise<string> {
    const r = await this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  /** A raw Engine API call over the socket (e.g. `/v1.41/images/json`), or over `via` (a proxy's socket). */
  api(
    apiPath: string,
    opts: { method?: string; body?: string; timeoutMs?: number; via?: string } = {},
  ): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { socketPath: opts.via ?? this.socketPath, path: apiPath, method: opts.method ?? 'GET' },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              headers: res.headers,
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`${apiPath}: timeout`)));
      req.on('error', reject);
      if (opts.body !== undefined) req.setHeader('Content-Type', 'application/json');
      req.end(opts.body);
    });
  }

  /** An HTTP GET to the registry, made inside the engine's network namespace (e.g. `/v2/_catalog`). */
  async registryGet(urlPath: string): Promise<ApiResponse> {
    const r = await run('nsenter', [
      `--net=${this.netnsPath}`,
      'curl',
      '-sS',
      '-m',
      '10',
      '-w',
      '\n%{http_code}',
      '-H',
      'Accept: application/vnd.docker.distribution.manifest.v2+json',
      `http://${this.registry}${urlPath}`,
    ]);
    if (r.code !== 0) throw new Error(`registry GET ${urlPath}: ${r.stderr.trim()}`);
    const i = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i), headers: {} };
  }

  stopDaemon(signal: 'TERM' | 'KILL' = 'TERM'): Promise<string> {
    return engineScript(['daemon-stop', this.dir, signal]);
  }
  startDaemon(): Promise<string> {
    return engineScript(['daemon-start', this.dir]);
  }
  freeze(): Promise<string> {
    return engineScript(['freeze', this.dir]);
  }
  thaw(): Promise<string> {
    return engineScript(['thaw', this.dir]);
  }

  /** Stops dockerd, containerd, the registry; unmounts and removes the engine dir. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await engineScript(['stop', this.dir]);
    this.stopped = true;
    liveEngines.delete(this);
  }

  /** `lw-base:latest`: busybox and its applets, CMD /bin/idle, made by `docker import` (again if a test
   * removed it; the rootfs tar is made once per engine). Returns its image id. */
  async baseImage(): Promise<string> {
    const have = await this.docker(['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE]);
    if (have.code === 0) return have.stdout.trim();
    this.baseTar ??= this.makeBaseTar();
    await this.dockerOk(['import', '--change', 'CMD ["/bin/idle"]', await this.baseTar, BASE_IMAGE]);
    return this.dockerOk(['image', 'inspect', '--format', '{{.Id}}', BASE_IMAGE]);
  }

  private async makeBaseTar(): Promise<string> {
    const root = await mkdtemp(path.join(this.work, 'rootfs-'));
    await mkdir(path.join(root, 'bin'));
    await mkdir(path.join(root, 'tmp'));
    await copyFile(BUSYBOX, path.join(root, 'bin/busybox'));
    for (const a of APPLETS) await symlink('busybox', path.join(root, 'bin', a));
    await writeFile(path.join(root, 'bin/idle'), IDLE_SCRIPT, { mode: 0o755 });
    const tar = `${root}.tar`;
    const t = await run('tar', ['-C', root, '-cf', tar, '.']);
    if (t.code !== 0) throw new Error(`tar: ${t.stderr}`);
    return tar;
  }

  /** Builds `ref` FROM the base (or `opts.from`) with one COPY layer per spec; returns the image id. */
  async buildImage(ref: string, layers: LayerSpec[], opts: BuildOptions = {}): Promise<string> {
    const from = opts.from ?? BASE_IMAGE;
    if (from === BASE_IMAGE) await this.baseImage();
    // Its own context dir, never one holding the data-root (ENGINE-FACTS 24).
    const ctx = await mkdtemp(path.join(this.work, 'ctx-'));
    const lines = [`FROM ${from}`];
    for (const l of layers) {
      const rel = path.posix.normalize(l.file).replace(/^\/+/, '');
      if (rel.startsWith('..')) throw new Error(`layer file outside the image root: ${l.file}`);
      const src = path.join(ctx, 'files', rel);
      await mkdir(path.dirname(src), { recursive: true });
      await writeFile(src, seededBytes(l.seed ?? l.file, l.bytes));
      await utimes(src, FIXED_MTIME, FIXED_MTIME);
      lines.push(`COPY files/${rel} /${rel}`);
    }
    for (const cmd of opts.run ?? []) lines.push(`RUN ${cmd}`);
    for (const [k, v] of Object.entries(opts.labels ?? {}))
      lines.push(`LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`);
    await writeFile(path.join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
    try {
      if (opts.builder === 'buildkit') return await this.buildKit(ctx, ref);
      await this.dockerOk(['build', '-q', '--pull=false', '--network', 'none', '-t', ref, ctx]);
      return await this.dockerOk(['image', 'inspect', '--format', '{{.Id}}', ref]);
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }

  /** BuildKit through the API: the CLI would need the buildx plugin; RUN needs networkmode=none. */
  private buildKit(ctx: string, ref: string): Promise<string> {
    const tar = spawn('tar', ['-C', ctx, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    return this.buildKitTar(tar, ref);
  }

  /**
   * POSTs a build context (the stdout of a running `tar`) to `/build?version=2` with no network;
   * `params` adds query parameters (e.g. `buildargs`). Resolves with the image id.
   */
  buildKitTar(
    tar: ChildProcessByStdio<null, Readable, null>,
    ref: string,
    params: Record<string, string> = {},
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const q = new URLSearchParams({ version: '2', t: ref, networkmode: 'none', rm: '1', ...params });
      const req = http.request(
        {
          socketPath: this.socketPath,
          path: `/v1.41/build?${q}`,
          method: 'POST',
          headers: { 'Content-Type': 'application/x-tar' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => {
            let id: string | undefined;
            for (const line of text.split('\n')) {
              if (!line.trim()) continue;
              const msg = JSON.parse(line) as { id?: string; aux?: { ID?: string }; error?: string };
              if (msg.error) return reject(new Error(`buildkit build of ${ref}: ${msg.error}`));
              if (msg.id === 'moby.image.id' && msg.aux?.ID) id = msg.aux.ID;
            }
            if (res.statusCode !== 200 || !id)
              return reject(new Error(`buildkit build of ${ref}: ${res.statusCode} ${text.slice(-300)}`));
            resolve(id);
          });
        },
      );
      req.on('error', reject);
      tar.on('error', reject);
      tar.stdout.pipe(req);
    });
  }

  /** Pushes `ref` to its registry; returns the manifest digest. */
  async push(ref: string): Promise<string> {
    const out = await this.dockerOk(['push', ref]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
    if (!digest) throw new Error(`no digest in push output of ${ref}:\n${out}`);
    return digest;
  }

  /** `docker pull` with the per-layer outcomes it printed: the ground truth for cold/warm. */
  async pullWithProgress(ref: string): Promise<PullResult> {
    return parsePullOutput(ref, await this.dockerOk(['pull', ref]));
  }

  async swarmInit(): Promise<void> {
    await this.dockerOk(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  }

  /** `docker stack deploy`; returns when the services exist (see `waitForStack` for convergence). */
  async deployStack(name: string, composeYaml: string): Promise<void> {
    const file = path.join(this.work, `stack-${name}-${randomBytes(4).toString('hex')}.yml`);
    await writeFile(file, composeYaml);
    try {
      await this.dockerOk(['stack', 'deploy', '--compose-file', file, name]);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Services of a stack from `/services?status=true`. */
  async stackServices(
    name: string,
  ): Promise<Array<{ name: string; running: number; desired: number; updating: boolean }>> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.stack.namespace=${name}`] }));
    const r = await this.api(`/v1.41/services?status=true&filters=${filters}`);
    if (r.status !== 200) throw new Error(`GET /services: ${r.status} ${r.body}`);
    type Wire = {
      Spec: { Name: string };
      ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number };
      UpdateStatus?: { State?: string };
    };
    return (JSON.parse(r.body) as Wire[]).map((s) => ({
      name: s.Spec.Name,
      running: s.ServiceStatus?.RunningTasks ?? 0,
      desired: s.ServiceStatus?.DesiredTasks ?? 0,
      updating: /^(updating|rollback_started)$/.test(s.UpdateStatus?.State ?? ''),
    }));
  }

  /** Waits until every service of the stack runs all its desired tasks and none is updating. */
  async waitForStack(name: string, timeoutMs = 120_000): Promise<void> {
    await waitFor(
      async () => {
        const services = await this.stackServices(name);
        return (
          services.length > 0 &&
          services.every((s) => s.desired > 0 && s.running === s.desired && !s.updating)
        );
      },
      timeoutMs,
      { intervalMs: 250, message: `stack ${name} converged` },
    );
  }

  /**
   * `docker stack rm`, then waits until its services, containers and networks are gone.
   * The CLI removes the stack's networks right after its services, while their tasks may still be
   * shutting down; the manager then refuses ("network … is in use by task") and the CLI exits 1.
   * That one refusal is expected: `stack rm` is idempotent, so it is issued again until the
   * networks go too. Any other failure throws.
   */
  async removeStack(name: string, timeoutMs = 120_000): Promise<void> {
    const stackRm = async (): Promise<void> => {
      const r = await this.docker(['stack', 'rm', name]);
      if (r.code !== 0 && !/is in use by task/.test(r.stderr)) {
        throw new Error(`docker stack rm ${name} exited ${r.code}: ${r.stderr.trim()}`);
      }
    };
    await stackRm();
    const label = `label=com.docker.stack.namespace=${name}`;
    await waitFor(
      async () => {
        const [services, containers, networks] = await Promise.all([
          this.dockerOk(['service', 'ls', '-q', '--filter', label]),
          this.dockerOk(['ps', '-aq', '--filter', label]),
          this.dockerOk(['network', 'ls', '-q', '--filter', label]),
        ]);
        if (services === '' && containers === '' && networks !== '') await stackRm();
        return services === '' && containers === '' && networks === '';
      },
      timeoutMs,
      { intervalMs: 250, message: `stack ${name} removed` },
    );
  }

  /** Creates and removes a uniquely named network (or volume); wait until the agent saw it. */
  async sentinel(kind: 'network' | 'volume' = 'network'): Promise<string> {
    const name = `lw-sentinel-${randomBytes(6).toString('hex')}`;
    await this.dockerOk([kind, 'create', name]);
    await this.dockerOk([kind, 'rm', name]);
    return name;
  }
}

/** Live (non-zombie) processes whose command line mentions `dir`: dockerd, containerd, shims, registry. */
export function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (state !== 'Z' && cmdline.includes(`${dir}/`)) found.push(`${pid} ${cmdline}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Stops every engine this process started and has not stopped. */
export async function stopAllEngines(): Promise<void> {
  for (const e of [...liveEngines]) await e.stop();
}

// Last resort when a test forgot `stop()` or the process is exiting: stop synchronously.
process.on('exit', () => {
  for (const e of liveEngines)
    spawnSync('bash', [ENGINE_SCRIPT, 'stop', e.dir], { stdio: 'ignore', timeout: 60_000 });
});
