/**
 * A fault-injecting HTTP proxy on a unix socket in front of the engine's socket. Requests pass through
 * untouched; the events responses can be cut, refused, stalled (the engine then sees a reader that does
 * not drain), sent one byte per chunk, or have raw bytes injected between two events.
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
    const upstream = http.request({
      socketPath: this.upstreamSocket,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    if (!isEvents) {
      const rewrite =
        this.reportImageStore === 'containerd' && /^\/(v[\d.]+\/)?info(\?|$)/.test(req.url ?? '');
      upstream.on('response', (upRes) => {
        if (rewrite && upRes.statusCode === 200) return reportContainerdStore(upRes, res);
        res.writeHead(upRes.statusCode ?? 502, headersOf(upRes));
        upRes.pipe(res);
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
    upstream.on('response', (upRes) => {
      conn.upRes = upRes;
      res.writeHead(upRes.statusCode ?? 502, headersOf(upRes));
      res.flushHeaders();
      upRes.on('data', (chunk: Buffer) => {
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
function reportContainerdStore(upRes: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  upRes.on('data', (c: Buffer) => chunks.push(c));
  upRes.on('error', () => res.destroy());
  upRes.on('end', () => {
    const info = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    info.DriverStatus = [['driver-type', 'io.containerd.snapshotter.v1']];
    const body = Buffer.from(JSON.stringify(info));
    res.writeHead(200, { ...headersOf(upRes), 'content-length': body.length });
    res.end(body);
  });
}

function headersOf(res: http.IncomingMessage): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(res.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}
