import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type RememberedEviction,
  createEvictionMemory,
  linkEviction,
  rememberEviction,
} from '../../src/model/evictions/eviction-memory.js';

function eviction(image: string, refs: string[], atMs: number, extra: Partial<RememberedEviction> = {}) {
  return {
    image,
    refs,
    atMs,
    at: new Date(atMs).toISOString(),
    by: 'external' as const,
    activity: 'engine-prune' as const,
    ...extra,
  };
}

describe('linkEviction', () => {
  it('links a cold re-pull of the same image, and only once', () => {
    const memory = createEvictionMemory();
    rememberEviction(memory, eviction('sha256:x', ['app:1', 'app@sha256:d1'], 1000, { pruneAt: 'P' }));
    const first = linkEviction(memory, { class: 'cold', ref: 'app:1', image: 'sha256:x', atMs: 61_000 });
    assert.deepEqual(first.afterEviction, {
      at: new Date(1000).toISOString(),
      by: 'external',
      activity: 'engine-prune',
      image: 'sha256:x',
      match: 'image',
      afterSeconds: 60,
      pruneAt: 'P',
    });
    assert.deepEqual(
      linkEviction(memory, { class: 'cold', ref: 'app:1', image: 'sha256:x', atMs: 62_000 }),
      {},
    );
    assert.equal(memory.size, 0);
  });

  it('matches a swarm pull by repo@digest and a moved tag by repo:tag, Hub prefixes aside', () => {
    const memory = createEvictionMemory();
    rememberEviction(memory, eviction('sha256:x', ['reg:5000/app@sha256:d1'], 1000));
    const swarm = linkEviction(memory, {
      class: 'partial',
      ref: 'reg:5000/app:1@sha256:d1',
      image: 'sha256:other',
      atMs: 2000,
    });
    assert.equal(swarm.afterEviction?.match, 'digest');

    rememberEviction(memory, eviction('sha256:y', ['nginx:latest'], 1000));
    const moved = linkEviction(memory, {
      class: 'partial',
      ref: 'docker.io/library/nginx',
      image: 'sha256:new',
      atMs: 2000,
    });
    assert.equal(moved.afterEviction?.match, 'tag');
    assert.equal(moved.afterEviction?.image, 'sha256:y');
  });

  it('never links on the repository alone: a new tag of the same repository is new, not evicted', () => {
    const memory = createEvictionMemory();
    rememberEviction(memory, eviction('sha256:x', ['app:1'], 1000));
    assert.deepEqual(
      linkEviction(memory, { class: 'partial', ref: 'app:2', image: 'sha256:y', atMs: 2000 }),
      {},
    );
    assert.equal(memory.size, 2);
  });

  it('a warm pull of the same image forgets the eviction without a link', () => {
    const memory = createEvictionMemory();
    rememberEviction(memory, eviction('sha256:x', ['app:1'], 1000));
    assert.deepEqual(
      linkEviction(memory, { class: 'warm', ref: 'app:1', image: 'sha256:x', atMs: 2000 }),
      {},
    );
    assert.deepEqual(
      linkEviction(memory, { class: 'cold', ref: 'app:1', image: 'sha256:x', atMs: 3000 }),
      {},
    );
  });

  it('prefers the latest eviction when several match, and keeps a newer one under a shared key', () => {
    const memory = createEvictionMemory();
    rememberEviction(memory, eviction('sha256:old', ['app:1'], 1000, { by: 'layerwarden' }));
    rememberEviction(memory, eviction('sha256:new', ['app:1'], 5000));
    const link = linkEviction(memory, { class: 'cold', ref: 'app:1', image: 'sha256:old', atMs: 6000 });
    assert.equal(link.afterEviction?.image, 'sha256:new');
    assert.equal(link.afterEviction?.match, 'tag');
    // The old eviction's id key is left: it never came back by that tag.
    assert.equal(memory.has('image:sha256:old'), true);
  });

  it('stays bounded', () => {
    const memory = createEvictionMemory(100);
    for (let i = 0; i < 1000; i++) rememberEviction(memory, eviction(`sha256:${i}`, [`app:${i}`], i));
    assert.equal(memory.size, 100);
  });
});
