import { LRUCache } from 'lru-cache';
import { parseRef } from '../images/refs.js';

export type EvictionActor = 'layerwarden' | 'external';
/** What removed it, as far as the events show: a plain delete, an engine prune's burst, or not known. */
export type EvictionActivity = 'delete' | 'engine-prune' | 'unknown';

/** What the memory keeps of one eviction: enough to name it in a later pull record. */
export interface RememberedEviction {
  image: string;
  /** Time of the eviction (engine time of its delete event, else the agent's clock), ISO. */
  at: string;
  atMs: number;
  by: EvictionActor;
  /** Updated in place when the eviction's burst settles (a pull may link before that). */
  activity: EvictionActivity;
  /** Time of the engine `prune` event that claimed it, ISO. */
  pruneAt?: string;
  refs: string[];
}

/** How a pull was matched to an eviction: the same image, the same repo@digest, or the same repo:tag. */
export type EvictionMatch = 'image' | 'digest' | 'tag';

/** The `afterEviction` field of a cold or partial `pull` record. */
export interface AfterEviction {
  at: string;
  by: EvictionActor;
  activity: EvictionActivity;
  image: string;
  match: EvictionMatch;
  /** Seconds from the eviction to the pull (engine time). */
  afterSeconds: number;
  pruneAt?: string;
}

/** Bounded: months of uptime must not grow it. One eviction takes a key per ref plus one for its id. */
export type EvictionMemory = LRUCache<string, RememberedEviction>;

export const EVICTION_MEMORY_KEYS = 4096;

export function createEvictionMemory(max = EVICTION_MEMORY_KEYS): EvictionMemory {
  return new LRUCache<string, RememberedEviction>({ max });
}

/** Keys an image answers to: its id, and each ref as `tag:repo:tag` or `digest:repo@digest`. */
function keysOfRefs(refs: readonly string[]): string[] {
  const keys: string[] = [];
  for (const ref of refs) {
    const { repo, tag, digest } = parseRef(ref);
    if (digest) keys.push(`digest:${repo}@${digest}`);
    if (tag) keys.push(`tag:${repo}:${tag}`);
  }
  return keys;
}

/** Remembers an eviction under its image id and every ref it had (a newer eviction replaces an older one). */
export function rememberEviction(memory: EvictionMemory, eviction: RememberedEviction): void {
  memory.set(`image:${eviction.image}`, eviction);
  for (const key of keysOfRefs(eviction.refs)) memory.set(key, eviction);
}

/**
 * Links a pull to the eviction that made it necessary. Matches the pulled image id first, then the
 * ref's repo@digest, then its repo:tag — never the repository alone: a CI host pulls new tags of the
 * same repository all day, and those are partial because they are new, not because of an eviction.
 * Any pull that matches forgets the eviction (the image is back, so it can cause nothing more); only a
 * cold or partial one gets the link. Returns `{}` or `{ afterEviction }`, to spread into the record.
 */
export function linkEviction(
  memory: EvictionMemory,
  pull: { class: string; ref: string; image?: string; atMs: number },
): { afterEviction?: AfterEviction } {
  const candidates: Array<[EvictionMatch, string]> = [];
  if (pull.image) candidates.push(['image', `image:${pull.image}`]);
  const { repo, tag, digest } = parseRef(pull.ref);
  if (digest) candidates.push(['digest', `digest:${repo}@${digest}`]);
  // A ref without tag or digest is `latest`, as the engine reads it.
  if (tag || !digest) candidates.push(['tag', `tag:${repo}:${tag ?? 'latest'}`]);
  let found: [EvictionMatch, RememberedEviction] | undefined;
  for (const [match, key] of candidates) {
    const hit = memory.get(key);
    if (hit && (!found || hit.atMs > found[1].atMs)) found = [match, hit];
  }
  if (!found) return {};
  const [match, eviction] = found;
  forget(memory, eviction);
  if (pull.class !== 'cold' && pull.class !== 'partial') return {};
  return {
    afterEviction: {
      at: eviction.at,
      by: eviction.by,
      activity: eviction.activity,
      image: eviction.image,
      match,
      afterSeconds: Math.max(0, (pull.atMs - eviction.atMs) / 1000),
      ...(eviction.pruneAt !== undefined && { pruneAt: eviction.pruneAt }),
    },
  };
}

/** Drops every key that still points at this eviction (a newer eviction under a key is kept). */
function forget(memory: EvictionMemory, eviction: RememberedEviction): void {
  for (const key of [`image:${eviction.image}`, ...keysOfRefs(eviction.refs)]) {
    if (memory.peek(key) === eviction) memory.delete(key);
  }
}
