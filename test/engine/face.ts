/**
 * Docker 29's face over the private dockerd 20.10, for the FaultProxy (docs/private-engine.md says what
 * it emulates and what not): `/version`, `/_ping` and every answer's `Api-Version` say API 1.52 with
 * minimum 1.44; a request at an older or newer version gets the engine's own 400 (moby's
 * daemon/server/middleware/version.go); requests in the range, and unversioned ones, are sent to the
 * real engine at 1.41; events lose the legacy `status`/`id`/`from`; fields gone by 1.52 are absent
 * (`VirtualSize`, `<none>` refs, image inspect's `Container`/`ContainerConfig` and empty legacy fields,
 * `KernelMemory*`); `/images/json` `Containers` is counted as 1.51 does. It does not synthesize image
 * `create` events, the containerd store, the 1.52 `/system/df` fields or content-type negotiation.
 */
import type { Face, UpstreamFetch } from './fault-proxy.js';

export const FACE_29 = { release: '29.1.3', max: '1.52', min: '1.44' } as const;
/** What the real engine behind the face speaks. */
const REAL = '1.41';

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;
const cmp = (a: string, b: string) => {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
};
type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The exact refusal the engine answers (its JSON error body). */
export function refusal(version: string): string {
  const message =
    cmp(version, FACE_29.min) < 0
      ? `client version ${version} is too old. Minimum supported API version is ${FACE_29.min}, please upgrade your client to a newer version`
      : `client version ${version} is too new. Maximum supported API version is ${FACE_29.max}`;
  return `${JSON.stringify({ message })}\n`;
}

const noneRefs = (refs: unknown) =>
  Array.isArray(refs) ? refs.filter((r) => typeof r === 'string' && !r.startsWith('<none>')) : [];

async function imageList(json: unknown, fetch: UpstreamFetch): Promise<unknown> {
  if (!Array.isArray(json)) return json;
  const containers = (await fetch(`/v${REAL}/containers/json?all=1`)) as Array<{ ImageID?: string }>;
  const users = new Map<string, number>();
  for (const c of containers) if (c.ImageID) users.set(c.ImageID, (users.get(c.ImageID) ?? 0) + 1);
  return json.map((i: Json) => {
    const { VirtualSize: _, ...rest } = i;
    return {
      ...rest,
      RepoTags: noneRefs(i.RepoTags),
      RepoDigests: noneRefs(i.RepoDigests),
      Containers: users.get(String(i.Id)) ?? 0,
    };
  });
}

const IMAGE_CONFIG_OMITTED = [
  'Cmd',
  'Entrypoint',
  'Env',
  'Labels',
  'OnBuild',
  'User',
  'Volumes',
  'WorkingDir',
];
const empty = (v: unknown) =>
  v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);

async function imageInspect(json: unknown): Promise<unknown> {
  if (!isObj(json)) return json;
  const { VirtualSize: _v, Container: _c, ContainerConfig: _cc, ...rest } = json;
  for (const k of ['Parent', 'Comment', 'DockerVersion', 'Author']) if (empty(rest[k])) delete rest[k];
  if (isObj(rest.Config)) {
    const config = { ...rest.Config };
    for (const k of IMAGE_CONFIG_OMITTED) if (empty(config[k])) delete config[k];
    rest.Config = config;
  }
  return rest;
}

async function info(json: unknown): Promise<unknown> {
  if (!isObj(json)) return json;
  const { KernelMemory: _k, KernelMemoryTCP: _t, ...rest } = json;
  return { ...rest, ServerVersion: FACE_29.release };
}

async function version(json: unknown): Promise<unknown> {
  if (!isObj(json)) return json;
  return { ...json, Version: FACE_29.release, ApiVersion: FACE_29.max, MinAPIVersion: FACE_29.min };
}

/** The body rewrite for an endpoint (path without version and query). */
type Rewrite = (json: unknown, fetch: UpstreamFetch) => Promise<unknown>;
function bodyFor(method: string, path: string): Rewrite | undefined {
  if (method !== 'GET') return undefined;
  if (path === '/images/json') return imageList;
  if (/^\/images\/.+\/json$/.test(path)) return imageInspect;
  if (path === '/info') return info;
  if (path === '/version') return version;
  return undefined;
}

const STRING = '"(?:[^"\\\\]|\\\\.)*"';
const LEGACY_FIELDS = new RegExp(`^\\{(?:"status":${STRING},)?(?:"id":${STRING},)?(?:"from":${STRING},)?`);

export const docker29Face: Face = {
  // Lower case, as Node names the engine's own headers: the face's replace them.
  headers: { 'api-version': FACE_29.max, server: `Docker/${FACE_29.release} (linux)` },
  route(method, url) {
    const m = VERSIONED.exec(url);
    const asked = m?.[1];
    const rest = m ? (m[2] as string) : url;
    if (asked && (cmp(asked, FACE_29.min) < 0 || cmp(asked, FACE_29.max) > 0))
      return { reply: { status: 400, body: refusal(asked) } };
    const path = rest.split('?')[0] as string;
    const body = bodyFor(method, path);
    return { url: `/v${REAL}${rest}`, ...(body && { body }) };
  },
  eventLine(line) {
    // Rewritten as text, not through JSON.parse: timeNano exceeds 2^53 and must keep its digits. The
    // engine writes the legacy fields first (status, id, from), before Type.
    return line.replace(LEGACY_FIELDS, '{');
  },
};
