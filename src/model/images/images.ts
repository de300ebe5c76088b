import type { EngineEvent, ImageDetail, ImageInfo } from '../../docker/types.js';
import { chainIds } from './chains.js';
import { indexRefs, setRefs, unindexRefs } from './ref-index.js';
import { parseRef } from './refs.js';
import type { ImageEntry, Model } from '../types.js';

/** Adds or updates an image, keeping layer counts and the agent's clocks right. Returns whether it was new. */
export function putImage(
  model: Model,
  info: ImageInfo & { layers?: string[]; layerSizes?: number[] },
  now: number,
) {
  const old = model.images.get(info.id);
  if (old) {
    const wasTagged = old.tags.length > 0;
    keepFormerRefs(old, info);
    setRefs(model, old, info.tags, info.digests);
    old.size = info.size;
    old.engineContainers = info.containers;
    if (old.layers.length === 0 && info.layers?.length) setLayers(model, old, info.layers, info.layerSizes);
    if (wasTagged && info.tags.length === 0) old.untaggedSince = now;
    if (!wasTagged && info.tags.length > 0) {
      old.untaggedSince = undefined;
      old.lastUsed = now;
    }
    return { entry: old, added: false };
  }
  const saved = model.savedClocks.get(info.id);
  model.savedClocks.delete(info.id);
  const entry: ImageEntry = {
    id: info.id,
    tags: info.tags,
    digests: info.digests,
    size: info.size,
    created: info.created,
    ...(info.containers !== undefined && { engineContainers: info.containers }),
    layers: [],
    firstSeen: saved?.firstSeen ?? now,
    lastUsed: saved?.lastUsed ?? now,
    ...(info.tags.length === 0 && { untaggedSince: saved?.untaggedSince ?? saved?.firstSeen ?? now }),
  };
  model.images.set(info.id, entry);
  indexRefs(model, entry);
  if (info.layers?.length) setLayers(model, entry, info.layers, info.layerSizes);
  return { entry, added: true };
}

/** Most refs an image remembers having lost (a tag that moves daily would grow it forever). */
const MAX_FORMER_REFS = 16;

/**
 * `docker rmi` and `image prune` untag before they delete, and the list that follows an untag shows the
 * image without its refs: keep what it lost, so its eviction can still say what it was.
 */
function keepFormerRefs(old: ImageEntry, next: { tags: string[]; digests: string[] }) {
  const now = new Set([...next.tags, ...next.digests]);
  const lost = [...old.tags, ...old.digests].filter((r) => !now.has(r));
  const kept = (old.formerRefs ?? []).filter((r) => !now.has(r) && !lost.includes(r));
  const former = [...lost, ...kept].slice(0, MAX_FORMER_REFS);
  if (former.length > 0) old.formerRefs = former;
  else old.formerRefs = undefined;
}

function setLayers(model: Model, entry: ImageEntry, layers: string[], sizes: number[] | undefined) {
  entry.layers = layers;
  if (sizes && sizes.length === layers.length) {
    entry.layerSizes = sizes;
    // A layer's size is a property of its content: learn it once for every image that shares it.
    layers.forEach((layer, i) => {
      model.layerBytes.set(layer, sizes[i] as number);
    });
  }
  for (const layer of new Set(layers)) model.layers.set(layer, (model.layers.get(layer) ?? 0) + 1);
  entry.chains = chainIds(layers);
  for (const chain of entry.chains) model.chains.set(chain, (model.chains.get(chain) ?? 0) + 1);
}

/** Size of an image's i-th layer: from its own history, else from another image holding the same layer. */
export function layerSize(model: Model, entry: ImageEntry, i: number): number | undefined {
  return entry.layerSizes?.[i] ?? model.layerBytes.get(entry.layers[i] as string);
}

/**
 * Removes an image and releases its layers. Returns the entry and the bytes of the layers that no
 * other image holds (when the layer sizes are known), or undefined when the model did not have it.
 */
