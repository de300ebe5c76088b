import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeImageInspect, layerSizes } from '../../src/docker/decode.js';

/** Inspect and history of images built, pushed and pulled on dockerd 20.10.24 (see `recordedOn`). */
interface Recorded {
  how: string;
  size: number;
  layers: string[];
  history: Array<{ Size: number; CreatedBy: string }>;
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/image-history.json', import.meta.url), 'utf8'),
) as { recordedOn: string; images: Record<string, Recorded> };
const recorded = (name: string) => fixture.images[name] as Recorded;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('layerSizes (history recorded on a real engine)', () => {
  it('maps an imported image (one step, one layer)', () => {
    const img = recorded('import');
    assert.deepEqual(layerSizes(img.history, img.layers.length), [img.size]);
  });

  it('skips empty steps (ENV, LABEL, CMD, RUN true) of the classic builder', () => {
    const img = recorded('classic-copy-env-run');
    const sizes = layerSizes(img.history, img.layers.length);
    assert.deepEqual(sizes, [1982277, 3000, 3, 5000]);
    assert.equal(sum(sizes!), img.size, 'the layers add up to the image size');
  });

  it("lines up BuildKit's zero-byte layers (WORKDIR, empty COPY, RUN rm) by leaving out metadata steps", () => {
    const img = recorded('buildkit-zero-byte-layers');
    assert.equal(img.layers.length, 6);
    assert.deepEqual(layerSizes(img.history, img.layers.length), [1982277, 0, 0, 0, 700, 0]);
  });

  it('does not guess when zero-byte layers and empty RUN steps cannot be told apart', () => {
    const img = recorded('classic-zero-byte-layers');
    assert.equal(img.layers.length, 5);
    assert.equal(layerSizes(img.history, img.layers.length), undefined);
  });

  it('decodes an inspect with its history into aligned sizes', () => {
    const img = recorded('classic-copy-env-run');
    const detail = decodeImageInspect(
      { Id: 'sha256:x', RepoTags: null, Size: img.size, RootFS: { Layers: img.layers } },
      img.history,
    );
    assert.deepEqual(detail.layerSizes, [1982277, 3000, 3, 5000]);
  });

  it('says nothing for a history that is not a list, or an image without layers', () => {
    assert.equal(layerSizes({ message: 'no such image' }, 2), undefined);
    assert.equal(layerSizes([], 0), undefined);
    assert.equal(layerSizes([{ Size: 5 }], 2), undefined);
  });
});
