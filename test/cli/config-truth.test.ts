/**
 * `config` is the operator's truth: it validates what the agent validates (exit 2, one line, naming
 * the source), names every value's real source (DOCKER_HOST, TZ, STATE_DIRECTORY, the docker context,
 * the unit's env file), and with `--unit` shows what the systemd service will use.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConfigRow } from '../../src/cli/config.js';
import { cli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lw-config-truth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Enough of a certificate for `config`, which reads the files but connects to nothing. */
const FAKE_PEM = '-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n';

/** The host's own settings cleared, so each case sets only what it names. */
const CLEAN = {
  DOCKER_HOST: undefined,
  DOCKER_CONTEXT: undefined,
  DOCKER_TLS_VERIFY: undefined,
  DOCKER_CERT_PATH: undefined,
  STATE_DIRECTORY: undefined,
  TZ: undefined,
  DOCKER_CONFIG: join(dir, 'no-docker-config'),
};

async function rows(args: string[], env: Record<string, string | undefined> = {}) {
  const r = await cli(['config', '--json', ...args], { ...CLEAN, ...env });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { unit: string | null; options: ConfigRow[] };
  return (key: string) => {
    const row = doc.options.find((o) => o.key === key);
    assert.ok(row, key);
    return [row.value, row.from];
  };
}