export function dropImage(model: Model, id: string): { entry: ImageEntry; freedBytes?: number } | undefined {
  const entry = model.images.get(id);
  if (!entry) return undefined;
  model.images.delete(id);
  unindexRefs(model, entry);
  for (const chain of entry.chains ?? []) {
    const left = (model.chains.get(chain) ?? 1) - 1;
    if (left > 0) model.chains.set(chain, left);
    else model.chains.delete(chain);
  }
  let freed = 0;
  let known = entry.layerSizes !== undefined;
  const seen = new Set<string>();
  entry.layers.forEach((layer, i) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    const count = (model.layers.get(layer) ?? 1) - 1;
    if (count > 0) {
      model.layers.set(layer, count);
      return;
    }
    model.layers.delete(layer);
    model.layerBytes.delete(layer);
    const size = entry.layerSizes?.[i];
    if (size === undefined) known = false;
    else freed += size;
  });
  return known ? { entry, freedBytes: freed } : { entry };
}

/**
 * A tag names one image. When `entry` holds a tag that another image in the model still holds, that tag
 * moved (a pull, load or build of the same tag emits no `untag` for the image that lost it): take it
 * from the other image now rather than at the next list. Returns the ids that lost a tag.
 */
export function claimTags(model: Model, entry: ImageEntry, now: number): string[] {
  if (entry.tags.length === 0) return [];
  return takeTags(model, new Set(entry.tags), entry.id, now);
}

/**
 * A `tag` event (`Actor.ID` = image id, `name` = the new ref): the ref is on that image now and on no
 * other, whether or not the model holds the image yet (a build's image is new to it). The image list the
 * event also asks for confirms it.
 */
export function applyTagEvent(model: Model, id: string, ref: string, now: number): void {
  takeTags(model, new Set([ref]), id, now);
  const entry = model.images.get(id);
  if (!entry || entry.tags.includes(ref)) return;
  if (entry.tags.length === 0) {
    entry.untaggedSince = undefined;
    entry.lastUsed = Math.max(entry.lastUsed, now);
  }
  setRefs(model, entry, [...entry.tags, ref], entry.digests);
  if (entry.formerRefs?.includes(ref)) {
    const former = entry.formerRefs.filter((r) => r !== ref);
    entry.formerRefs = former.length > 0 ? former : undefined;
  }
}

function takeTags(model: Model, tags: ReadonlySet<string>, keeper: string, now: number): string[] {
  const losers: string[] = [];
  for (const other of model.images.values()) {
    if (other.id === keeper || !other.tags.some((t) => tags.has(t))) continue;
    const left = other.tags.filter((t) => !tags.has(t));
    // Its eviction must still be able to say what it was (the list that follows sees no loss now).
    keepFormerRefs(other, { tags: left, digests: other.digests });
    setRefs(model, other, left, other.digests);
    if (left.length === 0) other.untaggedSince = now;
    losers.push(other.id);
  }
  return losers;
}

/** Marks an image as used now (a container created from it, a pull, a tag). */
export function touchImage(model: Model, id: string, now: number): void {
  const entry = model.images.get(id);
  if (entry && entry.lastUsed < now) entry.lastUsed = now;
}

/** Milliseconds since the image was last touched by any of the agent's clocks. */
export function untouchedFor(image: ImageEntry, now: number): number {
  return now - Math.max(image.firstSeen, image.lastUsed, image.untaggedSince ?? 0);
}

export function isLayerPresent(model: Model, diffId: string): boolean {
  return (model.layers.get(diffId) ?? 0) > 0;
}

/** Whether image details from a list carry the same tags and digests as the model's entry. */
export function sameRefs(
  a: { tags: string[]; digests: string[] },
  b: { tags: string[]; digests: string[] },
): boolean {
  return sameSet(a.tags, b.tags) && sameSet(a.digests, b.digests);
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

export type { ImageDetail };

/**
 * A `tag` event's `name` is the new ref in the engine's familiar form (`repo:tag`, as `RepoTags` spells
 * it). Anything else (a digest, an id) is left to the image list.
 */
export function tagFromEvent(model: Model, e: EngineEvent, now: number): void {
  const ref = e.attributes.name;
  if (!ref || ref.startsWith('sha256:')) return;
  const { tag, digest } = parseRef(ref);
  if (tag === undefined || digest !== undefined) return;
  applyTagEvent(model, e.actorId, ref, now);
}
