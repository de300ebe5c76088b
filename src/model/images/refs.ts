/** An image reference split into repository, tag and digest, with Docker Hub's default prefixes removed. */
export interface ParsedRef {
  repo: string;
  tag?: string;
  digest?: string;
}

const HUB_PREFIXES = ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/'];

/** Parses `repo`, `repo:tag`, `repo@sha256:…` and `repo:tag@sha256:…` (a registry port is not a tag). */
export function parseRef(ref: string): ParsedRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  for (const prefix of HUB_PREFIXES) {
    if (rest.startsWith(prefix)) {
      rest = rest.slice(prefix.length);
      break;
    }
  }
  return { repo: rest, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** Registry host of a repository (`docker.io` when the first part is not a host). */
export function registryOf(ref: string): string {
  const { repo } = parseRef(ref);
  const slash = repo.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = repo.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/** What `refMatcher` reads of an image. */
export interface RefHolder {
  tags: readonly string[];
  digests: readonly string[];
}

/** Does `s`, up to `end`, end with `suffix`? (No substring is allocated.) */
const endsAt = (s: string, suffix: string, end: number) =>
  end >= suffix.length && s.startsWith(suffix, end - suffix.length);

/**
 * Does an image holding these tags and digests answer to `ref`? A ref with a digest matches on the
 * digest (that is how swarm stores its pulls); otherwise on the tag (`latest` when none is given).
 * The ref is parsed once: every pull event asks this of every image in the model, and parsing each of
 * their refs was a quarter of what the whole agent allocated under churn (bench/memory.ts). A ref is
 * parsed only when it ends with the wanted tag or digest, which any match must.
 */
export function refMatcher(ref: string): (image: RefHolder) => boolean {
  const want = parseRef(ref);
  if (want.digest) {
    const { digest } = want;
    const suffix = `@${digest}`;
    return (image) =>
      image.digests.some((d) => {
        if (!d.endsWith(suffix)) return false;
        const have = parseRef(d);
        return have.repo === want.repo && have.digest === digest;
      });
  }
  const tag = want.tag ?? 'latest';
  const suffix = `:${tag}`;
  return (image) =>
    image.tags.some((t) => {
      // The tag sits before any digest: `repo:tag@sha256:…`.
      const at = t.indexOf('@');
      if (!endsAt(t, suffix, at < 0 ? t.length : at)) return false;
      const have = parseRef(t);
      return have.repo === want.repo && have.tag === tag;
    });
}

/** `refMatcher` for one image. */
export function refMatches(image: RefHolder, ref: string): boolean {
  return refMatcher(ref)(image);
}

/**
 * Do two refs name the same image? Same repository, and the same digest when both carry one (swarm
 * pins `repo:tag@sha256:…`), else the same tag (`latest` when none is given).
 */
export function refsAgree(a: string, b: string): boolean {
  const x = parseRef(a);
  const y = parseRef(b);
  if (x.repo !== y.repo) return false;
  if (x.digest && y.digest) return x.digest === y.digest;
  return (x.tag ?? 'latest') === (y.tag ?? 'latest');
}
