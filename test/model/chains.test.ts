import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainIds } from '../../src/model/images/chains.js';
import { image, T0, World } from './world.js';

describe('layer chains', () => {
  it('are the ids the engine keys its layer store by', () => {
    // Read back from dockerd 20.10.24's layerdb (each chain dir's `diff` and `parent`), not computed.
    const diffIds = [
      'sha256:461e2313691469400193b63cb957e831812d8818fd046604d621d6be1f725d0c',
      'sha256:e837f3a3c962b7f4809659f34c033ade7196050958b1b4c71a0271305f1b8372',
      'sha256:7bb3af03e3cddd7b83f2e0425ceab219010e5f635f6db2f1a339c5763076ab8e',
      'sha256:0398855848b21c60dda874faf86b0680550ae97b70b799d4af538d26ed159a48',
      'sha256:139719110cc02f623576a58f3ae21e9d3c338ee0c9fb920af0cc95f98a8f0394',
    ];
    assert.deepEqual(chainIds(diffIds), [
      'sha256:461e2313691469400193b63cb957e831812d8818fd046604d621d6be1f725d0c',
      'sha256:2c38b0f580a628583297319a1b9fe9a2c7bca84b56a95810d076e3f9d5608cef',
      'sha256:1f76ad699b561c4f70414c01f38d73954a63ae9d0b2bec3feeb11a1ff301950f',
      'sha256:01debdb36a21125487fa163280ebd4b291aecf885d05a58971770ba518081c9c',
      'sha256:e7e53d0204d995e40b1c76cdf0048acf6363741791dd5f52f1173cbf4d5e9959',
    ]);
  });

  it('make a layer on another parent new to a pull, though its diff id is here', () => {
    // Seen on the engine: the same COPY layer built by BuildKit over other parents did not spare the
    // puller its download ("Pull complete" for it and for every layer above).
    const w = new World();
    w.snapshot(T0 - 60_000, [image('local', ['base', 'x', 'c'])]);
    const ref = 'reg.example/app:1';
    w.pull(T0, ref);
    const [note] = w.resolve(T0 + 10, ref, image('app', ['base', 'y', 'c'], { tags: [ref] }));
    assert.equal(note!.class, 'partial');
    assert.deepEqual(note!.layers, { total: 3, new: 2 });
    assert.deepEqual(note!.bytes, { downloaded: 2000, reused: 1000, known: true });
  });

  it('are released with their image', () => {
    const w = new World();
    w.snapshot(T0, [image('a', ['base', 'x']), image('b', ['base', 'y'])]);
    assert.equal(w.model.chains.size, 3);
    w.snapshot(T0 + 1000, [image('b', ['base', 'y'])]);
    assert.deepEqual([...w.model.chains.values()], [1, 1]);
  });
});
