import type { ImageEntry, Model, RefIndex } from '../types.js';
import { parseRef } from './refs.js';

/**
 * The refs the model's images answer to, each to the ids holding it (in the order they came), so that
 * resolving a pull's ref or a container's image string does not walk every image. Keys are the refs as
 * refMatcher compares them, parsed (`docker.io/library/x:1` is `x:1`): `repo:tag` for a tag, `repo@digest`
 * for a digest; a tag key holds no `@`, so the two never meet. Kept by src/model/images/images.ts, the
 * only writer of an image's tags and digests, through the functions below.
 */
export const createRefIndex = (): RefIndex => ({ byKey: new Map(), keysOf: new Map() });

/** The key a wanted ref is looked up by (`latest` when it names no tag; the digest when it has one). */
export function wantedKey(ref: string): string {
  const { repo, tag, digest } = parseRef(ref);
  return digest !== undefined ? `${repo}@${digest}` : `${repo}:${tag ?? 'latest'}`;
}

/** The keys an image with these refs answers to, without repeats. */
export function refKeys(image: { tags: readonly string[]; digests: readonly string[] }): string[] {
  const keys = new Set<string>();
  for (const t of image.tags) {
    const { repo, tag } = parseRef(t);
    if (tag !== undefined) keys.add(`${repo}:${tag}`);
  }
  for (const d of image.digests) {
    const { repo, digest } = parseRef(d);
    if (digest !== undefined) keys.add(`${repo}@${digest}`);
  }
  return [...keys];
}

/** The ids of the images answering to a wanted ref, in the order they were indexed. */
export function holdersOf(model: Model, ref: string): readonly string[] | undefined {
  return model.refIndex.byKey.get(wantedKey(ref));
}

/** Puts an image (new to the model, or with new refs) in the index under its current refs. */
export function indexRefs(model: Model, image: ImageEntry): void {
  const { byKey, keysOf } = model.refIndex;
  const keys = refKeys(image);
  const before = keysOf.get(image.id);
  if (before && sameKeys(before, keys)) return;
  if (before) unindexRefs(model, image.id);
  if (keys.length === 0) return;
  keysOf.set(image.id, keys);
  for (const key of keys) {
    const ids = byKey.get(key);
    if (ids) ids.push(image.id);
    else byKey.set(key, [image.id]);
  }
}

/** Takes an image out of the index (it left the model). */
export function unindexRefs(model: Model, id: string): void {
  const { byKey, keysOf } = model.refIndex;
  for (const key of keysOf.get(id) ?? []) {
    const left = (byKey.get(key) ?? []).filter((x) => x !== id);
    if (left.length > 0) byKey.set(key, left);
    else byKey.delete(key);
  }
  keysOf.delete(id);
}

/** Gives an image new tags and digests, keeping the index in step. */
export function setRefs(model: Model, image: ImageEntry, tags: string[], digests: string[]): void {
  image.tags = tags;
  image.digests = digests;
  indexRefs(model, image);
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
