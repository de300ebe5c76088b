/**
 * What a `tag` or a container `create` event says for itself, applied before the list or inspect it
 * also asks for (events are hints, the call is the truth: it confirms or corrects this a few ms later).
 */
import { decodeLabels } from '../docker/decode.js';
import type { EngineEvent } from '../docker/types.js';
import { setContainer, toEntry } from './containers.js';
import { applyTagEvent, touchImage } from './images.js';
import { parseRef } from './refs.js';
import type { Model } from './types.js';

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]{1,64}$/;

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

/**
 * A container `create`: the container is there, `created`, with the labels and the image string the
 * event carries (the image resolved through the model's refs; `imageId` stays '' when they do not name
 * one). A `start` that comes before the inspect then finds it, so its stack is live at once, and its
 * image counts as used at once. The inspect that follows replaces the whole entry.
 */
export function containerFromCreate(model: Model, e: EngineEvent, now: number): void {
  if (model.containers.has(e.actorId)) return; // a replay, or the inspect was quicker: it knows better
  const image = e.attributes.image ?? '';
  const imageId = resolveImage(model, image) ?? '';
  if (imageId) touchImage(model, imageId, now);
  const entry = toEntry({
    id: e.actorId,
    // Labels merge into the attributes (a `name` label may shadow the name): the inspect brings the real one.
    name: e.attributes.name ?? e.actorId.slice(0, 12),
    imageId,
    image,
    state: 'created',
    created: Math.floor(e.timeMs / 1000),
    labels: decodeLabels(e.attributes),
  });
  setContainer(model, e.actorId, entry);
}

/**
 * The image id an image string names in the model, as the engine resolves it for `create`: a full id;
 * a ref (`repo` means `repo:latest`; a digest wins over a tag); else a unique id prefix.
 */
export function resolveImage(model: Model, image: string): string | undefined {
  if (!image) return undefined;
  if (model.images.has(image)) return image;
  if (IMAGE_ID.test(image)) return undefined;
  const { repo, tag, digest } = parseRef(image);
  // Tags and digests in the model are in the engine's familiar form, as parseRef normalises them.
  const byRef = digest ? `${repo}@${digest}` : `${repo}:${tag ?? 'latest'}`;
  for (const entry of model.images.values()) {
    if ((digest ? entry.digests : entry.tags).includes(byRef)) return entry.id;
  }
  const prefix = image.replace(/^sha256:/, '');
  if (!HEX.test(prefix)) return undefined;
  let found: string | undefined;
  for (const id of model.images.keys()) {
    if (!id.startsWith(`sha256:${prefix}`)) continue;
    if (found) return undefined; // ambiguous: the engine would refuse it
    found = id;
  }
  return found;
}
