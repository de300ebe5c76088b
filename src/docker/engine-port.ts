import type { IncomingMessage } from 'node:http';
import { Observable } from 'rxjs';
import { LayerwardenError } from '../errors.js';
import {
  decodeContainerInspect,
  decodeContainerSummary,
  decodeImageDelete,
  decodeImageInspect,
  decodeImageSummary,
  decodeInfo,
  decodeService,
  decodeTask,
} from './decode.js';
import { DOCKER_HOST_FORMS, parseDockerHost, type TlsFiles } from './docker-host.js';
import { type EngineMethod, engineHttp } from './engine-http.js';
import { decodeVersions, isVersionRefusal, type Negotiated, negotiate } from './negotiate.js';
import type { DockerPort, EventsFrame, EventsQuery } from './port.js';
import type { ImageRemoveOutcome, RemoveOutcome } from './types.js';

/** Ceiling for any one request other than the events stream. */
const REQUEST_TIMEOUT_MS = 60_000;

const statusOf = (err: unknown) => (err as { statusCode?: unknown } | null)?.statusCode;
const reasonOf = (err: unknown): string => {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
};

interface DialOptions {
  path: string;
  method?: EngineMethod;
  query?: Record<string, string | number | boolean>;
  abortSignal?: AbortSignal;
}

export interface PortOptions {
  /** TLS to a tcp:// engine (docker-host.ts reads the files). */
  tls?: TlsFiles;
  /** Ceiling for any one request other than the events stream (default 60 s). */
  requestTimeoutMs?: number;
}

/**
 * The one implementation of DockerPort: HTTP to the engine (engine-http.ts) on API paths we name, at the
 * version negotiated with the engine (src/docker/negotiate.ts): asked of the unversioned `/version`
 * before the first call, again before every events connection (a daemon that restarts, upgraded or
 * not, drops it), and again when the engine refuses the version a call was made at (then that call is
 * made once more). Between those, no call costs a `/version`.
 */
