/** Helpers for the prune's engine tests: images in the shapes the prune meets, the CLI, aged state files. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandResult, type Engine, run } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const H = 3600_000;

export interface Pulled {
  id: string;
  /** `registry/lw/name@sha256:…`: the only ref the engine holds for it. */
  ref: string;
}

/**
 * A digest-only image, as swarm leaves them: built and pushed, its tag removed (which deletes it), then
 * pulled back by digest. One small layer of its own on top of the base.
 */
export async function digestOnly(engine: Engine, name: string): Promise<Pulled> {
  const tagged = `${engine.registry}/lw/${name}:1`;
  await engine.buildImage(tagged, [{ file: `${name}.bin`, bytes: 4096, seed: name }]);
  const digest = await engine.push(tagged);
  await engine.dockerOk(['rmi', tagged]);
  const ref = `${engine.registry}/lw/${name}@${digest}`;
  await engine.dockerOk(['pull', ref]);
  return { id: await imageId(engine, ref), ref };
}

export async function imageId(engine: Engine, ref: string): Promise<string> {
  return engine.dockerOk(['image', 'inspect', '--format', '{{.Id}}', ref]);
}

export async function exists(engine: Engine, kind: 'image' | 'container' | 'volume' | 'network', id: string) {
  return (await engine.docker([kind, 'inspect', id])).code === 0;
}

/**
 * Loads the base image again under `ref` with an image config whose `created` is 2020-01-01 (what a
 * pulled image built long ago looks like): `docker save`, rewrite the config, `docker load`. The engine
 * takes `created` from the config, so `image prune --filter until=24h` sees it as years old.
 */
export async function loadBuiltLongAgo(engine: Engine, ref: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lw-old-'));
  try {
    await engine.dockerOk(['save', '-o', path.join(dir, 'base.tar'), 'lw-base:latest']);
    const x = path.join(dir, 'x');
    const untar = await run('sh', ['-c', `mkdir -p ${x} && tar -C ${x} -xf ${dir}/base.tar`]);
    if (untar.code !== 0) throw new Error(`untar: ${untar.stderr}`);
    const manifest = JSON.parse(await readFile(path.join(x, 'manifest.json'), 'utf8')) as Array<{
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }>;
    const entry = manifest[0]!;
    const config = JSON.parse(await readFile(path.join(x, entry.Config), 'utf8'));
    config.created = '2020-01-01T00:00:00Z';
    for (const h of config.history ?? []) h.created = '2020-01-01T00:00:00Z';
    config.config.Labels = { 'lw.test': ref };
    const bytes = Buffer.from(JSON.stringify(config));
    const name = `${createHash('sha256').update(bytes).digest('hex')}.json`;
    await rm(path.join(x, entry.Config));
    await rm(path.join(x, 'repositories'), { force: true });
    await writeFile(path.join(x, name), bytes);
    await writeFile(
      path.join(x, 'manifest.json'),
      JSON.stringify([{ ...entry, Config: name, RepoTags: [ref] }]),
    );
    const files = await readdir(x);
    const tar = await run('tar', ['-C', x, '-cf', path.join(dir, 'old.tar'), ...files]);
    if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
    await engine.dockerOk(['load', '-i', path.join(dir, 'old.tar')]);
    return imageId(engine, ref);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A state file whose clocks say the agent has known each image for `ago` ms (same engine id). */
export async function writeAgedState(
  engine: Engine,
  file: string,
  ages: Record<string, number>,
): Promise<void> {
  const engineId = await engine.dockerOk(['info', '--format', '{{.ID}}']);
  const now = Date.now();
  const images = Object.fromEntries(
    Object.entries(ages).map(([id, ago]) => [
      id,
      { firstSeen: now - ago, lastUsed: now - ago, untaggedSince: now - ago },
    ]),
  );
  await writeFile(
    file,
    JSON.stringify({ version: 1, engineId, savedAt: new Date(now).toISOString(), images, prune: {} }),
  );
}

export interface CliResult extends CommandResult {
  json: () => Record<string, unknown>;
  /** The NDJSON log records the command wrote on stderr. */
  records: Array<Record<string, unknown>>;
}

/** The built CLI, as an operator runs it (`npm run build` makes it; CI builds before `npm test`). */
export const BUILT_CLI = path.join(ROOT, 'dist/src/cli/bin.js');

/** Builds the CLI when a clean clone has not yet (CI builds before `npm test`; a build here is kept). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(BUILT_CLI)) return;
  const r = await run('npm', ['run', 'build'], { cwd: ROOT });
  if (r.code !== 0 || !existsSync(BUILT_CLI)) throw new Error(`npm run build failed: ${r.stderr.trim()}`);
}

/**
 * `watch` for 9 s on a boundary every 4 s with a 3 s window, the log on stderr (`cli` parses it into
 * `records`): at least one boundary evaluated while the agent runs, usually two. Append the case's own
 * options.
 */
export const WATCH_FAST_BOUNDARIES: readonly string[] = [
  'watch',
  '--for',
  '9s',
  '--log-file',
  'stderr',
  '--schedule',
  '*/4 * * * * *',
  '--window',
  '3s',
];

/**
 * Runs `layerwarden ARGS` against the engine, optionally under `faketime -f OFFSET` (e.g. `+25h`);
 * from the sources, or with `built` the compiled CLI.
 */
export async function cli(
  engine: Engine,
  args: string[],
  opts: { faketime?: string; built?: boolean } = {},
): Promise<CliResult> {
  if (opts.built) await ensureBuilt();
  const node = opts.built
    ? ['node', BUILT_CLI, ...args]
    : ['node', '--import', 'tsx', path.join(ROOT, 'src/cli/bin.ts'), ...args];
  const [cmd, ...rest] = opts.faketime ? ['faketime', '-f', opts.faketime, ...node] : node;
  const r = await run(cmd!, rest, { env: engine.childEnv() as Record<string, string>, cwd: ROOT });
  const records = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    ...r,
    records,
    json: () => {
      try {
        return JSON.parse(r.stdout) as Record<string, unknown>;
      } catch {
        throw new Error(`layerwarden ${args.join(' ')} exited ${r.code}: ${r.stdout}\n${r.stderr}`);
      }
    },
  };
}
