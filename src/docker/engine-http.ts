/**
 * HTTP to the engine: the port's only transport. The port asks for paths it names itself, so what a
 * client library would add — option merging, its own reading of the process's DOCKER_* variables, ssh
 * and BuildKit session support the agent refuses — is left out, and with it ~12 MB of resident memory at
 * rest and about half the agent's CPU per request (docs/benchmarks.md, issue 15). Whole answers go over
 * kept connections of our own (http1.ts); the events stream, one long answer, over `node:http(s)`.
 */
import type { Socket } from 'node:net';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { EngineAddress, TlsFiles } from './docker-host.js';
import { type Answer, answerReader, connector } from './http1.js';

export type EngineMethod = 'GET' | 'POST' | 'DELETE';

export interface EngineRequest {
  method?: EngineMethod;
  /** The path as the engine serves it, versioned or not (`/v1.44/images/json`, `/_ping`). */
  path: string;
  query?: Readonly<Record<string, string | number | boolean>>;
  /** Ends the request early: the connection is closed and the call rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** A whole answer must arrive within this, else the call rejects with a `TimeoutError`. None for a stream. */
  timeoutMs?: number;
}

/**
 * The engine answered with a status of 300 or above. `statusCode` and the engine's `message` are what
 * callers read (404 gone, 409 conflict, 503 not a swarm manager, 400 a version refused).
 */
export class EngineHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly json: { message: string },
  ) {
    super(`(HTTP code ${statusCode}) ${json.message}`);
    this.name = 'EngineHttpError';
  }
}

/** A larger answer is refused: the biggest the engine gives the agent (an image list of 10,000) is ~10 MB. */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

export interface EngineHttp {
  /** The parsed JSON answer (a text answer as text, an empty one as undefined). */
  json(req: EngineRequest): Promise<unknown>;
  /** A streamed answer (the events): the response, once its status says the stream is open. */
  stream(req: EngineRequest): Promise<IncomingMessage>;
}

const queryText = (query: EngineRequest['query']): string => {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.append(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
};

const timeoutError = (ms: number) =>
  Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' });

/** Reads a whole answer, bounded; the text as UTF-8. */
function readAll(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        res.destroy(new Error(`the engine's answer is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    let ended = false;
    res.on('error', reject);
    res.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString());
    });
    // An engine that dies mid-answer closes the connection without an end.
    res.on('close', () => {
      if (!ended)
        reject(
          Object.assign(new Error('the engine closed the connection mid-answer'), { code: 'ECONNRESET' }),
        );
    });
  });
}

const parsed = (text: string): unknown => {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The engine's refusal: its JSON `message`, else the text of the answer, else the status line. */
const refusal = (status: number, reason: string | undefined, text: string): EngineHttpError => {
  const body = parsed(text) as { message?: unknown } | string | undefined;
  const message =
    typeof body === 'object' && body && typeof body.message === 'string'
      ? body.message
      : typeof body === 'string' && body.trim() !== ''
        ? body.trim().slice(0, 512)
        : reason || 'no message';
  return new EngineHttpError(status, { message });
};

const abortError = () =>
  Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
const cutShort = () =>
  Object.assign(new Error('the engine closed the connection mid-answer'), { code: 'ECONNRESET' });

/** Connections kept between requests; more idle at once than this are closed. */
const MAX_IDLE = 4;

/**
 * One client per engine address. Connections are kept alive and reused, so a prune's removals one after
 * another cost no new connection each; an idle kept connection does not hold the process open, and one
 * the engine closes while idle is dropped.
 */
export function engineHttp(
  address: EngineAddress,
  tls?: TlsFiles,
  { maxAnswerBytes = MAX_ANSWER_BYTES }: { maxAnswerBytes?: number } = {},
): EngineHttp {
  const secure = address.kind === 'tcp' && (address.https || tls !== undefined);
  const connect = connector(address, secure, tls);
  const hostHeader =
    address.kind === 'unix'
      ? 'localhost'
      : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  const idle: Socket[] = [];

  /** An idle connection waits for the next request; anything it hears meanwhile ends it. */
  const park = (socket: Socket) => {
    if (idle.length >= MAX_IDLE) return void socket.destroy();
    const drop = () => {
      const i = idle.indexOf(socket);
      if (i >= 0) idle.splice(i, 1);
      socket.destroy();
    };
    socket.once('data', drop).once('end', drop).once('close', drop).once('error', drop);
    socket.unref();
    idle.push(socket);
  };
  const unpark = (): Socket | undefined => {
    const socket = idle.pop();
    if (!socket) return undefined;
    socket
      .removeAllListeners('data')
      .removeAllListeners('end')
      .removeAllListeners('close')
      .removeAllListeners('error');
    socket.ref();
    return socket;
  };

  /** One request, its whole answer read; status unchecked. */
  const exchange = (req: EngineRequest): Promise<Answer> =>
    new Promise<Answer>((resolve, reject) => {
      if (req.signal?.aborted) return reject(abortError());
      const socket = unpark() ?? connect();
      const reader = answerReader(maxAnswerBytes);
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (err: unknown, answer?: Answer) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        socket.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
        if (answer?.reusable) park(socket);
        else socket.destroy();
        if (answer) resolve(answer);
        else reject(err);
      };
      const onData = (chunk: Buffer) => {
        try {
          const answer = reader.feed(chunk);
          if (answer) finish(undefined, answer);
        } catch (err) {
          finish(err);
        }
      };
      const onEnd = () => {
        const answer = reader.end();
        if (answer) finish(undefined, answer);
        else finish(cutShort());
      };
      const onClose = () => finish(cutShort());
      const onError = (err: Error) => finish(err);
      const onAbort = () => finish(abortError());
      socket.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onError);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      if (req.timeoutMs !== undefined) {
        const ms = req.timeoutMs;
        timer = setTimeout(() => finish(timeoutError(ms)), ms);
      }
      const method = req.method ?? 'GET';
      socket.write(
        `${method} ${req.path}${queryText(req.query)} HTTP/1.1\r\nHost: ${hostHeader}\r\n` +
          `${method === 'POST' ? 'Content-Length: 0\r\n' : ''}\r\n`,
      );
    });

  // The events stream: one answer that lasts, over node:http(s).
  const agent = secure
    ? new https.Agent({
        ...(tls?.ca && { ca: tls.ca }),
        ...(tls?.cert && { cert: tls.cert }),
        ...(tls?.key && { key: tls.key }),
        rejectUnauthorized: tls?.verify ?? true,
      })
    : new http.Agent();
  const request = secure ? https.request : http.request;
  const where =
    address.kind === 'unix' ? { socketPath: address.socketPath } : { host: address.host, port: address.port };
  const stream = (req: EngineRequest) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const out = request(
        {
          ...where,
          agent,
          method: req.method ?? 'GET',
          path: `${req.path}${queryText(req.query)}`,
          ...(req.signal && { signal: req.signal }),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status < 300) return resolve(res);
          readAll(res, maxAnswerBytes).then(
            (text) => reject(refusal(status, res.statusMessage, text)),
            reject,
          );
        },
      );
      out.on('error', reject);
      out.end();
    });

  return {
    json: async (req) => {
      const answer = await exchange(req);
      const text = answer.body.toString();
      if (answer.status >= 300) throw refusal(answer.status, answer.reason, text);
      return parsed(text);
    },
    stream,
  };
}
