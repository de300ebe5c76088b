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

/**
 * Does an image holding these tags and digests answer to `ref`? A ref with a digest matches on the
 * digest (that is how swarm stores its pulls); otherwise on the tag (`latest` when none is given).
 */
export function refMatches(
  image: { tags: readonly string[]; digests: readonly string[] },
  ref: string,
): boolean {
  const want = parseRef(ref);
  if (want.digest) {
    return image.digests.some((d) => {
      const have = parseRef(d);
      return have.repo === want.repo && have.digest === want.digest;
    });
  }
  const tag = want.tag ?? 'latest';
  return image.tags.some((t) => {
    const have = parseRef(t);
    return have.repo === want.repo && have.tag === tag;
  });
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
