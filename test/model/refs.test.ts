import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRef, type RefHolder, refMatcher, refMatches } from '../../src/model/images/refs.js';

/** The definition refMatcher must keep: parse everything, compare repo and digest, else repo and tag. */
function naive(image: RefHolder, ref: string): boolean {
  const want = parseRef(ref);
  if (want.digest)
    return image.digests.some((d) => {
      const have = parseRef(d);
      return have.repo === want.repo && have.digest === want.digest;
    });
  const tag = want.tag ?? 'latest';
  return image.tags.some((t) => {
    const have = parseRef(t);
    return have.repo === want.repo && have.tag === tag;
  });
}

// Few parts, so that refs often share a repo, a tag or a digest and the suffix test is exercised.
const host = fc.constantFrom('', 'docker.io/', 'docker.io/library/', 'localhost:5000/', 'reg.example:443/');
const repo = fc.constantFrom('app', 'web', 'team/app', 'a:b');
const tag = fc.constantFrom('', ':1', ':latest', ':2.0', ':');
const digest = fc.constantFrom('', '@sha256:aa', '@sha256:bb', '@x@sha256:aa');
const ref = fc.tuple(host, repo, tag, digest).map((parts) => parts.join(''));

describe('refMatcher', () => {
  it('answers as parsing every ref of the image would', () => {
    fc.assert(
      fc.property(
        fc.array(ref, { maxLength: 4 }),
        fc.array(ref, { maxLength: 4 }),
        ref,
        (tags, digests, r) => {
          const image = { tags, digests };
          assert.equal(refMatcher(r)(image), naive(image, r));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('matches by digest for a pinned ref, by tag (latest by default) otherwise', () => {
    const image = { tags: ['localhost:5000/app:1', 'web:latest'], digests: ['localhost:5000/app@sha256:aa'] };
    assert.equal(refMatches(image, 'localhost:5000/app:1'), true);
    assert.equal(refMatches(image, 'localhost:5000/app:2'), false);
    assert.equal(refMatches(image, 'docker.io/library/web'), true);
    assert.equal(refMatches(image, 'localhost:5000/app:9@sha256:aa'), true, 'swarm pins tag@digest');
    assert.equal(refMatches(image, 'localhost:5000/app@sha256:bb'), false);
    assert.equal(refMatches(image, 'localhost:5000/web@sha256:aa'), false, 'same digest, other repo');
  });
});