async function refused(args: string[], env: Record<string, string | undefined>, re: RegExp) {
  const r = await cli(args, { ...CLEAN, ...env });
  assert.equal(r.code, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
}

describe('config validates what the agent validates', () => {
  it('refuses a bad schedule, zone or engine address wherever it comes from, naming the source', async () => {
    const file = join(dir, 'tz.json');
    writeFileSync(file, JSON.stringify({ tz: 'Mars/Base' }));
    await refused(['config', '--schedule', 'nope', '--tz', 'Mars/Base'], {}, /--schedule/);
    await refused(['config', '--tz', 'Mars/Base'], {}, /--tz/);
    await refused(
      ['config'],
      { LAYERWARDEN_SCHEDULE: '61 * * * *' },
      /^layerwarden: LAYERWARDEN_SCHEDULE: "61 \* \* \* \*" is not a cron expression of five or six fields/,
    );
    await refused(
      ['config'],
      { LAYERWARDEN_TZ: 'Mars/Base' },
      /^layerwarden: LAYERWARDEN_TZ: "Mars\/Base" is not an IANA time zone/,
    );
    await refused(['config', '--config', file], {}, /^layerwarden: config file key "tz": "Mars\/Base"/);
    await refused(['config'], { TZ: 'Mars/Base' }, /^layerwarden: TZ: "Mars\/Base"/);
    await refused(
      ['config'],
      { LAYERWARDEN_DOCKER_HOST: 'ssh://x' },
      /^layerwarden: LAYERWARDEN_DOCKER_HOST: "ssh:\/\/x" is not .*ssh:\/\/ is not supported/,
    );
    await refused(
      ['config'],
      { DOCKER_HOST: 'tcp://127.0.0.1:99999' },
      /^layerwarden: DOCKER_HOST: "tcp:\/\/127.0.0.1:99999"/,
    );
    await refused(['status'], { DOCKER_HOST: 'tcp://127.0.0.1:99999' }, /^layerwarden: DOCKER_HOST:/);
  });

  it('refuses durations out of their bounds', async () => {
    await refused(['config', '--window', '25h'], {}, /--window.*from 1s to 24h/);
    await refused(['config', '--watchdog', '1ms'], {}, /--watchdog.*from 1s to 10m/);
    await refused(['config', '--resync', '100ms'], {}, /--resync.*from 1s to 24h/);
    await refused(
      ['config'],
      { LAYERWARDEN_TIMEOUT: '0s' },
      /LAYERWARDEN_TIMEOUT: "0s" is not a duration from 1s to 5m/,
    );
  });

  it('refuses an unknown LAYERWARDEN_* variable, naming the nearest known one', async () => {
    await refused(
      ['config'],
      { LAYERWARDEN_DISKHIGH: '85' },
      /^layerwarden: LAYERWARDEN_DISKHIGH: no such variable \(did you mean LAYERWARDEN_DISK_HIGH\?\)$/m,
    );
    await refused(['status'], { LAYERWARDEN_SHEDULE: '0 1 * * *' }, /did you mean LAYERWARDEN_SCHEDULE\?/);
    // deploy/stack.yml's own variables are ours too.
    const get = await rows([], { LAYERWARDEN_IMAGE: 'reg/layerwarden:1' });
    assert.deepEqual(get('diskHigh'), ['80', 'default']);
  });

  it('one-shot commands do not take watch-only flags', async () => {
    for (const flag of ['--listen', '--resync', '--watchdog', '--reconnect-max', '--pull-budget'])
      await refused(['status', flag, '1'], {}, new RegExp(`unknown option '${flag}'`));
    await refused(['plan', '--listen', '9465'], {}, /unknown option '--listen'/);
    await refused(['watch', '--timeout', '5s'], {}, /unknown option '--timeout'/);
  });
});

describe('config names where each value came from', () => {
  it('DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, TZ and STATE_DIRECTORY by name', async () => {
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    // TLS files are read as the agent reads them: a missing ca.pem is refused, naming where the path came from.
    await refused(
      ['config'],
      { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
      /^layerwarden: DOCKER_CERT_PATH \(for DOCKER_TLS_VERIFY verify\): cannot read .*ca\.pem \(no such file\)/,
    );
    writeFileSync(join(certs, 'ca.pem'), 'x');
    await refused(
      ['config'],
      { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
      /ca\.pem is not a PEM file/,
    );
    writeFileSync(join(certs, 'ca.pem'), FAKE_PEM);
    const get = await rows([], {
      DOCKER_HOST: 'tcp://127.0.0.1:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certs,
      TZ: 'Europe/Berlin',
      STATE_DIRECTORY: '/var/lib/layerwarden:/var/lib/other',
    });
    assert.deepEqual(get('dockerHost'), ['tcp://127.0.0.1:2376', 'DOCKER_HOST']);
    assert.deepEqual(get('tls'), ['verify', 'DOCKER_TLS_VERIFY']);
    assert.deepEqual(get('tlsCertPath'), [certs, 'DOCKER_CERT_PATH']);
    assert.deepEqual(get('tz'), ['Europe/Berlin', 'TZ']);
    assert.deepEqual(get('stateFile'), ['/var/lib/layerwarden/state.json', 'STATE_DIRECTORY']);
    // Our own variable wins over the host's.
    const ours = await rows([], {
      DOCKER_HOST: 'tcp://127.0.0.1:2376',
      LAYERWARDEN_DOCKER_HOST: 'unix:///run/d.sock',
    });
    assert.deepEqual(ours('dockerHost'), ['unix:///run/d.sock', 'LAYERWARDEN_DOCKER_HOST']);
  });

  it("the docker CLI's current context when DOCKER_HOST is unset, with its TLS files", async () => {
    const cfg = join(dir, 'docker-config');
    const id = createHash('sha256').update('remote-ci').digest('hex');
    mkdirSync(join(cfg, 'contexts', 'meta', id), { recursive: true });
    mkdirSync(join(cfg, 'contexts', 'tls', id, 'docker'), { recursive: true });
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: {}, currentContext: 'remote-ci' }));
    writeFileSync(
      join(cfg, 'contexts', 'meta', id, 'meta.json'),
      JSON.stringify({
        Name: 'remote-ci',
        Metadata: {},
        Endpoints: { docker: { Host: 'tcp://10.0.0.7:2376', SkipTLSVerify: false } },
      }),
    );
    writeFileSync(join(cfg, 'contexts', 'tls', id, 'docker', 'ca.pem'), FAKE_PEM);
    const get = await rows([], { DOCKER_CONFIG: cfg });
    assert.deepEqual(get('dockerHost'), ['tcp://10.0.0.7:2376', 'docker context "remote-ci"']);
    assert.deepEqual(get('tls'), ['verify', 'docker context "remote-ci"']);
    assert.deepEqual(get('tlsCertPath'), [
      join(cfg, 'contexts', 'tls', id, 'docker'),
      'docker context "remote-ci"',
    ]);
    // DOCKER_HOST beats the context, as for the CLI; DOCKER_CONTEXT names another one.
    const host = await rows([], { DOCKER_CONFIG: cfg, DOCKER_HOST: 'unix:///run/x.sock' });
    assert.deepEqual(host('dockerHost'), ['unix:///run/x.sock', 'DOCKER_HOST']);
    await refused(
      ['config'],
      { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'gone' },
      /docker context "gone" \(DOCKER_CONTEXT\): no docker endpoint/,
    );
    const dflt = await rows([], { DOCKER_CONFIG: cfg, DOCKER_CONTEXT: 'default' });
    assert.deepEqual(dflt('dockerHost'), ['unix:///var/run/docker.sock', 'default']);
  });
});

