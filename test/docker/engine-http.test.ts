import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineHttpError, engineHttp } from '../../src/docker/engine-http.js';
import { isUnreachable } from '../../src/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A stand-in engine on a unix socket: each test installs its handler; connections are counted. */
let dir: string;
let socket: string;
let server: http.Server;
let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => undefined;
let connections = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lw-http-'));
  socket = path.join(dir, 'engine.sock');
  server = http.createServer((req, res) => handle(req, res));
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(socket, r));
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const client = () => engineHttp({ kind: 'unix', socketPath: socket });
const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('engine HTTP: requests as the port makes them', () => {
  it('sends the method, the path and the query; parses a JSON answer, a text one, an empty one', async () => {
    const seen: string[] = [];
    handle = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/_ping') return res.end('OK');
      if (req.method === 'DELETE') return res.writeHead(204).end();
      json(res, 200, [{ Id: 'sha256:a' }]);
    };
    const c = client();
    const filters = JSON.stringify({ until: ['24h'] });
    assert.deepEqual(await c.json({ path: '/v1.41/containers/json', query: { all: true } }), [
      { Id: 'sha256:a' },
    ]);
    assert.equal(await c.json({ path: '/_ping' }), 'OK');
    assert.equal(
      await c.json({ method: 'DELETE', path: `/v1.41/images/${encodeURIComponent('r/a@sha256:1')}` }),
      undefined,
    );
    await c.json({ method: 'POST', path: '/v1.41/build/prune', query: { filters } });
    assert.deepEqual(seen, [
      'GET /v1.41/containers/json?all=true',
      'GET /_ping',
      'DELETE /v1.41/images/r%2Fa%40sha256%3A1',
      `POST /v1.41/build/prune?filters=${encodeURIComponent(filters)}`,
    ]);
  });

  it("a refusal carries the status and the engine's message; a non-JSON body is its text", async () => {
    handle = (req, res) => {
      if (req.url?.startsWith('/busy'))
        return json(res, 409, { message: 'image is being used by container abc' });
      res.writeHead(502).end('Bad Gateway\n');
    };
    const c = client();
    await assert.rejects(c.json({ path: '/busy' }), (err: unknown) => {
      assert.ok(err instanceof EngineHttpError);
      assert.equal(err.statusCode, 409);
      assert.equal(err.json.message, 'image is being used by container abc');
      assert.equal(err.message, '(HTTP code 409) image is being used by container abc');
      return true;
    });
    await assert.rejects(c.json({ path: '/proxy' }), { statusCode: 502, json: { message: 'Bad Gateway' } });
  });

  it('reuses one connection for requests one after another (a prune of 50 removals opens one)', async () => {
    handle = (_req, res) => res.writeHead(204).end();
    const c = client();
    const before = connections;
    for (let i = 0; i < 50; i++) await c.json({ method: 'DELETE', path: `/images/${i}` });
    assert.equal(connections - before, 1);
  });

  it('reads an answer sent in chunks, and one sent until the close', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ Id: `sha256:${i}`, RepoTags: ['ünïcode:1'] }));
    handle = (req, res) => {
      if (req.url === '/close') {
        res.writeHead(200, { connection: 'close' });
        res.write('[1,');
        return setTimeout(() => res.end('2]'), 10);
      }
      res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
      const text = JSON.stringify(items);
      for (let at = 0; at < text.length; at += 7000) res.write(text.slice(at, at + 7000));
      res.end();
    };
    const c = client();
    assert.deepEqual(await c.json({ path: '/images/json' }), items);
    assert.deepEqual(await c.json({ path: '/close' }), [1, 2]);
    assert.deepEqual(await c.json({ path: '/images/json' }), items);
  });

  it('a kept connection the engine closes while idle is not used again', async () => {
    handle = (_req, res) => json(res, 200, { ok: true });
    const c = client();
    const before = connections;
    await c.json({ path: '/info' });
    // As a restarted engine does: every connection it had is gone.
    server.closeAllConnections();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await c.json({ path: '/info' }), { ok: true });
    assert.equal(connections - before, 2);
  });

  it('an answer that does not come within the ceiling is a TimeoutError, unreachable; so is one that stalls', async () => {
    handle = (req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[{"Id":');
      }
      // else: never answers
    };
    const c = client();
    for (const p of ['/silent', '/stall']) {
      const t0 = Date.now();
      await assert.rejects(c.json({ path: p, timeoutMs: 150 }), (err: unknown) => {
        assert.equal((err as Error).name, 'TimeoutError');
        assert.ok(isUnreachable(err));
        return true;
      });
      assert.ok(Date.now() - t0 < 5000);
    }
  });

  it('an abort ends the request with an AbortError', async () => {
    handle = () => undefined;
    const abort = new AbortController();
    const p = client().json({ path: '/events', signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(p, { name: 'AbortError' });
  });

  it('an engine that closes the connection mid-answer fails the call; a refused connection names its code', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('[{"Id":"sha256:');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await assert.rejects(client().json({ path: '/images/json' }));
    const gone = engineHttp({ kind: 'unix', socketPath: path.join(dir, 'none.sock') });
    await assert.rejects(gone.json({ path: '/_ping' }), { code: 'ENOENT' });
  });

  it('an answer larger than the bound is refused, not held', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', more);
        else res.end();
      };
      more();
    };
    const c = engineHttp({ kind: 'unix', socketPath: socket }, undefined, { maxAnswerBytes: 1024 * 1024 });
    await assert.rejects(c.json({ path: '/images/json' }), /larger than 1048576 bytes/);
  });

  it('a stream is handed over once open and carries what the engine sends; a refused one is an error', async () => {
    handle = (req, res) => {
      if (req.url?.includes('until=bad')) return json(res, 400, { message: 'invalid until' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":1}\n');
      setTimeout(() => res.end('{"a":2}\n'), 20);
    };
    const c = client();
    const s = await c.stream({ path: '/events', query: { since: '1.0' } });
    let text = '';
    for await (const chunk of s) text += String(chunk);
    assert.equal(text, '{"a":1}\n{"a":2}\n');
    await assert.rejects(c.stream({ path: '/events', query: { until: 'bad' } }), {
      statusCode: 400,
      json: { message: 'invalid until' },
    });
  });

  it('a kept connection does not hold a one-shot process open', async () => {
    handle = (_req, res) => json(res, 200, { ok: true });
    const code = `import { engineHttp } from ${JSON.stringify(path.join(ROOT, 'src/docker/engine-http.ts'))};
      const c = engineHttp({ kind: 'unix', socketPath: ${JSON.stringify(socket)} });
      console.log(JSON.stringify(await c.json({ path: '/info' })));`;
    // The stand-in engine runs in this process, so the child is awaited, not run synchronously.
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [status, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(kill);
    assert.equal(signal, null, 'exited by itself, not killed');
    assert.equal(status, 0);
    assert.equal(stdout.trim(), '{"ok":true}');
  });
});
