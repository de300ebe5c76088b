import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { healthOf } from '../../src/agent/health.js';
import { type HttpServer, startHttpServer } from '../../src/http/server.js';
import { createModel } from '../../src/model/create.js';

function call(
  server: HttpServer,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: string; allow?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.address.host, port: server.address.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          body,
          ...(res.headers.allow && { allow: res.headers.allow }),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('http endpoints', () => {
  const model = createModel();
  let ready = false;
  let server: HttpServer;

  before(async () => {
    server = await startHttpServer(
      { host: '127.0.0.1', port: 0 },
      {
        health: () => healthOf(ready ? model : undefined),
        metrics: async () => ({
          contentType: 'text/plain; version=0.0.4; charset=utf-8',
          body: 'x_total 1\n',
        }),
        status: async () => (ready ? { idle: true } : undefined),
      },
    );
  });
  after(() => server.close());

  it('binds where it was told (port 0: a free one)', () => {
    assert.equal(server.address.host, '127.0.0.1');
    assert.ok(server.address.port > 0);
  });

  it('answers /healthz 503 with reasons until connected and in sync, then 200', async () => {
    let r = await call(server, '/healthz');
    assert.equal(r.status, 503);
    assert.match(r.type, /^application\/json/);
    assert.deepEqual(JSON.parse(r.body).reasons, ['starting: no answer from the engine yet']);

    ready = true;
    model.sync = { connected: false, inSync: false, reason: 'events stream down: ECONNREFUSED' };
    r = await call(server, '/healthz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body).reasons, ['events stream down: ECONNREFUSED']);

    model.sync = { connected: true, inSync: false, reason: 'listing after connect' };
    r = await call(server, '/healthz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body).reasons, ['model not in sync: listing after connect']);

    model.sync = { connected: true, inSync: true, lastResyncAt: Date.parse('2025-06-01T10:00:00Z') };
    r = await call(server, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), {
      status: 'ok',
      ok: true,
      reasons: [],
      connected: true,
      inSync: true,
      lastResyncAt: '2025-06-01T10:00:00.000Z',
    });
  });

  it('serves /metrics with the registry content type and /v1/status as JSON', async () => {
    const m = await call(server, '/metrics');
    assert.equal(m.status, 200);
    assert.equal(m.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(m.body, 'x_total 1\n');
    const s = await call(server, '/v1/status?pretty=1');
    assert.equal(s.status, 200);
    assert.deepEqual(JSON.parse(s.body), { idle: true });
  });

  it('answers 404 elsewhere and 405 to anything but GET and HEAD', async () => {
    assert.equal((await call(server, '/')).status, 404);
    assert.equal((await call(server, '/v1/prune')).status, 404);
    const post = await call(server, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.allow, 'GET, HEAD');
    assert.equal((await call(server, '/healthz', 'DELETE')).status, 405);
    const head = await call(server, '/healthz', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('refuses an address in use with the error', async () => {
    await assert.rejects(
      startHttpServer(server.address, {
        health: () => ({ ok: true, reasons: [] }),
        metrics: async () => ({ contentType: 'text/plain', body: '' }),
        status: async () => ({}),
      }),
      /EADDRINUSE/,
    );
  });
});