describe('config --unit shows what the systemd service uses', () => {
  it('the shipped unit: state under its StateDirectory, --listen from its Environment=', async () => {
    const get = await rows(['--unit', 'deploy/layerwarden.service'], {
      // The shell's own settings are not the service's.
      STATE_DIRECTORY: undefined,
      LAYERWARDEN_DISK_HIGH: '99',
      TZ: 'Asia/Tokyo',
    });
    assert.deepEqual(get('stateFile'), [
      '/var/lib/layerwarden/state.json',
      'STATE_DIRECTORY (StateDirectory= of deploy/layerwarden.service)',
    ]);
    assert.deepEqual(get('listen'), [
      '127.0.0.1:9465',
      'LAYERWARDEN_LISTEN (Environment= of deploy/layerwarden.service)',
    ]);
    assert.deepEqual(get('diskHigh'), ['80', 'default']);
    assert.notEqual(get('tz')[1], 'TZ');
  });

  it("a unit's EnvironmentFile=, ExecStart= flags and --config, each named; a typo there is refused", async () => {
    const envFile = join(dir, 'layerwarden.env');
    const unit = join(dir, 'layerwarden.service');
    const configFile = join(dir, 'unit-config.json');
    writeFileSync(configFile, JSON.stringify({ minAge: '2d' }));
    writeFileSync(envFile, '# options\nLAYERWARDEN_DISK_HIGH=85\nLAYERWARDEN_TZ="Europe/Berlin"\n');
    writeFileSync(
      unit,
      [
        '[Unit]',
        'Description=x',
        '[Service]',
        `ExecStart=/usr/local/bin/layerwarden watch --log-file /var/log/layerwarden/agent.ndjson --config ${configFile}`,
        `EnvironmentFile=-${envFile}`,
        'EnvironmentFile=-/nonexistent/optional.env',
        'Environment="LAYERWARDEN_QUIET_PERIOD=10m" LAYERWARDEN_LOG_LEVEL=warn',
        'StateDirectory=layerwarden',
        '',
      ].join('\n'),
    );
    const get = await rows(['--unit', unit, '--log-level', 'debug']);
    assert.deepEqual(get('diskHigh'), ['85', `LAYERWARDEN_DISK_HIGH (${envFile})`]);
    assert.deepEqual(get('tz'), ['Europe/Berlin', `LAYERWARDEN_TZ (${envFile})`]);
    assert.deepEqual(get('quietPeriod'), ['10m', `LAYERWARDEN_QUIET_PERIOD (Environment= of ${unit})`]);
    assert.deepEqual(get('logFile'), [
      '/var/log/layerwarden/agent.ndjson',
      `--log-file (ExecStart= of ${unit})`,
    ]);
    assert.deepEqual(get('minAge'), ['2d', 'config file key "minAge"']);
    assert.deepEqual(get('logLevel'), ['debug', '--log-level'], 'a flag on the command line still wins');
    writeFileSync(envFile, 'LAYERWARDEN_DISKHIGH=85\n');
    await refused(
      ['config', '--unit', unit],
      {},
      new RegExp(
        `LAYERWARDEN_DISKHIGH \\(${envFile}\\): no such variable \\(did you mean LAYERWARDEN_DISK_HIGH\\?\\)`,
      ),
    );
  });

  it('the shipped unit wants the network it waits for', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync('deploy/layerwarden.service', 'utf8');
    assert.match(text, /^Wants=.*\bnetwork-online\.target\b/m);
    assert.match(text, /^After=.*\bnetwork-online\.target\b/m);
  });
});
