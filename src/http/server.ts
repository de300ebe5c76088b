import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the endpoints serve; each is read at request time. Nothing here changes the agent. */
export interface HttpHandlers {
  health(): { ok: boolean; reasons: string[] } & object;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The status document; undefined until the agent has a model (answered 503). */
  status(): Promise<unknown>;
}

export interface HttpServer {
  /** The address actually bound (the port is the kernel's pick when 0 was asked for). */
  address: { host: string; port: number };
  /** Stops accepting, drops idle keep-alive connections, resolves when the last request ended. */
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
};

async function route(req: IncomingMessage, res: ServerResponse, h: HttpHandlers): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const known = path === '/healthz' || path === '/metrics' || path === '/v1/status';
  if (!known)
    return json(res, 404, { error: 'not found', endpoints: ['/healthz', '/metrics', '/v1/status'] });
  // Read-only by design: nothing a request can send changes the agent.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return json(res, 405, { error: 'method not allowed' });
  }
  if (path === '/healthz') {
    const health = h.health();
    return json(res, health.ok ? 200 : 503, { status: health.ok ? 'ok' : 'unavailable', ...health });
  }
  if (path === '/metrics') {
    const { contentType, body } = await h.metrics();
    res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    res.end(body);
    return;
  }
  const doc = await h.status();
  if (doc === undefined) return json(res, 503, { error: 'starting: no model yet' });
  return json(res, 200, doc);
}

/**
 * Serves /healthz (200 when healthy, else 503 with the reasons), /metrics (Prometheus text) and /v1/status
 * (the `status --json` document) on `host:port`. GET and HEAD only; 404 elsewhere. Resolves once bound;
 * rejects with the listen error (EADDRINUSE, EACCES…) so the caller can say it in one line.
 */
export function startHttpServer(
  listen: { host: string; port: number },
  handlers: HttpHandlers,
): Promise<HttpServer> {
  const server = createServer((req, res) => {
    route(req, res, handlers).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      json(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  // A scraper that holds a connection open must not keep the agent from stopping.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: { host: a.address, port: a.port },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
