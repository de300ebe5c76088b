import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IdleAnswer } from '../../src/model/idle.js';
import {
  belowLowWater,
  type DiskReading,
  decide,
  diskReadingFromStatfs,
  type StoreGate,
  storeGate,
} from '../../src/prune/gates.js';
import type { Plan } from '../../src/prune/plan.js';

const idle: IdleAnswer = { idle: true, busy: [] };
const busy: IdleAnswer = {
  idle: false,
  busy: [
    {
      reason: 'run-stack-live',
      stack: 'ci-42',
      kind: 'swarm',
      since: Date.parse('2025-06-01T10:00:00.000Z'),
    },
    {
      reason: 'recent-pull',
      ref: 'app:1',
      at: Date.parse('2025-06-01T10:01:00.000Z'),
      quietUntil: Date.parse('2025-06-01T10:03:00.000Z'),
    },
  ],
};
const disk = (usedPercent: number): DiskReading => ({
  path: '/var/lib/docker',
  ok: true,
  usedPercent,
  usedBytes: usedPercent,
  totalBytes: 100,
  freeBytes: 100 - usedPercent,
});
const graphdriver: StoreGate = storeGate('graphdriver', false);
const unknownDisk: DiskReading = { path: '/var/lib/docker', ok: false, reason: 'statfs failed: ENOENT' };

function plan(count: number): Plan {
  const candidates = Array.from({ length: count }, (_, i) => ({
    kind: 'image' as const,
    id: `sha256:${i}`,
    refs: [],
    bytes: 500,
    untouchedFor: 30 * 3600_000,
    untouchedForText: '30h',
  }));
  return {
    at: '2025-06-02T00:00:00.000Z',
    minAgeMs: 24 * 3600_000,
    candidates,
    buildCache: { kind: 'build-cache', untilHours: 24 },
    kept: [],
    totals: { candidates: count, bytes: 500 * count, kept: 0 },
  };
}

describe('decide', () => {
  it('fires when idle, the disk is at or above high-water and there are candidates', () => {
    const d = decide({
      idle,
      store: graphdriver,
      disk: disk(80),
      plan: plan(2),
      diskHighPercent: 80,
      diskLowPercent: 70,
    });
    assert.deepEqual(d, {
      fire: true,
      gates: {
        idle: { pass: true, busy: [] },
        disk: { pass: true, path: '/var/lib/docker', usedPercent: 80, high: 80, low: 70 },
        candidates: { pass: true, count: 2, bytes: 1000 },
        store: { pass: true, imageStore: 'graphdriver', allowContainerdStoreRemoval: false },
      },
      reasons: [],
    });
  });

  it('does not fire below high-water, and says so', () => {
    const d = decide({ idle, store: graphdriver, disk: disk(79.94), plan: plan(2), diskHighPercent: 80 });
    assert.equal(d.fire, false);
    assert.deepEqual(d.gates.disk, {
      pass: false,
      path: '/var/lib/docker',
      usedPercent: 79.94,
      high: 80,
      reason: 'disk 79.9% below high-water 80% (fullest: /var/lib/docker)',
    });
    assert.deepEqual(d.reasons, ['disk 79.9% below high-water 80% (fullest: /var/lib/docker)']);
  });

  it('never fires on an unknown disk', () => {
    const d = decide({ idle, store: graphdriver, disk: unknownDisk, plan: plan(2), diskHighPercent: 80 });
    assert.equal(d.fire, false);
    assert.equal(d.gates.disk.pass, false);
    assert.equal(d.gates.disk.usedPercent, undefined);
    assert.deepEqual(d.reasons, ['disk usage of /var/lib/docker unknown: statfs failed: ENOENT']);
  });

  it('does not fire without candidates (the build cache alone is not one)', () => {
    const d = decide({ idle, store: graphdriver, disk: disk(95), plan: plan(0), diskHighPercent: 80 });
    assert.equal(d.fire, false);
    assert.deepEqual(d.gates.candidates, { pass: false, count: 0, bytes: 0 });
    assert.deepEqual(d.reasons, ['no candidates']);
  });

  it('does not fire while busy, carrying every busy reason', () => {
    const d = decide({ idle: busy, store: graphdriver, disk: disk(95), plan: plan(1), diskHighPercent: 80 });
    assert.equal(d.fire, false);
    assert.deepEqual(d.gates.idle, { pass: false, busy: busy.busy });
    assert.deepEqual(d.reasons, [
      'busy: run stack ci-42 (swarm) live since 2025-06-01T10:00:00.000Z',
      'busy: pull of app:1 at 2025-06-01T10:01:00.000Z, quiet until 2025-06-01T10:03:00.000Z',
    ]);
  });

  it('reports every failing gate at once', () => {
    const d = decide({
      idle: busy,
      store: graphdriver,
      disk: unknownDisk,
      plan: plan(0),
      diskHighPercent: 80,
    });
    assert.equal(d.reasons.length, 4);
    assert.deepEqual([d.gates.idle.pass, d.gates.disk.pass, d.gates.candidates.pass], [false, false, false]);
    const all = decide({
      idle: busy,
      store: storeGate('containerd', false),
      disk: unknownDisk,
      plan: plan(0),
      diskHighPercent: 80,
    });
    assert.equal(all.reasons.length, 5, 'the store gate too');
  });
});

