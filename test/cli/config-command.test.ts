import assert from 'node:assert/strict';
import { OPTION_SPECS } from '../../src/config/options.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigRow } from '../../src/cli/config.js';
import { cli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lw-config-cmd-'));

describe('layerwarden config', () => {
  it('prints every option with its effective value and source, as JSON', async () => {
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ diskHigh: 70, quietPeriod: '90s', window: '4h', listen: '127.0.0.1:9465' }),
    );
    const r = await cli(['config', '--json', '--config', file, '--window', '2h'], {
      LAYERWARDEN_QUIET_PERIOD: '2m',
      LAYERWARDEN_CONFIG: join(dir, 'ignored.json'),
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      configFile: { path: string; source: string };
      options: ConfigRow[];
    };
    assert.deepEqual(doc.configFile, { path: file, source: 'flag' });
    const row = (key: string) => doc.options.find((o) => o.key === key);
    assert.deepEqual(row('window'), {
      key: 'window',
      flag: '--window',
      env: 'LAYERWARDEN_WINDOW',
      value: '2h',
      source: 'flag',
      from: '--window',
    });
    assert.deepEqual([row('quietPeriod')?.value, row('quietPeriod')?.source], ['2m', 'env']);
    assert.deepEqual([row('diskHigh')?.value, row('diskHigh')?.source], ['70', 'file']);
    assert.deepEqual([row('listen')?.value, row('listen')?.source], ['127.0.0.1:9465', 'file']);
    assert.deepEqual([row('minAge')?.value, row('minAge')?.source], ['1d', 'default']);
    assert.deepEqual([row('ignoreStack')?.value, row('ignoreStack')?.source], [null, 'default']);
    assert.equal(doc.options.length, OPTION_SPECS.length, 'every option, once');
  });

  it('prints a table with the precedence and where each value came from', async () => {
    const r = await cli(['config', '--disk-high', '88'], { LAYERWARDEN_LOG_LEVEL: 'debug' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^config file: none/);
    assert.equal(
      lines[1],
      'precedence: flag > environment > config file > DOCKER_HOST, docker context, TZ, STATE_DIRECTORY > default',
    );
    assert.match(r.stdout, /^diskHigh +88 +--disk-high$/m);
    assert.match(r.stdout, /^logLevel +debug +LAYERWARDEN_LOG_LEVEL$/m);
    assert.match(r.stdout, /^schedule +0 0 \* \* \* +default$/m);
  });

  it('exits 2 with one line on a bad config file, an unknown key or a bad value', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"diskHigh": 80, "colour": "blue"}');
    for (const [args, env, re] of [
      [['config', '--config', bad], {}, /unknown key "colour"/],
      [['config'], { LAYERWARDEN_CONFIG: join(dir, 'missing.json') }, /cannot read it \(ENOENT\)/],
      [['config'], { LAYERWARDEN_DISK_HIGH: 'lots' }, /LAYERWARDEN_DISK_HIGH: "lots" is not a percentage/],
    ] as const) {
      const r = await cli([...args], { ...env });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    }
  });
});
