import type { ContainerState } from '../docker/types.js';
import { isLive } from '../model/containers/containers.js';
import { untouchedFor } from '../model/images/images.js';
import { refMatches } from '../model/images/refs.js';
import type { ContainerEntry, ImageEntry, Model } from '../model/types.js';

export const DEFAULT_MIN_AGE_MS = 24 * 3600_000;

export interface PrunePolicy {
  /** How long an image must be untouched, or a container stopped, before it may go. */
  minAgeMs: number;
}

export type ItemKind = 'container' | 'image';

export interface Candidate {
  kind: ItemKind;
  id: string;
  /** An image's tags and digests; for a container, those of its image. */
  refs: string[];
  name?: string;
  /** The engine's size of an image (layers shared with other images count in each); 0 for a container. */
  bytes: number;
  /** Since the agent's last touch of an image, or since a container finished, ms. */
  untouchedFor: number;
  untouchedForText: string;
}

export interface Kept {
  kind: ItemKind;
  id: string;
  refs: string[];
  name?: string;
  reason: string;
}

export interface Plan {
  at: string;
  minAgeMs: number;
  /** Containers first (they may hold images), then images; oldest first within each. */
  candidates: Candidate[];
  /** Always there: the engine decides which cache records went unused this long. Not a candidate. */
  buildCache: { kind: 'build-cache'; untilHours: number };
  kept: Kept[];
  totals: { candidates: number; bytes: number; kept: number };
}

const STOPPED: ReadonlySet<ContainerState> = new Set(['exited', 'dead', 'created']);

type Item = Omit<Kept, 'reason'>;
type Verdict = { ok: true; untouchedFor: number } | { ok: false; reason: string };

/**
 * What a prune would remove now and why every other container and image stays. Pure: everything comes
 * from the model, the policy and `now` (the agent's clock).
 */
export function planPrune(model: Model, policy: PrunePolicy, now: number): Plan {
  const users = containersByImage(model);
  const candidates: Candidate[] = [];
  const kept: Kept[] = [];
  const place = (item: Item, bytes: number, v: Verdict) => {
    if (!v.ok) kept.push({ ...item, reason: v.reason });
    else
      candidates.push({
        ...item,
        bytes,
        untouchedFor: v.untouchedFor,
        untouchedForText: durationText(v.untouchedFor),
      });
  };
  const containers = [...model.containers.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
  for (const c of containers) {
    const item: Item = { kind: 'container', id: c.id, refs: imageRefs(model, c.imageId), name: c.name };
    place(item, 0, containerVerdict(model, c, policy, now));
  }
  for (const image of [...model.images.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const item: Item = { kind: 'image', id: image.id, refs: [...image.tags, ...image.digests] };
    place(item, image.size, imageVerdict(model, image, users.get(image.id) ?? [], policy, now));
  }
  const rank = (c: Candidate) => (c.kind === 'container' ? 0 : 1);
  candidates.sort((a, b) => rank(a) - rank(b) || b.untouchedFor - a.untouchedFor || a.id.localeCompare(b.id));
  return {
    at: new Date(now).toISOString(),
    minAgeMs: policy.minAgeMs,
    candidates,
    buildCache: { kind: 'build-cache', untilHours: Math.ceil(policy.minAgeMs / 3600_000) },
    kept,
    totals: {
      candidates: candidates.length,
      bytes: candidates.reduce((n, c) => n + c.bytes, 0),
      kept: kept.length,
    },
  };
}

/**
 * Re-checks one candidate against the live model just before its removal, by the same rules as
 * `planPrune`. An item the model no longer holds is `gone`.
 */
export function recheck(
  model: Model,
  candidate: Pick<Candidate, 'kind' | 'id'>,
  policy: PrunePolicy,
  now: number,
): { ok: true } | { ok: false; reason: string } {
  let v: Verdict;
  if (candidate.kind === 'container') {
    const c = model.containers.get(candidate.id);
    if (!c) return { ok: false, reason: 'gone' };
    v = containerVerdict(model, c, policy, now);
  } else {
    const image = model.images.get(candidate.id);
    if (!image) return { ok: false, reason: 'gone' };
    const users = [...model.containers.values()].filter((c) => c.imageId === image.id);
    v = imageVerdict(model, image, users, policy, now);
  }
  return v.ok ? { ok: true } : v;
}

function imageVerdict(
  model: Model,
  image: ImageEntry,
  users: ContainerEntry[],
  policy: PrunePolicy,
  now: number,
): Verdict {
  if (image.tags.length > 0) return { ok: false, reason: `tagged (${listText(image.tags)})` };
  const user = [...users].sort((a, b) => Number(isLive(b.state)) - Number(isLive(a.state)))[0];
  if (user) {
    const more = users.length > 1 ? ` and ${users.length - 1} more` : '';
    return { ok: false, reason: `in use by container ${user.name} (${user.state})${more}` };
  }
  // The engine's own count (API ≥ 1.51): a container the model has not listed yet still holds it.
  if ((image.engineContainers ?? 0) > 0)
    return { ok: false, reason: `in use by ${image.engineContainers} container(s) as the engine counts` };
  for (const s of model.services.values()) {
    if (s.image === image.id || refMatches(image, s.image)) {
      return { ok: false, reason: `referenced by service ${s.name}` };
    }
  }
  if (image.layers.length === 0) return { ok: false, reason: 'layers not inspected yet' };
  const age = untouchedFor(image, now);
  if (age < policy.minAgeMs) return { ok: false, reason: `untouched only ${tooYoung(age, policy, '')}` };
  return { ok: true, untouchedFor: age };
}

function containerVerdict(model: Model, c: ContainerEntry, policy: PrunePolicy, now: number): Verdict {
  if (!STOPPED.has(c.state)) return { ok: false, reason: c.state };
  if (c.serviceId !== undefined && model.services.has(c.serviceId)) {
    const service = model.services.get(c.serviceId)?.name ?? c.serviceName;
    return { ok: false, reason: `task of service ${service}` };
  }
  if (c.finishedAt === undefined) return { ok: false, reason: 'finish time unknown' };
  const age = now - c.finishedAt;
  if (age < policy.minAgeMs) return { ok: false, reason: `finished only ${tooYoung(age, policy, ' ago')}` };
  return { ok: true, untouchedFor: age };
}

function containersByImage(model: Model): Map<string, ContainerEntry[]> {
  const users = new Map<string, ContainerEntry[]>();
  for (const c of model.containers.values()) {
    const list = users.get(c.imageId);
    if (list) list.push(c);
    else users.set(c.imageId, [c]);
  }
  return users;
}

function imageRefs(model: Model, imageId: string): string[] {
  const image = model.images.get(imageId);
  return image ? [...image.tags, ...image.digests] : [];
}

function tooYoung(age: number, policy: PrunePolicy, suffix: string): string {
  return `${durationText(age)}${suffix} (needs ${durationText(policy.minAgeMs)})`;
}

function listText(xs: string[], max = 3): string {
  return xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')}, +${xs.length - max} more`;
}

/** A short human duration: `45s`, `12m`, `3h12m`, `25h`, `3d4h` (days from 48 h on). Negative reads as 0s. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}
