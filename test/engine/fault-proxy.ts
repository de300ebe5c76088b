/**
 * A fault-injecting HTTP proxy on a unix socket in front of the engine's socket. Requests pass through
 * untouched; the events responses can be cut, refused, stalled (the engine then sees a reader that does
 * not drain), sent one byte per chunk, or have raw bytes injected between two events. With a `face`
 * (test/engine/face.ts), it answers as another engine release does at the API level.
 */
import { chmod, rm } from 'node:fs/promises';
import http from 'node:http';

interface EventsConn {
  res: http.ServerResponse;
  upstream: http.ClientRequest;
  upRes?: http.IncomingMessage;
  /** Bytes waiting to go out (byte-by-byte mode and injections keep their order through it). */
  queue: Buffer[];
  writing: boolean;
  /** Whether the last byte forwarded ended a line: injections go only between events. */
  atLineStart: boolean;
  pendingInject: Buffer[];
}

/** What the proxy makes of a request under a face: answered here, or forwarded to `url`. */
export type FaceRoute =
  | { reply: { status: number; body: string } }
  | { url: string; body?: (json: unknown, fetch: UpstreamFetch) => Promise<unknown> };
/** A GET to the engine behind the proxy, as JSON (a face may need more than the request asked). */
export type UpstreamFetch = (url: string) => Promise<unknown>;

/** Another engine's API face over the real one: its routes, headers and event lines. */
export interface Face {
  route(method: string, url: string): FaceRoute;
  /** Headers every answer carries (e.g. `api-version`), in lower case. */
  headers: Record<string, string>;
  /** One events line (without its newline), rewritten. */
  eventLine(line: string): string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export class FaultProxy {
  readonly dockerHost: string;
  /** Refuse new events connections (the socket is closed at once, as a dying proxy would). */
  refuseEvents = false;
  /** Send each byte of the events stream in its own chunk. */
  byteByByte = false;
  /** Events connections opened since the proxy started. */
  eventsOpened = 0;
  /** Every request that passed, as `METHOD /path?query` (a test can prove what was never sent). */
  readonly requests: string[] = [];
  /**
   * `containerd`: `/info` says the engine keeps images in containerd's store, as Docker 29 does on a
   * fresh install (`DriverStatus` `[["driver-type","io.containerd.snapshotter.v1"]]`, moby's
   * daemon/containerd/service.go `LayerStoreStatus`). Only what /info says changes: the engine behind
   * it is still the graphdriver one.
   */
  reportImageStore?: 'containerd';
  /** Answer as another engine release does (undefined: the engine's own face). Switchable at any time. */
  face: Face | undefined;
  private readonly conns = new Set<EventsConn>();
  private readonly server: http.Server;

  private constructor(
    readonly socketPath: string,
    private readonly upstreamSocket: string,
  ) {
    this.dockerHost = `unix://${socketPath}`;
    this.server = http.createServer((req, res) => this.forward(req, res));
    this.server.keepAliveTimeout = 1000;
  }

  static async start(socketPath: string, upstreamSocket: string): Promise<FaultProxy> {
    await rm(socketPath, { force: true });
    const p = new FaultProxy(socketPath, upstreamSocket);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o666);
    return p;
  }

