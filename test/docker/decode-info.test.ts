import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeInfo } from '../../src/docker/decode.js';

/** Recorded from the private engine (dockerd 20.10, overlay2): the graphdriver store's shape. */
const recorded = (
  JSON.parse(readFileSync(new URL('../fixtures/info-20.10.json', import.meta.url), 'utf8')) as {
    info: Record<string, unknown>;
  }
).info;

/**
 * The containerd store's shape, written from moby's source (not recorded: no such engine here):
 * daemon/info.go `fillDriverInfo` sets `Driver` to the snapshotter and `DriverStatus` to
 * daemon/containerd/service.go `LayerStoreStatus`, `[["driver-type", "io.containerd.snapshotter.v1"]]`;
 * `fillContainerdInfo` adds `Containerd` (sent from API 1.46, daemon/server/router/system/system_routes.go).
 */
const containerdStore = {
  ...recorded,
  ServerVersion: '29.1.0',
  Driver: 'overlayfs',
  DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']],
  Containerd: {
    Address: '/run/containerd/containerd.sock',
    Namespaces: { Containers: 'moby', Plugins: 'plugins.moby' },
  },
};

describe('decodeInfo: the image store', () => {
  it('a graphdriver engine as recorded (DriverStatus of overlay2)', () => {
    const info = decodeInfo(recorded, '1.41');
    assert.equal(info.imageStore, 'graphdriver');
    assert.equal(info.dockerRootDir, recorded.DockerRootDir);
    assert.equal(info.serverVersion, '20.10.24+dfsg1');
  });

  it('the containerd store: DriverStatus driver-type io.containerd.snapshotter.v1', () => {
    assert.equal(decodeInfo(containerdStore, '1.52').imageStore, 'containerd');
    // Below 1.46 the router drops `Containerd`; DriverStatus still says it.
    const { Containerd: _, ...old } = containerdStore;
    assert.equal(decodeInfo(old, '1.44').imageStore, 'containerd');
  });

  it('`Containerd` alone does not make the containerd store: a graphdriver daemon reports it too', () => {
    // daemon/info.go fillContainerdInfo fills it whenever the daemon has a containerd address, on either store.
    const graphdriverAt152 = { ...recorded, Containerd: containerdStore.Containerd };
    assert.equal(decodeInfo(graphdriverAt152, '1.52').imageStore, 'graphdriver');
  });

  it('a DriverStatus that is missing or malformed is the graphdriver store', () => {
    for (const DriverStatus of [
      undefined,
      null,
      'driver-type',
      [['driver-type']],
      [[1, 2]],
      [['Backing Filesystem', 'io.containerd.snapshotter.v1']],
    ])
      assert.equal(
        decodeInfo({ ...recorded, DriverStatus }, '1.41').imageStore,
        'graphdriver',
        JSON.stringify(DriverStatus),
      );
  });
});
