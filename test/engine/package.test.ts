/**
 * The package as an operator gets it: `npm pack` on this checkout (its `prepack` builds dist/), the
 * tarball installed into a fresh prefix with no registry (`--offline`: the dependencies are bundled),
 * and the installed `layerwarden` binary run against the private engine.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Engine, startEngine } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('npm pack → npm install -g → layerwarden', { timeout: 600_000 }, () => {
  let engine: Engine;
  let tmp: string;
  let tarball: string;
  let bin: string;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-package-'));
    engine = await startEngine();
    execFileSync('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT, stdio: 'pipe' });
    const [name] = (await readdir(tmp)).filter((f) => f.endsWith('.tgz'));
    assert.ok(name, 'npm pack made a tarball');
    tarball = path.join(tmp, name);
    const prefix = path.join(tmp, 'prefix');
    // A prefix of its own, an empty cache and no registry: everything must come from the tarball.
    execFileSync(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--offline',
        '--cache',
        path.join(tmp, 'cache'),
        '--no-audit',
        '--no-fund',
        tarball,
      ],
      { cwd: tmp, stdio: 'pipe', env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' } },
    );
    bin = path.join(prefix, 'bin', 'layerwarden');
  });

  after(async () => {
    await engine?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('carries the binary, the docs, deploy/ and the LICENSE', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const f of [
      'package/dist/src/cli/bin.js',
      'package/LICENSE',
      'package/README.md',
      'package/docs/deploy.md',
      'package/docs/configuration.md',
      'package/deploy/layerwarden.service',
      'package/deploy/layerwarden.env',
      'package/deploy/layerwarden.sysusers',
      'package/node_modules/rxjs/package.json',
    ])
      assert.ok(files.includes(f), `${f} is in the tarball`);
    assert.ok(!files.some((f) => f.startsWith('package/node_modules/typescript/')), 'no dev dependency');
  });

  it('installs a layerwarden that knows its version and reaches the engine', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), version);
    const r = spawnSync(bin, ['status', '--json', '--state-file', path.join(tmp, 'state.json')], {
      encoding: 'utf8',
      env: engine.childEnv(),
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { engine?: { apiVersion?: string } };
    assert.match(doc.engine?.apiVersion ?? '', /^1\.\d+$/);
  });
});