  /** Open events connections (whose response has started). */
  get openEvents(): number {
    return [...this.conns].filter((c) => c.upRes).length;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse) {
    this.requests.push(`${req.method} ${req.url}`);
    const isEvents = /^\/(v[\d.]+\/)?events(\?|$)/.test(req.url ?? '');
    if (isEvents && this.refuseEvents) {
      req.socket.destroy();
      return;
    }
    const face = this.face;
    const route = face?.route(req.method ?? 'GET', req.url ?? '/');
    if (route && 'reply' in route) {
      res.writeHead(route.reply.status, { ...face?.headers, 'Content-Type': 'application/json' });
      res.end(route.reply.body);
      return;
    }
    const upstream = http.request({
      socketPath: this.upstreamSocket,
      method: req.method,
      path: route?.url ?? req.url,
      headers: req.headers,
      agent: false,
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    if (!isEvents) {
      const storeInfo =
        this.reportImageStore === 'containerd' && /^\/(v[\d.]+\/)?info(\?|$)/.test(req.url ?? '');
      const faceBody = route?.body;
      const rewrite = storeInfo
        ? async (json: unknown, fetch: (url: string) => Promise<unknown>) =>
            asContainerdStore(faceBody ? await faceBody(json, fetch) : json)
        : faceBody;
      upstream.on('response', (upRes) => {
        const json = /json/.test(String(upRes.headers['content-type'] ?? ''));
        if (!rewrite || !json || upRes.statusCode !== 200) {
          res.writeHead(upRes.statusCode ?? 502, { ...headersOf(upRes), ...face?.headers });
          // At once, as the engine does: `POST /containers/{id}/wait` sends its headers long before its
          // body, and the CLI (`docker run`) waits for them before it starts the container.
          res.flushHeaders();
          upRes.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          rewrite(JSON.parse(Buffer.concat(chunks).toString()), (url) => this.fetchJson(url)).then(
            (out) => {
              const body = `${JSON.stringify(out)}\n`;
              const { 'content-length': _, ...headers } = { ...headersOf(upRes), ...face?.headers };
              res.writeHead(200, headers);
              res.end(body);
            },
            () => res.destroy(),
          );
        });
      });
      req.pipe(upstream);
      return;
    }
    const conn: EventsConn = {
      res,
      upstream,
      queue: [],
      writing: false,
      atLineStart: true,
      pendingInject: [],
    };
    this.conns.add(conn);
    this.eventsOpened++;
    res.on('close', () => this.conns.delete(conn));
    let partial = '';
    /** Under a face, whole lines only, each rewritten. */
    const faced = (chunk: Buffer): Buffer => {
      if (!face) return chunk;
      const text = partial + chunk.toString();
      const cut = text.lastIndexOf('\n') + 1;
      partial = text.slice(cut);
      const lines = text.slice(0, cut).split('\n').slice(0, -1);
      return Buffer.from(lines.map((l) => `${face.eventLine(l)}\n`).join(''));
    };
    upstream.on('response', (upRes) => {
      conn.upRes = upRes;
      res.writeHead(upRes.statusCode ?? 502, { ...headersOf(upRes), ...face?.headers });
      res.flushHeaders();
      upRes.on('data', (raw: Buffer) => {
        const chunk = faced(raw);
        if (chunk.length === 0) return;
        this.enqueue(conn, chunk);
        conn.atLineStart = chunk[chunk.length - 1] === 10;
        if (conn.atLineStart) for (const b of conn.pendingInject.splice(0)) this.enqueue(conn, b);
      });
      upRes.on('end', () => res.end());
      upRes.on('error', () => res.destroy());
    });
    req.pipe(upstream);
  }

  private enqueue(conn: EventsConn, bytes: Buffer) {
    if (this.byteByByte) for (const b of bytes) conn.queue.push(Buffer.of(b));
    else conn.queue.push(bytes);
    if (!conn.writing) this.drain(conn);
  }

  /** One chunk per write, each in its own turn of the event loop so that none are coalesced. */
  private drain(conn: EventsConn) {
    const next = conn.queue.shift();
    if (!next || conn.res.destroyed) {
      conn.writing = false;
      return;
    }
    conn.writing = true;
    conn.res.write(next);
    setImmediate(() => this.drain(conn));
  }

  /** A GET to the engine itself, as JSON. */
  private fetchJson(url: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const r = http.get({ socketPath: this.upstreamSocket, path: url, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()));
          } catch (e) {
            reject(e);
          }
        });
        res.on('error', reject);
      });
      r.on('error', reject);
    });
  }

  /** Closes every events connection while the engine stays up. Returns how many were cut. */
  cutEvents(): number {
    const n = this.conns.size;
    for (const c of [...this.conns]) {
      c.res.socket?.destroy();
      c.upstream.destroy();
    }
    this.conns.clear();
    return n;
  }

  /** Writes raw bytes into every open events response, between two events. */
  inject(bytes: string | Buffer): void {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    for (const c of this.conns) {
      if (!c.upRes) continue;
      if (c.atLineStart) this.enqueue(c, b);
      else c.pendingInject.push(b);
    }
  }

  /** Stops reading the engine's events responses: the engine sees a reader that does not drain. */
  stall(): void {
    for (const c of this.conns) c.upRes?.pause();
  }

  resume(): void {
    for (const c of this.conns) c.upRes?.resume();
  }

  /** Makes the proxy socket unreachable for anyone but root (EACCES), or reachable again. */
  async setMode(mode: number): Promise<void> {
    await chmod(this.socketPath, mode);
  }

  async close(): Promise<void> {
    this.cutEvents();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }
}

/** The engine's /info with the containerd image store's `DriverStatus` in place of the graphdriver's. */
/** `/info` as an engine on the containerd image store answers it; the rest of the answer is the engine's own. */
function asContainerdStore(info: unknown): unknown {
  if (typeof info !== 'object' || info === null) return info;
  return { ...info, DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] };
}

function headersOf(res: http.IncomingMessage): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(res.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}
