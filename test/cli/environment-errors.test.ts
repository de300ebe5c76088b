/**
 * What the host refuses is one line naming the option: an unwritable or unusable log file or state path
 * is exit 2, a socket the user may not open is exit 3; and a one-shot command validates everything, the
 * engine included, before it creates a directory, a lock or a log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../engine/harness.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lw-env-errors-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Root passes every permission check: run the CLI as `nobody` then, as an unprivileged service user is. */
const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

/** The CLI as an operator runs it (the engine harness's runner), as `nobody` when `unprivileged`. */
function layerwarden(args: string[], opts: { unprivileged?: boolean; env?: Record<string, string> } = {}) {
  return run(process.execPath, ['--import', 'tsx', BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, TZ: 'UTC', ...opts.env },
    ...(opts.unprivileged && asUser && { user: asUser }),
  });
}

const oneLine = (s: string) => assert.equal(s.trim().split('\n').length, 1, s);

describe('environment errors are one line naming the option', () => {
  it('a log file that cannot be opened: exit 2 naming --log-file or its variable', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    const r = await layerwarden(
      [
        'prune',
        '--now',
        '--dry-run',
        '--log-file',
        join(locked, 'agent.ndjson'),
        '--docker-host',
        `unix://${dir}/none.sock`,
      ],
      { unprivileged: true },
    );
    // The engine is checked first (none here: exit 3), before the log file is opened.
    assert.equal(r.code, 3, r.stderr);
    const sock = await listen(join(dir, 'open.sock'), 0o777);
    try {
      const log = await layerwarden(
        [
          'watch',
          '--for',
          '1s',
          '--log-file',
          join(locked, 'agent.ndjson'),
          '--docker-host',
          `unix://${sock}`,
          '--state-file',
          join(dir, 'w', 'state.json'),
        ],
        { unprivileged: true },
      );
      assert.equal(log.code, 2, log.stderr);
      assert.match(
        log.stderr,
        /^layerwarden: --log-file: cannot open .*agent\.ndjson for appending \(permission denied\); under the systemd unit use \/var\/log\/layerwarden\//,
      );
      oneLine(log.stderr);
      // `config` gives the agent's exit code and its very line, before the agent is ever started.
      const config = await layerwarden(['config', '--log-file', join(locked, 'agent.ndjson')], {
        unprivileged: true,
      });
      assert.deepEqual([config.code, config.stderr, config.stdout], [2, log.stderr, '']);
      const isDir = await layerwarden([
        'watch',
        '--for',
        '1s',
        '--log-file',
        dir,
        '--docker-host',
        `unix://${sock}`,
      ]);
      assert.equal(isDir.code, 2, isDir.stderr);
      assert.match(isDir.stderr, /^layerwarden: --log-file: cannot open .* \(is a directory\)/);
      oneLine(isDir.stderr);
    } finally {
      await close(sock);
    }
  });

  it('a state path that is a directory or not writable: exit 2 naming --state-file', async () => {
    const sock = await listen(join(dir, 'state.sock'), 0o777);
    try {
      const isDir = await layerwarden([
        'watch',
        '--for',
        '1s',
        '--state-file',
        dir,
        '--docker-host',
        `unix://${sock}`,
      ]);
      assert.equal(isDir.code, 2, isDir.stderr);
      assert.match(
        isDir.stderr,
        /^layerwarden: --state-file: state file .*: cannot (lock|read) it \(is a directory\)/,
      );
      oneLine(isDir.stderr);
      const ro = join(dir, 'ro-state');
      mkdirSync(ro, { mode: 0o555 });
      const denied = await layerwarden(
        ['watch', '--for', '1s', '--state-file', join(ro, 'state.json'), '--docker-host', `unix://${sock}`],
        { unprivileged: true },
      );
      assert.equal(denied.code, 2, denied.stderr);
      assert.match(
        denied.stderr,
        /^layerwarden: --state-file: state file .*: cannot lock it \(permission denied\)/,
      );
      oneLine(denied.stderr);
    } finally {
      await close(sock);
    }
  });

  it('a socket the user may not open: exit 3, one line, saying what to change', async () => {
    const sock = await listen(join(dir, 'root-only.sock'), 0o600);
    try {
      const r = await layerwarden(
        ['status', '--docker-host', `unix://${sock}`, '--state-file', join(dir, 'x.json')],
        {
          unprivileged: true,
        },
      );
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        /^layerwarden: cannot reach the Docker engine at unix:\/\/.*root-only\.sock \(--docker-host\) \(EACCES: permission denied on the socket; the user needs the docker group\)/,
      );
      oneLine(r.stderr);
    } finally {
      await close(sock);
    }
  });
});

