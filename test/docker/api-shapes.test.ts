/**
 * Every shape the decoders meet between API 1.41 and 1.52 (docs/engine-api.md), as the engine writes
 * them: the 1.41 shapes recorded on dockerd 20.10, the later ones as moby's changelog describes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeImageInspect, decodeImageSummary, decodeInfo } from '../../src/docker/decode.js';
import { apply } from '../../src/model/apply.js';
import { createModel } from '../../src/model/create.js';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import { planPrune } from '../../src/prune/plan.js';
import { decodeEvent } from '../../src/streams/decode-event.js';
import { container, event, image, snapshot } from '../builders.js';

const ID = 'sha256:8d8fbbff9b05d4e9e0f1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3';
const ctx = (now: number) => ({ now, policy: ALL_STACKS_ARE_RUNS });
const H = 3600_000;

describe('/images/json across versions', () => {
  const base = { Id: ID, ParentId: '', Created: 1_700_000_000, Size: 4096, SharedSize: -1, Labels: null };
  it('1.41: <none> refs, VirtualSize, Containers -1: no refs, Size, containers unknown', () => {
    const r = {
      ...base,
      RepoTags: ['<none>:<none>'],
      RepoDigests: ['<none>@<none>'],
      VirtualSize: 4096,
      Containers: -1,
    };
    assert.deepEqual(decodeImageSummary(r, '1.41'), {
      id: ID,
      tags: [],
      digests: [],
      size: 4096,
      created: 1_700_000_000,
    });
  });
  it('1.43/1.44: empty lists (or null), no VirtualSize: the same image', () => {
    for (const refs of [
      { RepoTags: [], RepoDigests: [] },
      { RepoTags: null, RepoDigests: null },
    ])
      assert.deepEqual(decodeImageSummary({ ...base, ...refs, Containers: -1 }, '1.44'), {
        id: ID,
        tags: [],
        digests: [],
        size: 4096,
        created: 1_700_000_000,
      });
  });
  it('1.51+: Containers is the count of containers using it; below 1.51 it is not read', () => {
    const r = { ...base, RepoTags: ['app:1'], RepoDigests: [], Containers: 2 };
    assert.equal(decodeImageSummary(r, '1.51').containers, 2);
    assert.equal(decodeImageSummary(r, '1.52').containers, 2);
    assert.equal(decodeImageSummary({ ...r, Containers: 0 }, '1.52').containers, 0);
    assert.equal(decodeImageSummary(r, '1.50').containers, undefined);
    assert.equal(decodeImageSummary({ ...r, Containers: -1 }, '1.52').containers, undefined);
  });
});

describe('image inspect across versions', () => {
  it('1.52 omits Container, ContainerConfig, VirtualSize, empty Parent and Config fields: layers and size still read', () => {
    const r = {
      Id: ID,
      RepoTags: ['app:1'],
      RepoDigests: [],
      Created: '2026-01-02T03:04:05Z',
      Size: 4096,
      Config: { Cmd: ['/bin/idle'] },
      RootFS: { Type: 'layers', Layers: ['sha256:l1', 'sha256:l2'] },
    };
    const d = decodeImageInspect(r);
    assert.deepEqual(d.layers, ['sha256:l1', 'sha256:l2']);
    assert.equal(d.size, 4096);
    assert.equal(d.created, Date.parse('2026-01-02T03:04:05Z') / 1000);
  });
});

describe('events across versions', () => {
  const nano = '1796346942328291342';
  const v141 = `{"status":"tag","id":"${ID}","from":"x","Type":"image","Action":"tag","Actor":{"ID":"${ID}","Attributes":{"name":"app:1"}},"scope":"local","time":1796346942,"timeNano":${nano}}`;
  const v152 = `{"Type":"image","Action":"tag","Actor":{"ID":"${ID}","Attributes":{"name":"app:1"}},"scope":"local","time":1796346942,"timeNano":${nano}}`;
  it('1.52 (no status/id/from) decodes to the same event as 1.41', () => {
    assert.deepEqual(decodeEvent(v152), decodeEvent(v141));
    const d = decodeEvent(v152);
    assert.ok(d.ok && d.event.timeNano === nano && d.event.attributes.name === 'app:1');
  });
});

describe('/info with the negotiated version', () => {
  it('carries the version spoken and the range the engine serves', () => {
    const info = decodeInfo({ ID: 'e', ServerVersion: '29.1.3' }, '1.52', { min: '1.44', max: '1.52' });
    assert.equal(info.apiVersion, '1.52');
    assert.deepEqual(info.apiRange, { min: '1.44', max: '1.52' });
  });
});

describe('image create (API ≥ 1.46): a build brought in at once', () => {
  it('asks for one inspect, no list; the inspect puts the image in the model with the event time', () => {
    const model = createModel();
    apply(model, { kind: 'snapshot', snapshot: snapshot(), reason: 'start' }, ctx(1000));
    const e = event('image', 'create', 'sha256:built', {}, 1_700_000_000_500);
    const step = apply(model, { kind: 'event', event: e }, ctx(2000));
    assert.deepEqual(step.wants, [
      { kind: 'inspect-image', id: 'sha256:built', eventTimeMs: 1_700_000_000_500 },
    ]);
    assert.equal(model.images.has('sha256:built'), false);
    apply(
      model,
      { kind: 'image', id: 'sha256:built', image: image('built'), engineTimeMs: e.timeMs },
      ctx(2100),
    );
    const entry = model.images.get('sha256:built');
    assert.ok(entry, 'in the model before any list');
    assert.equal(entry.seenByEngineAt, 1_700_000_000_500);
    assert.equal(model.layers.get('sha256:layer-built'), 1);
  });

  it('an image already known, or gone before the inspect, changes nothing', () => {
    const model = createModel();
    apply(
      model,
      { kind: 'snapshot', snapshot: snapshot({ images: [image('a', { tags: ['a:1'] })] }), reason: 's' },
      ctx(1000),
    );
    const step = apply(model, { kind: 'event', event: event('image', 'create', 'sha256:a') }, ctx(2000));
    assert.deepEqual(step.wants, []);
    apply(model, { kind: 'image', id: 'sha256:gone', image: null, engineTimeMs: 0 }, ctx(2000));
    assert.deepEqual([...model.images.keys()], ['sha256:a']);
  });
});

describe("the engine's container count (API ≥ 1.51) in the plan", () => {
  it('an untagged aged image the engine counts as used is kept, though the model holds no container of it', () => {
    const model = createModel();
    const used = { ...image('used'), containers: 1 };
    const free = { ...image('free'), containers: 0 };
    apply(model, { kind: 'snapshot', snapshot: snapshot({ images: [used, free] }), reason: 's' }, ctx(0));
    const plan = planPrune(model, { minAgeMs: 24 * H }, 25 * H);
    assert.deepEqual(
      plan.candidates.map((c) => c.id),
      ['sha256:free'],
    );
    assert.equal(
      plan.kept.find((k) => k.id === 'sha256:used')?.reason,
      'in use by 1 container(s) as the engine counts',
    );
  });

  it('a container destroyed since the list no longer counts: its image is a candidate again before the next list', () => {
    const model = createModel();
    const used = { ...image('used'), containers: 1 };
    const c = container('job', 'used', 'exited', { finishedAt: 0 });
    apply(
      model,
      { kind: 'snapshot', snapshot: snapshot({ images: [used], containers: [c] }), reason: 's' },
      ctx(0),
    );
    apply(model, { kind: 'event', event: event('container', 'destroy', c.id) }, ctx(H));
    const plan = planPrune(model, { minAgeMs: 24 * H }, 26 * H);
    assert.deepEqual(
      plan.candidates.map((x) => x.id),
      ['sha256:used'],
    );
  });
});
