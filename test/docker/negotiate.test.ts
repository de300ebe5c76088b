import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstValueFrom } from 'rxjs';
import { createEnginePort } from '../../src/docker/engine-port.js';
import { AGENT_API, compareApi, isVersionRefusal, negotiate } from '../../src/docker/negotiate.js';
import { EXIT, exitCodeFor, LayerwardenError } from '../../src/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const waitUntil = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), 'waited 2 s');
};
const TOO_OLD =
  'client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version';

describe('negotiate: the newest version both sides know', () => {
  it('orders versions numerically (1.9 < 1.41 < 1.100)', () => {
    assert.ok(compareApi('1.9', '1.41') < 0);
    assert.ok(compareApi('1.100', '1.41') > 0);
    assert.equal(compareApi('1.44', '1.44'), 0);
  });

  it("speaks the engine's newest inside the agent's range", () => {
    assert.equal(negotiate({ version: '20.10.24', max: '1.41', min: '1.12' }).spoken, '1.41');
    assert.equal(negotiate({ version: '27.3.1', max: '1.47', min: '1.24' }).spoken, '1.47');
    assert.equal(negotiate({ version: '29.1.3', max: '1.52', min: '1.44' }).spoken, '1.52');
  });

  it('caps a newer engine at the newest version the agent was checked against, if the engine still serves it', () => {
    assert.equal(negotiate({ version: '29.4.0', max: '1.55', min: '1.40' }).spoken, AGENT_API.max);
    assert.equal(AGENT_API.max, '1.52');
  });

  it('an engine below the floor (1.41) or one whose minimum is above the ceiling: exit 3, both ranges named', () => {
    const cases = [
      { engine: { version: '19.03.15', max: '1.40', min: '1.12' }, says: /too old for it/ },
      { engine: { version: '31.0.0', max: '1.60', min: '1.54' }, says: /upgrade layerwarden/ },
    ];
    for (const { engine, says } of cases) {
      let err: unknown;
      try {
        negotiate(engine);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof LayerwardenError, `${engine.version} refused`);
      assert.equal(exitCodeFor(err), EXIT.engineUnreachable);
      assert.match(err.message, new RegExp(`serves API ${engine.min}–${engine.max}`));
      assert.match(err.message, /layerwarden speaks 1\.41–1\.52/);
      assert.match(err.message, says);
      assert.doesNotMatch(err.message, /\n/);
    }
  });

  it("the engine's refusal, too old or too new, is recognised; other 400s are not", () => {
    assert.equal(isVersionRefusal(400, TOO_OLD), true);
    assert.equal(
      isVersionRefusal(400, 'client version 1.53 is too new. Maximum supported API version is 1.52'),
      true,
    );
    assert.equal(isVersionRefusal(400, 'invalid filter'), false);
    assert.equal(isVersionRefusal(500, TOO_OLD), false);
  });
});

/**
 * An engine's version gate as moby writes it (daemon/server/middleware/version.go), on a unix socket:
 * its range can change under a connected client (an upgrade), and every request is recorded.
 */
class VersionGate {
  range = { min: '1.12', max: '1.41', release: '20.10.24' };
  readonly asked: string[] = [];
  private readonly server = http.createServer((req, res) => this.answer(req, res));
  constructor(readonly socket: string) {}
  listen = () => new Promise<void>((resolve) => this.server.listen(this.socket, resolve));
  close = () =>
    new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });

  /** Holds the answer to a path (without version) until the promise it returns settles. */
  hold: ((at: string) => Promise<void> | undefined) | undefined;

  private answer(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? '/';
    this.asked.push(url);
    const held = this.hold?.(/^(?:\/v\d+\.\d+)?(\/[^?]*)/.exec(url)?.[1] ?? url);
    if (held) void held.then(() => this.reply(url, res));
    else this.reply(url, res);
  }

  private reply(url: string, res: http.ServerResponse) {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': this.range.max });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const m = /^\/v(\d+\.\d+)(\/[^?]*)/.exec(url);
    const asked = m?.[1] ?? this.range.max;
    const at = m?.[2] ?? url.split('?')[0];
    if (compareApi(asked, this.range.min) < 0)
      return json(400, {
        message: `client version ${asked} is too old. Minimum supported API version is ${this.range.min}, please upgrade your client to a newer version`,
      });
    if (compareApi(asked, this.range.max) > 0)
      return json(400, {
        message: `client version ${asked} is too new. Maximum supported API version is ${this.range.max}`,
      });
    if (at === '/version')
      return json(200, {
        Version: this.range.release,
        ApiVersion: this.range.max,
        MinAPIVersion: this.range.min,
      });
    if (at === '/info')
      return json(200, { ID: 'gate', ServerVersion: this.range.release, DockerRootDir: '/x' });
    if (at === '/images/json') return json(200, [{ Id: 'sha256:a', RepoTags: ['a:1'], Containers: 2 }]);
    if (at === '/events') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      return;
    }
    json(404, { message: 'page not found' });
  }
}