describe('one-shot commands validate before any side effect', () => {
  it('prune --now --dry-run with a bad --tz: exit 2, no state directory, no lock', async () => {
    const stateDir = join(dir, 'never-made');
    const r = await layerwarden([
      'prune',
      '--now',
      '--dry-run',
      '--tz',
      'Mars/Base',
      '--state-file',
      join(stateDir, 'state.json'),
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^layerwarden: option '--tz <zone>' argument 'Mars\/Base' is invalid/);
    assert.equal(existsSync(stateDir), false, 'the state directory was not created');
    const env = await layerwarden([
      'prune',
      '--now',
      '--state-file',
      join(stateDir, 'state.json'),
      '--schedule',
      '* * *',
    ]);
    assert.equal(env.code, 2, env.stderr);
    assert.equal(existsSync(stateDir), false);
  });

  it('prune --now with no engine: exit 3, no state directory, no lock, no log file', async () => {
    const stateDir = join(dir, 'not-either');
    const r = await layerwarden([
      'prune',
      '--now',
      '--state-file',
      join(stateDir, 'state.json'),
      '--log-file',
      join(stateDir, 'log', 'a.ndjson'),
      '--docker-host',
      `unix://${dir}/nothing.sock`,
    ]);
    assert.equal(r.code, 3, r.stderr);
    oneLine(r.stderr);
    assert.equal(existsSync(stateDir), false, 'nothing was created');
  });
});

describe('config checks the log file as the agent opens it', () => {
  it('a log file that cannot be created or appended to: exit 2, one line naming its source', async () => {
    const locked = join(dir, 'config-locked');
    mkdirSync(locked, { mode: 0o555 });
    // Its directory missing too: the agent would have to create it.
    const nested = await layerwarden(['config', '--log-file', join(locked, 'sub', 'agent.ndjson')], {
      unprivileged: true,
    });
    assert.equal(nested.code, 2, nested.stderr);
    assert.match(
      nested.stderr,
      /^layerwarden: --log-file: cannot open .*sub\/agent\.ndjson for appending \(permission denied\); under the systemd unit use \/var\/log\/layerwarden\//,
    );
    oneLine(nested.stderr);
    // The variable is named when the value came from it; a directory is refused as the agent refuses it.
    const fromEnv = await layerwarden(['config'], {
      unprivileged: true,
      env: { LAYERWARDEN_LOG_FILE: join(locked, 'agent.ndjson') },
    });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /^layerwarden: LAYERWARDEN_LOG_FILE: cannot open .* \(permission denied\)/);
    oneLine(fromEnv.stderr);
    const plain = join(dir, 'a-file');
    writeFileSync(plain, '');
    const underFile = await layerwarden(['config', '--log-file', join(plain, 'logs', 'agent.ndjson')]);
    assert.equal(underFile.code, 2, underFile.stderr);
    assert.match(
      underFile.stderr,
      /^layerwarden: --log-file: cannot open .* \(a parent is not a directory\)/,
    );
    oneLine(underFile.stderr);
    const isDir = await layerwarden(['config', '--json', '--log-file', dir]);
    assert.equal(isDir.code, 2, isDir.stderr);
    assert.match(isDir.stderr, /^layerwarden: --log-file: cannot open .* \(is a directory\)/);
    oneLine(isDir.stderr);
  });

  it('a log file that can be created still passes, and config creates nothing', async () => {
    const open = join(dir, 'config-open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const file = join(open, 'logs', 'agent.ndjson');
    const r = await layerwarden(['config', '--json', '--log-file', file], { unprivileged: true });
    assert.equal(r.code, 0, r.stderr);
    const row = (
      JSON.parse(r.stdout) as { options: Array<{ key: string; value: string; from: string }> }
    ).options.find((o) => o.key === 'logFile');
    assert.deepEqual([row?.value, row?.from], [file, '--log-file']);
    assert.equal(existsSync(join(open, 'logs')), false, 'neither the directory nor the file was created');
    const stderrLog = await layerwarden(['config', '--log-file', 'stderr'], { unprivileged: true });
    assert.equal(stderrLog.code, 0, stderrLog.stderr);
  });
});

/** A unix socket that accepts (and never answers), with the given mode. */
async function listen(path: string, mode: number): Promise<string> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, mode);
  servers.set(path, server);
  return path;
}
const servers = new Map<string, ReturnType<typeof createServer>>();
async function close(path: string): Promise<void> {
  const server = servers.get(path);
  servers.delete(path);
  await new Promise<void>((resolve) => server?.close(() => resolve()));
}

describe('prune --now --unit uses the service state file and its lock', () => {
  it('refuses to run beside the service that holds the lock, before reaching any engine', async () => {
    const { hostname } = await import('node:os');
    const svc = join(dir, 'svc');
    mkdirSync(svc);
    const unit = join(dir, 'svc.service');
    writeFileSync(
      unit,
      `[Service]\nExecStart=/usr/local/bin/layerwarden watch\nEnvironment=STATE_DIRECTORY=${svc} LAYERWARDEN_DOCKER_HOST=unix://${dir}/no-engine.sock\n`,
    );
    // The running service: a live process named in the lock, as `watch` writes it.
    const service = spawn('sleep', ['60']);
    try {
      writeFileSync(
        join(svc, 'state.json.lock'),
        JSON.stringify({
          pid: service.pid,
          host: hostname(),
          command: 'watch',
          since: '2026-01-01T00:00:00.000Z',
        }),
      );
      const r = await layerwarden(['prune', '--now', '--unit', unit]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^layerwarden: state file ${svc}/state.json is in use by layerwarden watch \\(pid ${service.pid} `,
        ),
      );
      oneLine(r.stderr);
      // Without --unit the shell's environment has no STATE_DIRECTORY: another state file, which is why
      // the docs say --unit.
      const shell = await layerwarden(['config', '--json']);
      const row = (
        JSON.parse(shell.stdout) as { options: Array<{ key: string; value: string }> }
      ).options.find((o) => o.key === 'stateFile');
      assert.notEqual(row?.value, join(svc, 'state.json'));
    } finally {
      service.kill();
    }
  });
});
