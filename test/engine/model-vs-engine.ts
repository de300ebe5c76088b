/**
 * The engine's own word, read straight from its HTTP API (not through the agent's port), compared with
 * the agent's model: images (tags, digests, layers) and layer counts, containers (state, image, stack),
 * services (desired, running) and live stacks. Used by every engine scenario.
 */
import type { Model } from '../../src/model/types.js';
import { type Engine, waitFor } from './harness.js';

export interface Truth {
  images: Array<{ id: string; tags: string[]; digests: string[]; layers: string[] }>;
  containers: Array<{ id: string; imageId: string; state: string; stack?: string }>;
  services: Array<{ id: string; desired: number; running: number }>;
  liveStacks: string[];
}

const sorted = (xs: string[]) => [...xs].sort();
const realRefs = (xs: unknown) =>
  (Array.isArray(xs) ? (xs as string[]) : []).filter((r) => !r.startsWith('<none>'));

async function getJson<T>(engine: Engine, path: string): Promise<T> {
  const r = await engine.api(`/v1.41${path}`);
  if (r.status === 503 && path.startsWith('/services')) return [] as T; // not a swarm manager
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as T;
}

/** What the engine lists right now. */
export async function engineTruth(engine: Engine): Promise<Truth> {
  type Img = { Id: string; RepoTags: unknown; RepoDigests: unknown };
  type Ctr = { Id: string; ImageID: string; State: string; Labels: Record<string, string> | null };
  type Svc = {
    ID: string;
    ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number };
    Spec: { Labels?: Record<string, string> };
  };
  const [imgs, ctrs, svcs] = await Promise.all([
    getJson<Img[]>(engine, '/images/json'),
    getJson<Ctr[]>(engine, '/containers/json?all=1'),
    getJson<Svc[]>(engine, '/services?status=true'),
  ]);
  const images = await Promise.all(
    imgs.map(async (i) => {
      const inspect = await getJson<{ RootFS?: { Layers?: string[] } }>(engine, `/images/${i.Id}/json`);
      return {
        id: i.Id,
        tags: sorted(realRefs(i.RepoTags)),
        digests: sorted(realRefs(i.RepoDigests)),
        layers: inspect.RootFS?.Layers ?? [],
      };
    }),
  );
  const live = new Set<string>();
  const containers = ctrs.map((c) => {
    const stack = c.Labels?.['com.docker.stack.namespace'] ?? c.Labels?.['com.docker.compose.project'];
    if (stack && ['running', 'paused', 'restarting'].includes(c.State)) live.add(stack);
    return { id: c.Id, imageId: c.ImageID, state: c.State, ...(stack && { stack }) };
  });
  const services = svcs.map((s) => {
    const desired = s.ServiceStatus?.DesiredTasks ?? 0;
    const running = s.ServiceStatus?.RunningTasks ?? 0;
    const stack = s.Spec.Labels?.['com.docker.stack.namespace'];
    if (stack && (desired > 0 || running > 0)) live.add(stack);
    return { id: s.ID, desired, running };
  });
  return {
    images: images.sort((a, b) => a.id.localeCompare(b.id)),
    containers: containers.sort((a, b) => a.id.localeCompare(b.id)),
    services: services.sort((a, b) => a.id.localeCompare(b.id)),
    liveStacks: sorted([...live]),
  };
}

/** The same view of the agent's model. */
export function modelView(model: Model): Truth {
  return {
    images: [...model.images.values()]
      .map((i) => ({ id: i.id, tags: sorted(i.tags), digests: sorted(i.digests), layers: i.layers }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    containers: [...model.containers.values()]
      .map((c) => ({ id: c.id, imageId: c.imageId, state: c.state, ...(c.stack && { stack: c.stack }) }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    services: [...model.services.values()]
      .map((s) => ({ id: s.id, desired: s.desired, running: s.running }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    liveStacks: sorted([...model.liveStacks.keys()]),
  };
}

/** Differences between the model and the engine, one line each (empty when they agree). */
export function differences(model: Model, truth: Truth): string[] {
  const view = modelView(model);
  const out: string[] = [];
  const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
  const compare = <T extends { id: string }>(kind: string, mine: T[], theirs: T[]) => {
    const m = new Map(mine.map((x) => [x.id, JSON.stringify(x)]));
    const t = new Map(theirs.map((x) => [x.id, JSON.stringify(x)]));
    for (const [id, v] of t) {
      if (!m.has(id)) out.push(`${kind} ${short(id)} missing from the model`);
      else if (m.get(id) !== v) out.push(`${kind} ${short(id)}: model ${m.get(id)} engine ${v}`);
    }
    for (const id of m.keys())
      if (!t.has(id)) out.push(`${kind} ${short(id)} in the model, gone from the engine`);
  };
  compare('image', view.images, truth.images);
  compare('container', view.containers, truth.containers);
  compare('service', view.services, truth.services);
  if (JSON.stringify(view.liveStacks) !== JSON.stringify(truth.liveStacks))
    out.push(`live stacks: model ${view.liveStacks.join(',')} engine ${truth.liveStacks.join(',')}`);
  // Layer reference counts must be those of the images the model holds.
  const counts = new Map<string, number>();
  for (const i of model.images.values())
    for (const l of new Set(i.layers)) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const [l, n] of counts)
    if (model.layers.get(l) !== n) out.push(`layer ${short(l)}: count ${model.layers.get(l)} want ${n}`);
  for (const l of model.layers.keys())
    if (!counts.has(l)) out.push(`layer ${short(l)} counted but held by no image`);
  return out;
}

/**
 * Waits until the model agrees with the engine (and is in sync); returns how long that took. On time-out,
 * throws with the differences that remained.
 */
export async function waitForModelToMatch(
  engine: Engine,
  model: () => Model | undefined,
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = Date.now();
  let last: string[] = ['no model yet'];
  try {
    await waitFor(
      async () => {
        const m = model();
        if (!m) return false;
        last = m.sync.inSync ? differences(m, await engineTruth(engine)) : [`out of sync: ${m.sync.reason}`];
        return last.length === 0;
      },
      timeoutMs,
      { intervalMs: 200 },
    );
  } catch {
    throw new Error(
      `model still differs from the engine after ${timeoutMs} ms:\n  ${last.slice(0, 20).join('\n  ')}`,
    );
  }
  return Date.now() - t0;
}
