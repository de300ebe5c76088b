/**
 * The agent's container image, built from the project's Dockerfile on a private engine with no registry
 * access. Nothing can be pulled, so the Node base is made here: `docker import` of this machine's node
 * binary and the libraries it links (NODE_IMAGE), and of the compiled agent with its production
 * node_modules (APP_FILES, standing in for the Dockerfile's npm-based build stage, which BuildKit then
 * skips). Used by image.test.ts (one engine) and cluster.test.ts (built on the manager, pushed).
 */
import { spawn } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Engine, run } from './harness.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_IMAGE = 'lw-node:20';
const APP_FILES = 'lw-app-files:1';

export type Rec = { event?: string; [k: string]: unknown };
/** The NDJSON records in a container's log output (lines that are not JSON skipped). */
export const records = (logs: string): Rec[] =>
  logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Rec);

export async function ok(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
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
async function buildFromDockerfile(engine: Engine, ref: string): Promise<void> {
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
  await engine.buildKitTar(tar, ref, { buildargs: JSON.stringify({ NODE_IMAGE, APP_FILES }) });
}

/** Builds the Dockerfile's image as `ref` on `engine`, offline; scratch files under `work`. */
export async function buildAgentImage(engine: Engine, work: string, ref: string): Promise<void> {
  const dir = await mkdtemp(path.join(work, 'agent-image-'));
  try {
    await nodeRootfs(path.join(dir, 'node'));
    await importTar(engine, path.join(dir, 'node'), NODE_IMAGE, ['ENV PATH=/usr/local/bin:/usr/bin:/bin']);
    await appFiles(path.join(dir, 'files'));
    await importTar(engine, path.join(dir, 'files'), APP_FILES);
    await buildFromDockerfile(engine, ref);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
