import type { Model } from '../types.js';
import { holdersOf } from './ref-index.js';
import { refMatcher } from './refs.js';

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]{1,64}$/;

/**
 * The one ref resolver: the image id an image string names in the model, as the engine resolves it (for
 * a container's `create`, and a pull's ref before the pull): a full id; a ref (`repo` means
 * `repo:latest`; a digest wins over a tag; refs compared parsed, so `docker.io/library/x` is `x`); else
 * a unique id prefix.
 */
export function resolveImage(model: Model, image: string): string | undefined {
  if (!image) return undefined;
  if (model.images.has(image)) return image;
  if (IMAGE_ID.test(image)) return undefined;
  const holders = holdersOf(model, image);
  if (typeof holders === 'string') return holders;
  if (holders) {
    // More than one image answers to it: the first of them in the model's order, as walking them gave.
    const matches = refMatcher(image);
    for (const entry of model.images.values()) if (matches(entry)) return entry.id;
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
