import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configFrom } from '../../src/cli/shared.js';
import { FILE_KEYS, readConfigFile } from '../../src/config/file.js';
import { OPTION_SPECS } from '../../src/config/options.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { exitCodeFor, LayerwardenError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'lw-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
/** A config error with exit code 2 whose one-line message matches. */
const configError = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof LayerwardenError, String(err));
  assert.equal(err.code, 'config');
  assert.equal(exitCodeFor(err), 2);
  assert.doesNotMatch(err.message, /\n/);
  assert.match(err.message, re);
  return true;
};

describe('configuration precedence: flag > env > file > default', () => {
  it('takes each value from the highest source that sets it, and says which', () => {
    const { config, sources } = resolveConfig(
      { diskHigh: '91' },
      { LAYERWARDEN_DISK_HIGH: '85', LAYERWARDEN_MIN_AGE: '2d' },
      { diskHigh: 70, minAge: '1h', quietPeriod: '10m', listen: '127.0.0.1:9465' },
    );
    assert.equal(config.diskHighPercent, 91);
    assert.equal(sources.diskHighPercent, 'flag');
    assert.equal(config.minAgeMs, 2 * 86_400_000);
    assert.equal(sources.minAgeMs, 'env');
    assert.equal(config.quietPeriodMs, 600_000);
    assert.equal(sources.quietPeriodMs, 'file');
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 9465 });
    assert.equal(config.windowMs, 6 * 3_600_000);
    assert.equal(sources.windowMs, 'default');
    assert.equal(config.listen && sources.listen, 'file');
  });

  it('treats an empty environment variable as unset', () => {
    const { config, sources } = resolveConfig({}, { LAYERWARDEN_DISK_HIGH: '' }, { diskHigh: 75 });
    assert.equal(config.diskHighPercent, 75);
    assert.equal(sources.diskHighPercent, 'file');
  });

  it('names where a bad value came from', () => {
    assert.throws(
      () => resolveConfig({}, { LAYERWARDEN_DISK_HIGH: '180' }),
      configError(/LAYERWARDEN_DISK_HIGH/),
    );
    assert.throws(() => resolveConfig({}, {}, { minAge: 'soon' }), configError(/config file key "minAge"/));
    assert.throws(() => resolveConfig({ listen: 'nowhere' }, {}), configError(/--listen: "nowhere"/));
  });

  it('reads --listen as [host:]port: loopback unless a host is named, 0 for a free port, IPv6 in brackets', () => {
    assert.deepEqual(resolveConfig({ listen: '127.0.0.1:0' }, {}).config.listen, {
      host: '127.0.0.1',
      port: 0,
    });
    assert.deepEqual(resolveConfig({ listen: '[::1]:9465' }, {}).config.listen, { host: '::1', port: 9465 });
    for (const bare of ['9465', ':9465'])
      assert.deepEqual(
        resolveConfig({ listen: bare }, {}).config.listen,
        { host: '127.0.0.1', port: 9465 },
        bare,
      );
    assert.deepEqual(resolveConfig({ listen: '0.0.0.0:9465' }, {}).config.listen, {
      host: '0.0.0.0',
      port: 9465,
    });
    for (const bad of ['host:', 'a:b:9465', '127.0.0.1:70000', ''])
      assert.throws(() => resolveConfig({ listen: bad || ' ' }, {}), /--listen/, bad);
  });
});

describe('config file', () => {
  it('reads every option by its camelCase attribute', () => {
    assert.deepEqual(
      FILE_KEYS,
      // `diskPaths` holds the list `--disk-path` gives (repeated or comma-separated).
      OPTION_SPECS.map((s) => s.key.replace(/(Percent|Ms)$/, '').replace(/^diskPaths$/, 'diskPath')),
    );
    const path = file('ok.json', JSON.stringify({ diskHigh: 85, ignoreStack: '^infra$', logLevel: null }));
    assert.deepEqual(readConfigFile(path), { diskHigh: 85, ignoreStack: '^infra$' });
  });

  it('refuses unknown keys, bad JSON, non-objects and non-scalar values in one line', () => {
    assert.throws(
      () => readConfigFile(file('unknown.json', '{"diskHig": 80, "x": 1}')),
      configError(/unknown keys "diskHig", "x"/),
    );
    assert.throws(() => readConfigFile(file('bad.json', '{"diskHigh": 80,')), configError(/not valid JSON/));
    assert.throws(() => readConfigFile(file('array.json', '[1]')), configError(/expected a JSON object/));
    assert.throws(
      () => readConfigFile(file('nested.json', '{"listen": {"port": 1}}')),
      configError(/"listen" must be a string or a number/),
    );
    assert.throws(
      () => readConfigFile(file('list.json', '{"diskPath": ["/a", 3]}')),
      configError(/"diskPath" must be a list of non-empty strings without commas/),
    );
    assert.throws(
      () => readConfigFile(file('switch.json', '{"allowContainerdStoreRemoval": [true]}')),
      configError(/"allowContainerdStoreRemoval" must be true or false, got an array/),
    );
    assert.throws(() => readConfigFile(join(dir, 'missing.json')), configError(/cannot read it \(ENOENT\)/));
  });

  it('comes from --config, else LAYERWARDEN_CONFIG; flags and env still win over it', () => {
    const a = file('a.json', JSON.stringify({ diskHigh: 60, quietPeriod: '1m' }));
    const b = file('b.json', JSON.stringify({ diskHigh: 65 }));
    const env = { LAYERWARDEN_CONFIG: b, LAYERWARDEN_QUIET_PERIOD: '2m' };
    const fromFlag = configFrom({ config: a }, env);
    assert.deepEqual(fromFlag.configFile, { path: a, source: 'flag' });
    assert.equal(fromFlag.config.diskHighPercent, 60);
    assert.equal(fromFlag.config.quietPeriodMs, 120_000, 'env beats the file');
    assert.equal(fromFlag.sources.quietPeriodMs, 'env');
    const fromEnv = configFrom({ diskHigh: '99' }, env);
    assert.deepEqual(fromEnv.configFile, { path: b, source: 'env' });
    assert.equal(fromEnv.config.diskHighPercent, 99, 'the flag beats the file');
    assert.equal(configFrom({}, {}).configFile, undefined);
  });
});