export function createEnginePort(dockerHost: string, opts: PortOptions = {}): DockerPort {
  const address = parseDockerHost(dockerHost);
  if (!address)
    throw new LayerwardenError(
      'config',
      `cannot use Docker host "${dockerHost}" (expected ${DOCKER_HOST_FORMS})`,
    );
  const engine = engineHttp(address, opts.tls);
  const requestTimeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  /** Unversioned: `/version` and `/_ping` are served at every version. A whole answer, within the ceiling. */
  const dial = <T = unknown>(o: DialOptions): Promise<T> =>
    engine.json({
      path: o.path,
      ...(o.method && { method: o.method }),
      ...(o.query && { query: o.query }),
      ...(o.abortSignal ? { signal: o.abortSignal } : { timeoutMs: requestTimeoutMs }),
    }) as Promise<T>;
  let negotiated: Promise<Negotiated> | undefined;
  /** Negotiations the events connection that asked gave up (aborted), which the engine never refused. */
  const abandoned = new WeakSet<Promise<Negotiated>>();
  /** Asks `/version` again and chooses from its answer; a failed negotiation is not kept. */
  const renegotiate = (abortSignal?: AbortSignal): Promise<Negotiated> => {
    const attempt = dial({ path: '/version', ...(abortSignal && { abortSignal }) }).then((raw) =>
      negotiate(decodeVersions(raw)),
    );
    abortSignal?.addEventListener('abort', () => abandoned.add(attempt), { once: true });
    negotiated = attempt;
    attempt.catch(() => {
      if (negotiated === attempt) negotiated = undefined;
    });
    return attempt;
  };
  /**
   * A versioned call, and the negotiation it was answered under (decoders read shapes by its version;
   * `info` reports its range). Not `negotiated` read afterwards: an events connection may be
   * renegotiating by then, with another engine or none.
   */
  const callAt = async <T = unknown>(
    o: DialOptions,
    send: (o: DialOptions) => Promise<T> = dial,
  ): Promise<{ data: T; n: Negotiated }> => {
    // A call that waited for an events connection's negotiation which that connection then gave up
    // negotiates itself, rather than failing with the other's abort.
    const shared = negotiated;
    const first = await (shared ?? renegotiate()).catch((err: unknown) => {
      if (shared && abandoned.has(shared)) return renegotiate();
      throw err;
    });
    const at = async (n: Negotiated) => ({
      data: await send({ ...o, path: `/v${n.spoken}${o.path}` }),
      n,
    });
    try {
      return await at(first);
    } catch (err) {
      if (!isVersionRefusal(statusOf(err), reasonOf(err))) throw err;
      // Another call may have renegotiated meanwhile; else this one does.
      const current = await negotiated?.catch(() => undefined);
      return at(current && current.spoken !== first.spoken ? current : await renegotiate());
    }
  };
  const call = async <T = unknown>(o: DialOptions): Promise<T> => (await callAt<T>(o)).data;
  const swarmOnly = async <T>(
    path: string,
    query: Record<string, string | number | boolean>,
    decode: (raw: unknown) => T,
  ): Promise<T[]> => {
    try {
      return (await call<unknown[]>({ path, query })).map(decode);
    } catch (err) {
      // 503: "This node is not a swarm manager" — no services to know about here.
      if (statusOf(err) === 503) return [];
      throw err;
    }
  };
  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  };
  /** A plain DELETE; a 200 is what `answered` makes of the engine's body. */
  const remove = async <T extends ImageRemoveOutcome>(
    path: string,
    answered: (body: unknown) => T,
  ): Promise<T | RemoveOutcome> => {
    try {
      return answered(await call({ path, method: 'DELETE' }));
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return { kind: 'gone' };
      if (status === 409) return { kind: 'conflict', message: reasonOf(err) };
      return { kind: 'failed', message: reasonOf(err), ...(typeof status === 'number' && { status }) };
    }
  };
  const enc = encodeURIComponent;

  return {
    events: (query: EventsQuery) =>
      new Observable<EventsFrame>((out) => {
        const abort = new AbortController();
        let stream: IncomingMessage | undefined;
        // Every connection negotiates: the engine that comes back may be another (an upgrade).
        // Aborted with the connection (the stream's watchdog covers a daemon that never answers).
        renegotiate(abort.signal)
          .then(async () => {
            const { data } = await callAt<IncomingMessage>(
              { path: '/events', query: { ...query }, abortSignal: abort.signal },
              (o) =>
                engine.stream({ path: o.path, ...(o.query && { query: o.query }), signal: abort.signal }),
            );
            return data;
          })
          .then((s) => {
            stream = s;
            if (abort.signal.aborted) return;
            out.next({ kind: 'open' });
            let ended = false;
            s.on('data', (chunk: Buffer) => out.next({ kind: 'data', chunk }));
            s.on('end', () => {
              ended = true;
              out.complete();
            });
            s.on('error', (err: unknown) => out.error(err));
            // A daemon that stops gives `aborted`/`error`/`close`, never `end`.
            s.on('close', () => {
              if (!ended)
                out.error(Object.assign(new Error('events connection closed'), { code: 'ECONNRESET' }));
            });
          })
          .catch((err: unknown) => out.error(err));
        return () => {
          abort.abort();
          stream?.destroy();
        };
      }),
    ping: async (timeoutMs) => {
      await engine.json({ path: '/_ping', timeoutMs });
    },
    info: async () => {
      const { data, n } = await callAt({ path: '/info' });
      const { min, max } = n.engine;
      return decodeInfo(data, n.spoken, { ...(min && { min }), max });
    },
    listImages: async () => {
      const { data, n } = await callAt<unknown[]>({ path: '/images/json' });
      return data.map((r) => decodeImageSummary(r, n.spoken));
    },
    inspectImage: (idOrRef) =>
      orNull(
        (async () => {
          const raw = await call({ path: `/images/${enc(idOrRef)}/json` });
          const history = await call({ path: `/images/${enc(idOrRef)}/history` }).catch(() => undefined);
          return decodeImageInspect(raw, history);
        })(),
      ),
    listContainers: async () =>
      (await call<unknown[]>({ path: '/containers/json', query: { all: true } })).map(decodeContainerSummary),
    inspectContainer: (id) =>
      orNull(call({ path: `/containers/${enc(id)}/json` }).then(decodeContainerInspect)),
    listServices: () => swarmOnly('/services', { status: true }, decodeService),
    listTasks: () => swarmOnly('/tasks', {}, decodeTask),
    // No `force`, no `noprune`: a plain removal, refused (409) while anything uses the image. A ref is
    // sent encoded (`/` and `@` inside one path segment); the engine decodes it.
    removeImage: (idOrRef) => remove(`/images/${enc(idOrRef)}`, decodeImageDelete),
    // No `force` and no `v`: a running container is refused, and volumes are never touched.
    removeContainer: (id) => remove(`/containers/${enc(id)}`, () => ({ kind: 'removed' as const })),
    pruneBuildCache: async (untilHours) => {
      const res = await call<{ SpaceReclaimed?: number }>({
        path: '/build/prune',
        method: 'POST',
        query: { filters: JSON.stringify({ until: [`${untilHours}h`] }) },
      });
      return { reclaimed: res.SpaceReclaimed ?? 0 };
    },
  };
}