describe('the port negotiates per connection and again when refused', () => {
  let dir: string;
  let gate: VersionGate;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-negotiate-'));
    gate = new VersionGate(path.join(dir, 'engine.sock'));
    await gate.listen();
  });
  after(async () => {
    await gate.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks the unversioned /version once, then speaks what it chose; 1.51 shapes are read at 1.51 only', async () => {
    gate.range = { min: '1.12', max: '1.41', release: '20.10.24' };
    gate.asked.length = 0;
    const port = createEnginePort(`unix://${gate.socket}`);
    const info = await port.info();
    assert.equal(gate.asked[0], '/version');
    assert.equal(info.apiVersion, '1.41');
    assert.deepEqual(info.apiRange, { min: '1.12', max: '1.41' });
    await port.info();
    assert.ok(
      gate.asked.slice(1).every((u) => u.startsWith('/v1.41/')),
      gate.asked.join(' '),
    );
    assert.equal((await port.listImages())[0]?.containers, undefined, 'Containers is -1 before 1.51');

    // The engine restarts as 28.3: the next events connection negotiates again.
    gate.range = { min: '1.24', max: '1.51', release: '28.3.0' };
    await firstValueFrom(port.events({}));
    assert.equal((await port.info()).apiVersion, '1.51');
    assert.equal((await port.listImages())[0]?.containers, 2);
  });

  it('an engine upgraded under it refuses the old version: it renegotiates and the call succeeds', async () => {
    gate.range = { min: '1.12', max: '1.41', release: '20.10.24' };
    const port = createEnginePort(`unix://${gate.socket}`);
    assert.equal((await port.info()).apiVersion, '1.41');
    gate.range = { min: '1.44', max: '1.52', release: '29.1.3' };
    gate.asked.length = 0;
    const images = await port.listImages();
    assert.equal(images.length, 1);
    assert.deepEqual(gate.asked, ['/v1.41/images/json', '/version', '/v1.52/images/json']);
  });

  it('a call answered while an events connection renegotiates reports the range it was answered under, and does not wait for or fail with that renegotiation', async () => {
    gate.range = { min: '1.44', max: '1.52', release: '29.1.3' };
    const port = createEnginePort(`unix://${gate.socket}`);
    await port.info();
    let releaseInfo = () => {};
    const infoHeld = new Promise<void>((resolve) => {
      releaseInfo = resolve;
    });
    // The engine goes away under the events connection's /version (it never answers); /info waits.
    gate.hold = (at) =>
      at === '/info' ? infoHeld : at === '/version' ? new Promise<void>(() => {}) : undefined;
    gate.asked.length = 0;
    const info = port.info();
    await waitUntil(() => gate.asked.includes('/v1.52/info'));
    const events = port.events({}).subscribe({ error: () => {} });
    await waitUntil(() => gate.asked.includes('/version'));
    releaseInfo();
    const answered = await Promise.race([
      info,
      new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 500)),
    ]);
    events.unsubscribe(); // the events connection gives up: its /version is aborted
    gate.hold = undefined;
    if (answered === 'waiting') assert.fail('info() answered without waiting for the events renegotiation');
    assert.equal(answered.apiVersion, '1.52');
    assert.deepEqual(answered.apiRange, { min: '1.44', max: '1.52' });
  });

  it('a call waiting for an events connection negotiation that the connection gives up negotiates itself and succeeds', async () => {
    gate.range = { min: '1.44', max: '1.52', release: '29.1.3' };
    const port = createEnginePort(`unix://${gate.socket}`);
    await port.info();
    let versions = 0;
    // The events connection's /version is never answered; the next one is.
    gate.hold = (at) => (at === '/version' && versions++ === 0 ? new Promise<void>(() => {}) : undefined);
    gate.asked.length = 0;
    const events = port.events({}).subscribe({ error: () => {} });
    await waitUntil(() => gate.asked.includes('/version'));
    const images = port.listImages();
    await new Promise((r) => setTimeout(r, 50));
    events.unsubscribe(); // its watchdog gave up on it: the /version it asked is aborted
    const listed = await images;
    gate.hold = undefined;
    assert.equal(listed.length, 1);
    assert.deepEqual(gate.asked, ['/version', '/version', '/v1.52/images/json']);
  });

  it('every events connection negotiates first (a reconnect meets the engine that came back)', async () => {
    gate.range = { min: '1.44', max: '1.52', release: '29.1.3' };
    const port = createEnginePort(`unix://${gate.socket}`);
    gate.asked.length = 0;
    const frame = await firstValueFrom(port.events({}));
    assert.equal(frame.kind, 'open');
    assert.deepEqual(gate.asked, ['/version', '/v1.52/events']);
  });

  /** The CLI as an operator runs it, against the gate. */
  const layerwarden = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn(
        'node',
        [
          '--import',
          'tsx',
          'src/cli/bin.ts',
          ...args,
          '--docker-host',
          `unix://${gate.socket}`,
          '--state-file',
          path.join(dir, 's.json'),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b;
      });
      child.stderr.on('data', (b: Buffer) => {
        stderr += b;
      });
      child.on('close', (code) => resolve({ code, stderr, stdout }));
    });
  // Which engine said it comes first (issue 13: every engine error names the address and its source).
  const outOfRange = () =>
    `layerwarden: unix://${gate.socket} (--docker-host): the Docker engine 31.0.0 serves API 1.54–1.60; layerwarden speaks 1.41–1.52: upgrade layerwarden for this engine`;

  it('status against an engine outside the range: exit 3 and one line naming both ranges', async () => {
    gate.range = { min: '1.54', max: '1.60', release: '31.0.0' };
    const r = await layerwarden(['status']);
    assert.equal(r.code, EXIT.engineUnreachable, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trim().split('\n'), [outOfRange()]);
  });

  it('watch against an engine outside the range: the same line and exit 3, not a resident agent that never lists', async () => {
    gate.range = { min: '1.54', max: '1.60', release: '31.0.0' };
    const r = await layerwarden([
      'watch',
      '--no-prune',
      '--for',
      '30s',
      '--log-file',
      path.join(dir, 'w.ndjson'),
    ]);
    assert.equal(r.code, EXIT.engineUnreachable, r.stderr);
    assert.deepEqual(r.stderr.trim().split('\n'), [outOfRange()]);
  });
});
