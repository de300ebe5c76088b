import type { ImageEntry, Model, RefIndex } from '../types.js';
import { parseRef } from './refs.js';

/**
 * The refs the model's images answer to, each to the id holding it (or the ids, in the order they came,
 * when several do), so that resolving a pull's ref or a container's image string does not walk every
 * image. Keys are the refs as refMatcher compares them, parsed (`docker.io/library/x:1` is `x:1`):
 * `repo:tag` for a tag, `repo@digest` for a digest; a tag key holds no `@`, so the two never meet. A key
 * that is spelled as the image's own ref is that ref's string, not a copy. Kept by
 * src/model/images/images.ts, the only writer of an image's tags and digests (which it replaces, never
 * changes in place), through the functions below.
 */
export const createRefIndex = (): RefIndex => ({ byKey: new Map() });

/** The key a wanted ref is looked up by (`latest` when it names no tag; the digest when it has one). */
export function wantedKey(ref: string): string {
  const { repo, tag, digest } = parseRef(ref);
  return digest !== undefined ? `${repo}@${digest}` : `${repo}:${tag ?? 'latest'}`;
}

/** The keys an image with these refs answers to, without repeats. */
export function refKeys(image: { tags: readonly string[]; digests: readonly string[] }): string[] {
  const keys: string[] = [];
  const add = (key: string, own: string) => {
    const k = key === own ? own : key;
    if (!keys.includes(k)) keys.push(k);
  };
  for (const t of image.tags) {
    const { repo, tag } = parseRef(t);
    if (tag !== undefined) add(`${repo}:${tag}`, t);
  }
  for (const d of image.digests) {
    const { repo, digest } = parseRef(d);
    if (digest !== undefined) add(`${repo}@${digest}`, d);
  }
  return keys;
}

/** The id, or the ids in the order they came, of the images answering to a wanted ref. */
export function holdersOf(model: Model, ref: string): string | readonly string[] | undefined {
  return model.refIndex.byKey.get(wantedKey(ref));
}

/** Puts an image (new to the model) in the index under its refs. */
export function indexRefs(model: Model, image: ImageEntry): void {
  const { byKey } = model.refIndex;
  for (const key of refKeys(image)) {
    const held = byKey.get(key);
    if (held === undefined) byKey.set(key, image.id);
    else if (typeof held === 'string') byKey.set(key, [held, image.id]);
    else held.push(image.id);
  }
}

/** Takes an image (leaving the model, or about to get new refs) out of the index. */
export function unindexRefs(model: Model, image: ImageEntry): void {
  const { byKey } = model.refIndex;
  for (const key of refKeys(image)) {
    const held = byKey.get(key);
    if (held === undefined) continue;
    if (typeof held === 'string') {
      if (held === image.id) byKey.delete(key);
      continue;
    }
    const left = held.filter((id) => id !== image.id);
    if (left.length === 0) byKey.delete(key);
    else byKey.set(key, left.length === 1 ? (left[0] as string) : left);
  }
}

/** Gives an image new tags and digests, keeping the index in step. */
export function setRefs(model: Model, image: ImageEntry, tags: string[], digests: string[]): void {
  const same = sameList(image.tags, tags) && sameList(image.digests, digests);
  if (!same) unindexRefs(model, image);
  image.tags = tags;
  image.digests = digests;
  if (!same) indexRefs(model, image);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
