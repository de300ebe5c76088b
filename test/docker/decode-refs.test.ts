import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeImageInspect, decodeImageSummary } from '../../src/docker/decode.js';

const D = `sha256:${'a'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

describe('image refs on both stores', () => {
  it('graphdriver (as dockerd 20.10 answers): tags in RepoTags, digests in RepoDigests', () => {
    const img = decodeImageSummary({
      Id: C,
      RepoTags: ['registry.local/lw/app:1'],
      RepoDigests: [`registry.local/lw/app@${D}`],
      Size: 10,
      Created: 1,
    });
    assert.deepEqual([img.tags, img.digests], [['registry.local/lw/app:1'], [`registry.local/lw/app@${D}`]]);
    const dangling = decodeImageSummary({
      Id: C,
      RepoTags: ['<none>:<none>'],
      RepoDigests: ['<none>@<none>'],
    });
    assert.deepEqual([dangling.tags, dangling.digests], [[], []]);
  });

  it('containerd: a pull by digest is a digest ref, though RepoTags lists it (image_list.go Images)', () => {
    // The store's id is the manifest or index digest, RepoTags holds every name, the digested one too.
    const swarmPull = {
      Id: D,
      RepoTags: [`registry.local/lw/app@${D}`],
      RepoDigests: [`registry.local/lw/app@${D}`],
    };
    for (const img of [decodeImageSummary(swarmPull), decodeImageInspect(swarmPull)]) {
      assert.equal(img.id, D);
      assert.deepEqual(img.tags, [], 'digest-only, as on the graphdriver store: a candidate once untouched');
      assert.deepEqual(img.digests, [`registry.local/lw/app@${D}`]);
    }
    const both = decodeImageInspect({
      Id: D,
      RepoTags: ['registry.local/lw/app:1', `registry.local/lw/other@${D}`],
      RepoDigests: [`registry.local/lw/app@${D}`, `registry.local/lw/other@${D}`],
    });
    assert.deepEqual(both.tags, ['registry.local/lw/app:1']);
    assert.deepEqual(both.digests, [`registry.local/lw/app@${D}`, `registry.local/lw/other@${D}`]);
  });

  it('containerd: a nameless (moby-dangling@…) image has no refs; one with no platform present lists only its own digest', () => {
    const dangling = decodeImageSummary({ Id: D, RepoTags: [], RepoDigests: [] });
    assert.deepEqual([dangling.tags, dangling.digests], [[], []]);
    const noPlatform = decodeImageSummary({ Id: D, RepoTags: ['registry.local/lw/app:1'], RepoDigests: [D] });
    assert.deepEqual([noPlatform.tags, noPlatform.digests], [['registry.local/lw/app:1'], []]);
  });
});
