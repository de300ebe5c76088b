import { parseRef } from '../model/images/refs.js';
import type { ImageEntry } from '../model/types.js';

/**
 * Whether an image's digest references span two or more repositories (`a/x@sha256:D`, `b/x@sha256:D`:
 * one image pulled by digest under two names). The engine refuses to delete such an image by id without
 * force (409 "image is referenced in multiple repositories", dockerd 20.10), so it is removed by its
 * references instead.
 */
export function spansRepositories(image: Pick<ImageEntry, 'digests'>): boolean {
  return new Set(image.digests.map((d) => parseRef(d).repo)).size >= 2;
}

/** The digest references an image would be removed by, in the order the executor sends them. */
export function removalRefs(image: Pick<ImageEntry, 'digests'>): string[] {
  return [...image.digests].sort();
}

/** Where an image's removal by references stands. */
export interface RefProgress {
  /** Its removal by references has begun: it goes on that way even once one repository is left. */
  byRefs: boolean;
  /** References already sent (untagged, or answered 404): never sent twice. */
  sent: ReadonlySet<string>;
}

/**
 * What the next DELETE of an image names. Its id, as always, unless its references span repositories
 * or its removal by references has begun: then its next reference not sent yet, read from the live
 * model (the engine untags a reference that is not the image's last, and deletes the image with the
 * last, refusing that one while a container uses the image). By id again when every reference the model
 * still shows was sent: the engine answers that for the image as a whole, never with an untag, so an
 * image is never sent more DELETEs than it has references, plus one.
 */
export function nextImageTarget(
  image: Pick<ImageEntry, 'id' | 'digests'>,
  progress: RefProgress,
): { target: string; byRef: boolean } {
  if (!progress.byRefs && !spansRepositories(image)) return { target: image.id, byRef: false };
  const next = removalRefs(image).find((ref) => !progress.sent.has(ref));
  return next === undefined ? { target: image.id, byRef: false } : { target: next, byRef: true };
}
