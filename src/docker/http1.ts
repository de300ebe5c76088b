/**
 * Whole answers of HTTP/1.1 over a kept connection, for the port's calls other than the events stream.
 * `node:http` costs about 110 µs of the agent's CPU per request over what the exchange itself needs
 * (its request and answer objects are streams); a prune removes one image per request, one at a time,
 * and that cost made it 1.3x the engine's own prune (docs/benchmarks.md, issue 15). The port's requests
 * carry no body, so what is left is small: one write per request, and an answer read by its length, its
 * chunks, or until the engine closes the connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { EngineAddress, TlsFiles } from './docker-host.js';

export interface Answer {
  status: number;
  reason: string;
  body: Buffer;
  /** The connection may carry the next request. */
  reusable: boolean;
}

/** A head (status line and headers) larger than this is refused: the engine's are a few hundred bytes. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

const protocolError = (what: string) =>
  Object.assign(new Error(`the engine's answer is not HTTP/1.1: ${what}`), { code: 'HPE_INVALID' });

type Body =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'crlf' | 'trailer'; left: number }
  | { kind: 'until-close' };

/**
 * Reads one answer from the bytes of a connection, fed as they arrive: `feed` returns the answer once it
 * is whole, `end` when the connection closes (an answer read until then, else undefined: cut short).
 * Throws on what is not HTTP/1.1, and on a body larger than `maxBytes`.
 */
export function answerReader(maxBytes: number) {
  let pending: Buffer = Buffer.alloc(0);
  let head: { status: number; reason: string; close: boolean } | undefined;
  let body: Body | undefined;
  const parts: Buffer[] = [];
  let size = 0;

  const take = (b: Buffer) => {
    size += b.length;
    if (size > maxBytes) throw new Error(`the engine's answer is larger than ${maxBytes} bytes`);
    parts.push(b);
  };
  const whole = (reusable: boolean): Answer => {
    const h = head as NonNullable<typeof head>;
    return { status: h.status, reason: h.reason, body: Buffer.concat(parts), reusable };
  };

  /** Parses the head; false while it is incomplete. */
  const readHead = (): boolean => {
    const end = pending.indexOf(HEAD_END);
    if (end < 0) {
      if (pending.length > MAX_HEAD_BYTES) throw protocolError('a head larger than 64 KiB');
      return false;
    }
    const lines = pending.toString('latin1', 0, end).split('\r\n');
    pending = pending.subarray(end + 4);
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] as string);
    if (!m) throw protocolError(JSON.stringify((lines[0] as string).slice(0, 80)));
    const status = Number(m[2]);
    const fields = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw protocolError(`a header line ${JSON.stringify(line.slice(0, 80))}`);
      fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    // An interim answer (100 Continue) is followed by the real one.
    if (status >= 100 && status < 200) return readHead();
    const connection = fields.get('connection')?.toLowerCase() ?? '';
    head = {
      status,
      reason: m[3] ?? '',
      close: m[1] === '0' ? connection !== 'keep-alive' : connection === 'close',
    };
    const length = fields.get('content-length');
    if (status === 204 || status === 304) body = { kind: 'length', left: 0 };
    else if (fields.get('transfer-encoding')?.toLowerCase().split(',').pop()?.trim() === 'chunked')
      body = { kind: 'chunked', state: 'size', left: 0 };
    else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw protocolError(`a content-length of ${JSON.stringify(length)}`);
      body = { kind: 'length', left: Number(length) };
      if (body.left > maxBytes) throw new Error(`the engine's answer is larger than ${maxBytes} bytes`);
    } else body = { kind: 'until-close' };
    return true;
  };

  /** Reads what the body has; true once it is whole. */
  const readBody = (b: Body): boolean => {
    if (b.kind === 'until-close') {
      if (pending.length) take(pending);
      pending = Buffer.alloc(0);
      return false;
    }
    if (b.kind === 'length') {
      const n = Math.min(b.left, pending.length);
      if (n) take(pending.subarray(0, n));
      pending = pending.subarray(n);
      b.left -= n;
      return b.left === 0;
    }
    for (;;) {
      if (b.state === 'size' || b.state === 'trailer') {
        const eol = pending.indexOf(CRLF);
        if (eol < 0) {
          if (pending.length > MAX_HEAD_BYTES) throw protocolError('a chunk line larger than 64 KiB');
          return false;
        }
        const line = pending.toString('latin1', 0, eol);
        pending = pending.subarray(eol + 2);
        if (b.state === 'trailer') {
          if (line === '') return true; // the empty line after the last chunk (and any trailers)
          continue;
        }
        const hex = (line.split(';')[0] as string).trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex))
          throw protocolError(`a chunk size ${JSON.stringify(line.slice(0, 20))}`);
        b.left = Number.parseInt(hex, 16);
        b.state = b.left === 0 ? 'trailer' : 'data';
      } else if (b.state === 'data') {
        const n = Math.min(b.left, pending.length);
        if (n) take(pending.subarray(0, n));
        pending = pending.subarray(n);
        b.left -= n;
        if (b.left > 0) return false;
        b.state = 'crlf';
      } else {
        if (pending.length < 2) return false;
        if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw protocolError('no CRLF after a chunk');
        pending = pending.subarray(2);
        b.state = 'size';
      }
    }
  };

  return {
    feed(chunk: Buffer): Answer | undefined {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (!body && !readHead()) return undefined;
      if (!readBody(body as Body)) return undefined;
      // Bytes past the answer were never asked for (one request at a time): the connection is not reused.
      return whole(!(head as NonNullable<typeof head>).close && pending.length === 0);
    },
    end(): Answer | undefined {
      return body?.kind === 'until-close' ? whole(false) : undefined;
    },
  };
}

/** Opens a connection to the engine: its socket, or TCP with TLS when it speaks https. */
export function connector(address: EngineAddress, secure: boolean, files?: TlsFiles): () => net.Socket {
  if (address.kind === 'unix') return () => net.connect(address.socketPath);
  const { host, port } = address;
  // As node:http does: a request is one small write, never held back for an acknowledgement.
  if (!secure) return () => net.connect({ port, host, noDelay: true });
  return () =>
    tls
      .connect({
        host,
        port,
        ...(net.isIP(host) === 0 && { servername: host }),
        ...(files?.ca && { ca: files.ca }),
        ...(files?.cert && { cert: files.cert }),
        ...(files?.key && { key: files.key }),
        rejectUnauthorized: files?.verify ?? true,
      })
      .setNoDelay(true);
}
