import { LayerwardenError } from '../errors.js';

/**
 * The Engine API versions this agent speaks: its floor is 1.41 (the oldest with service status,
 * dockerd 20.10); its ceiling is the newest version it has been checked against (docs/engine-api.md:
 * every shape up to it is decoded, and the suite runs through a face of it). A newer engine is spoken
 * to at this ceiling, which it still serves.
 */
export const AGENT_API = { min: '1.41', max: '1.52' } as const;

/** What the engine's unversioned `GET /version` says of itself. */
export interface EngineVersions {
  /** The engine's release (`Version`), e.g. `29.1.3`. */
  version: string;
  /** The newest API version it serves (`ApiVersion`). */
  max: string;
  /** The oldest API version it serves (`MinAPIVersion`); absent from engines older than API 1.25. */
  min?: string;
}

/** The version spoken on a connection, and the engine's own range it was chosen from. */
export interface Negotiated {
  /** `major.minor`, as it goes into request paths (`/v1.52/…`). */
  spoken: string;
  engine: EngineVersions;
}

const VERSION = /^(\d+)\.(\d+)$/;

/** Orders two `major.minor` API versions (negative: a is older). Unparseable versions sort oldest. */
export function compareApi(a: string, b: string): number {
  const pa = VERSION.exec(a);
  const pb = VERSION.exec(b);
  if (!pa || !pb) return (pa ? 1 : 0) - (pb ? 1 : 0);
  return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]);
}

/** Whether version `v` is at least `min` (for "this shape from 1.46 on"). */
export const atLeast = (v: string, min: string): boolean => compareApi(v, min) >= 0;

/** Decodes the unversioned `/version` answer. */
export function decodeVersions(raw: unknown): EngineVersions {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  const min = s(r.MinAPIVersion);
  return { version: s(r.Version), max: s(r.ApiVersion), ...(min && { min }) };
}

const range = (min: string | undefined, max: string) => (min ? `${min}–${max}` : `up to ${max}`);

/**
 * The newest version both sides know: the engine's `ApiVersion` capped at the agent's ceiling, never
 * below the engine's `MinAPIVersion` nor the agent's floor. An engine outside the agent's range is an
 * `engine-unreachable` error (exit 3) whose one line names both ranges.
 */
export function negotiate(engine: EngineVersions): Negotiated {
  if (!VERSION.test(engine.max))
    throw new LayerwardenError(
      'engine-unreachable',
      `the Docker engine did not say which API versions it serves (/version ApiVersion "${engine.max}")`,
    );
  const spoken = compareApi(engine.max, AGENT_API.max) > 0 ? AGENT_API.max : engine.max;
  const tooOld = compareApi(spoken, AGENT_API.min) < 0;
  const tooNew = engine.min !== undefined && compareApi(spoken, engine.min) < 0;
  if (tooOld || tooNew)
    throw new LayerwardenError(
      'engine-unreachable',
      `the Docker engine${engine.version ? ` ${engine.version}` : ''} serves API ${range(engine.min, engine.max)}; layerwarden speaks ${AGENT_API.min}–${AGENT_API.max}: ${tooOld ? 'the engine is too old for it' : 'upgrade layerwarden for this engine'}`,
    );
  return { spoken, engine };
}

const REFUSAL = /client version (\S+) is too (old|new)/;

/**
 * Whether an answer is the engine's refusal of the version asked for (a 400 naming it too old or too
 * new): the engine changed under the connection (an upgrade, a restart with another minimum), and the
 * version must be negotiated again.
 */
export function isVersionRefusal(status: unknown, message: string): boolean {
  return status === 400 && REFUSAL.test(message);
}
