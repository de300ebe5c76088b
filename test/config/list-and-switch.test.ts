import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { configFrom, withSharedOptions } from '../../src/cli/shared.js';
import { LayerwardenError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'lw-config-lists-'));
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

/** Parses argv with the shared options, as every command does, then resolves the configuration. */
function resolveArgs(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let opts: Record<string, unknown> = {};
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  withSharedOptions(program.command('x'), 'all').action((o: Record<string, unknown>) => {
    opts = o;
  });
  program.parse(['node', 'layerwarden', 'x', ...argv]);
  return configFrom(opts, env);
}

describe('--disk-path takes several paths', () => {
  it('repeated, comma-separated, or both; from the flag, the variable or the file', () => {
    const flag = resolveArgs(['--disk-path', '/a', '--disk-path', '/b,/c']);
    assert.deepEqual(flag.config.diskPaths, ['/a', '/b', '/c']);
    assert.equal(flag.sources.diskPaths, 'flag');

    const env = resolveArgs([], { LAYERWARDEN_DISK_PATH: '/var/lib/docker, /var/lib/containerd' });
    assert.deepEqual(env.config.diskPaths, ['/var/lib/docker', '/var/lib/containerd']);
    assert.equal(env.sources.diskPaths, 'env');

    const asArray = file('array.json', { diskPath: ['/x', '/y'] });
    assert.deepEqual(resolveArgs(['--config', asArray]).config.diskPaths, ['/x', '/y']);
    const asString = file('string.json', { diskPath: '/x,/y' });
    assert.deepEqual(resolveArgs(['--config', asString]).config.diskPaths, ['/x', '/y']);

    // A flag still wins over the variable, as a whole list.
    assert.deepEqual(resolveArgs(['--disk-path', '/f'], { LAYERWARDEN_DISK_PATH: '/e' }).config.diskPaths, [
      '/f',
    ]);
    assert.equal(resolveArgs([]).config.diskPaths, undefined, 'default: the engine says');
  });

  it('refuses an empty item in one line naming its source (exit 2)', () => {
    assert.throws(
      () => resolveArgs([], { LAYERWARDEN_DISK_PATH: '/a,,/b' }),
      (e: unknown) =>
        e instanceof LayerwardenError &&
        e.code === 'config' &&
        /^LAYERWARDEN_DISK_PATH: "\/a,,\/b" is not a path, or paths/.test(e.message),
    );
    assert.throws(() => resolveArgs(['--disk-path', ',']), /expected a path, or paths separated by commas/);
  });
});

describe('--allow-containerd-store-removal', () => {
  it('off by default; on from the flag, the variable or the file', () => {
    const none = resolveArgs([]);
    assert.equal(none.config.allowContainerdStoreRemoval, false);
    assert.equal(none.sources.allowContainerdStoreRemoval, 'default');
    assert.equal(resolveArgs(['--allow-containerd-store-removal']).config.allowContainerdStoreRemoval, true);
    for (const v of ['true', '1', 'yes', 'TRUE'])
      assert.equal(
        resolveArgs([], { LAYERWARDEN_ALLOW_CONTAINERD_STORE_REMOVAL: v }).config.allowContainerdStoreRemoval,
        true,
        v,
      );
    assert.equal(
      resolveArgs([], { LAYERWARDEN_ALLOW_CONTAINERD_STORE_REMOVAL: 'false' }).config
        .allowContainerdStoreRemoval,
      false,
    );
    const on = file('on.json', { allowContainerdStoreRemoval: true });
    assert.equal(resolveArgs(['--config', on]).config.allowContainerdStoreRemoval, true);
    const off = file('off.json', { allowContainerdStoreRemoval: false });
    assert.equal(resolveArgs(['--config', off]).config.allowContainerdStoreRemoval, false);
  });

  it('refuses a value that is not a yes or a no', () => {
    assert.throws(
      () => resolveArgs([], { LAYERWARDEN_ALLOW_CONTAINERD_STORE_REMOVAL: 'maybe' }),
      /LAYERWARDEN_ALLOW_CONTAINERD_STORE_REMOVAL: "maybe" is not true or false/,
    );
  });

  it("--containerd-root defaults to containerd's own default root", () => {
    assert.equal(resolveArgs([]).config.containerdRoot, '/var/lib/containerd');
    assert.equal(resolveArgs(['--containerd-root', '/srv/ctrd']).config.containerdRoot, '/srv/ctrd');
  });
});
