/**
 * HTTP to the engine over `node:http` and `node:https`: the port's only transport. The port asks for
 * paths it names itself, so what a client library would add — option merging, its own reading of the
 * process's DOCKER_* variables, ssh and BuildKit session support the agent refuses — is left out, and
 * with it ~12 MB of resident memory at rest and about half the agent's CPU per request
 * (docs/benchmarks.md, issue 15).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { EngineAddress, TlsFiles } from './docker-host.js';

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
const refusal = (res: IncomingMessage, text: string): EngineHttpError => {
  const body = parsed(text) as { message?: unknown } | string | undefined;
  const message =
    typeof body === 'object' && body && typeof body.message === 'string'
      ? body.message
      : typeof body === 'string' && body.trim() !== ''
        ? body.trim().slice(0, 512)
        : (res.statusMessage ?? 'no message');
  return new EngineHttpError(res.statusCode ?? 0, { message });
};

/**
 * One client per engine address. Connections are kept alive and reused (as Node's own default agent
 * does), so a prune's removals one after another cost no new connection each; an idle kept connection
 * does not hold the process open.
 */
export function engineHttp(
  address: EngineAddress,
  tls?: TlsFiles,
  { maxAnswerBytes = MAX_ANSWER_BYTES }: { maxAnswerBytes?: number } = {},
): EngineHttp {
  const secure = address.kind === 'tcp' && (address.https || tls !== undefined);
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ...(tls?.ca && { ca: tls.ca }),
        ...(tls?.cert && { cert: tls.cert }),
        ...(tls?.key && { key: tls.key }),
        rejectUnauthorized: tls?.verify ?? true,
      })
    : new http.Agent({ keepAlive: true });
  const request = secure ? https.request : http.request;
  const where =
    address.kind === 'unix' ? { socketPath: address.socketPath } : { host: address.host, port: address.port };

  /** Sends the request; resolves with the response once its head arrives, status unchecked. */
  const send = (req: EngineRequest, onAnswer: (res: IncomingMessage) => Promise<unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const out = request(
        {
          ...where,
          agent,
          method: req.method ?? 'GET',
          path: `${req.path}${queryText(req.query)}`,
          ...(req.signal && { signal: req.signal }),
        },
        (res) => {
          onAnswer(res).then(
            (v) => {
              if (timer) clearTimeout(timer);
              resolve(v);
            },
            (err: unknown) => {
              if (timer) clearTimeout(timer);
              reject(err);
            },
          );
        },
      );
      if (req.timeoutMs !== undefined) {
        const ms = req.timeoutMs;
        timer = setTimeout(() => out.destroy(timeoutError(ms)), ms);
      }
      out.on('error', (err) => {
        if (timer) clearTimeout(timer);
        reject(err);
      });
      out.end();
    });

  return {
    json: (req) =>
      send(req, async (res) => {
        const text = await readAll(res, maxAnswerBytes);
        if ((res.statusCode ?? 0) >= 300) throw refusal(res, text);
        return parsed(text);
      }),
    stream: (req) =>
      send(req, async (res) => {
        if ((res.statusCode ?? 0) >= 300) throw refusal(res, await readAll(res, maxAnswerBytes));
        return res;
      }) as Promise<IncomingMessage>,
  };
}