describe('the image store gate (store × opt-in)', () => {
  const table: Array<[StoreGate['imageStore'] | undefined, boolean, boolean]> = [
    ['graphdriver', false, true],
    ['graphdriver', true, true],
    ['containerd', false, false],
    ['containerd', true, true],
    [undefined, false, false],
    [undefined, true, false],
  ];
  for (const [store, allow, fires] of table) {
    it(`${store ?? 'unknown'} store, opt-in ${allow ? 'given' : 'not given'}: ${fires ? 'fires' : 'removes nothing'}`, () => {
      const gate = storeGate(store === 'unknown' ? undefined : store, allow);
      const d = decide({ idle, store: gate, disk: disk(95), plan: plan(2), diskHighPercent: 80 });
      assert.equal(d.fire, fires);
      assert.equal(d.gates.store.pass, fires);
      assert.equal(d.gates.store.imageStore, store ?? 'unknown');
      assert.equal(d.gates.store.allowContainerdStoreRemoval, allow);
      // Every other gate passed: the store is the only reason, and it names the way out.
      if (fires) assert.deepEqual(d.reasons, []);
      else {
        assert.equal(d.reasons.length, 1);
        assert.equal(d.reasons[0], d.gates.store.reason);
      }
      if (store === 'containerd' && !allow)
        assert.match(
          String(d.gates.store.reason),
          /^image store containerd: removal off .*--allow-containerd-store-removal/,
        );
    });
  }
});

describe('diskReadingFromStatfs', () => {
  it('computes usage like df (reserved blocks are neither used nor free)', () => {
    // 1000 blocks of 4 KiB, 300 free of which 250 available to users
    const r = diskReadingFromStatfs('/d', { blocks: 1000, bfree: 300, bavail: 250, bsize: 4096 });
    assert.deepEqual(r, {
      path: '/d',
      ok: true,
      usedPercent: (700 / 950) * 100,
      usedBytes: 700 * 4096,
      totalBytes: 1000 * 4096,
      freeBytes: 250 * 4096,
    });
  });

  it('accepts bigint figures', () => {
    const r = diskReadingFromStatfs('/d', { blocks: 100n, bfree: 20n, bavail: 20n, bsize: 512n });
    assert.equal(r.ok && r.usedPercent, 80);
  });

  const bad: Array<[string, { blocks: number; bfree: number; bavail: number; bsize: number }]> = [
    ['zero blocks', { blocks: 0, bfree: 0, bavail: 0, bsize: 4096 }],
    ['zero block size', { blocks: 10, bfree: 5, bavail: 5, bsize: 0 }],
    ['more free than blocks', { blocks: 10, bfree: 11, bavail: 5, bsize: 4096 }],
    ['more available than free', { blocks: 10, bfree: 5, bavail: 6, bsize: 4096 }],
    ['NaN', { blocks: Number.NaN, bfree: 5, bavail: 5, bsize: 4096 }],
    ['negative', { blocks: 10, bfree: -1, bavail: 0, bsize: 4096 }],
    ['nothing used nor available', { blocks: 10, bfree: 10, bavail: 0, bsize: 4096 }],
  ];
  for (const [name, figures] of bad) {
    it(`is unknown on ${name}`, () => {
      const r = diskReadingFromStatfs('/d', figures);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.reason.length > 0 && r.path === '/d');
    });
  }
});

describe('belowLowWater', () => {
  it('stops below the mark, or on a disk it can no longer read; never without a mark', () => {
    assert.equal(belowLowWater(disk(69), 70), true);
    assert.equal(belowLowWater(disk(70), 70), false);
    assert.equal(belowLowWater(unknownDisk, 70), true);
    assert.equal(belowLowWater(disk(10), undefined), false);
  });
});
