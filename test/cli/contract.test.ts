import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

/** The command-line contract without an engine: one line and a distinct exit code for every bad input. */
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const oneLine = (s: string) => s.trim().split('\n').length === 1;

describe('command-line contract', () => {
  it('exits 2 with one line for an unknown command, option or bad value', () => {
    for (const args of [
      ['bogus'],
      ['status', '--nope'],
      ['status', '--disk-high', '120'],
      ['status', '--min-age', 'soon'],
      ['status', '--run-stack', '('],
      ['watch', '--for', '-1s'],
      ['status', '--listen', 'localhost'],
    ]) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(oneLine(r.stderr), `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /at .*\.(ts|js):\d+/, 'no stack trace');
    }
  });

  it('exits 2 naming the variable when a LAYERWARDEN_* value is bad', () => {
    const r = cli(['status'], { LAYERWARDEN_DISK_HIGH: 'lots' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /LAYERWARDEN_DISK_HIGH/);
    assert.ok(oneLine(r.stderr));
  });

  it('exits 2 when the low-water mark is not below the high-water mark', () => {
    const r = cli(['status', '--disk-high', '70', '--disk-low', '75']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--disk-low/);
  });

  it('exits 3 with one line when the engine is not there', () => {
    for (const host of ['unix:///nonexistent/docker.sock', 'tcp://127.0.0.1:1']) {
      const r = cli(['status', '--docker-host', host, '--state-file', '/nonexistent/state.json']);
      assert.equal(r.code, 3, r.stderr);
      assert.ok(oneLine(r.stderr));
      assert.match(r.stderr, /cannot reach the Docker engine/);
    }
  });

  it('prints help and exits 0', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /watch/);
    assert.match(r.stdout, /status/);
  });
});
