/**
 * The disk gate's readings of every filesystem that holds images, from real `statfs` calls: two tmpfs
 * mounts of a known size (8 MiB each) filled to known levels stand for the Docker root and containerd's
 * root. Mounting needs root, as the engine suite does.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineInfo } from '../../src/docker/types.js';
import { readImageDisks } from '../../src/host/disk.js';
import { createModel } from '../../src/model/create.js';
import { decisionNote, evaluate } from '../../src/prune/evaluate.js';
import { decidingReading } from '../../src/prune/filesystems.js';

const MiB = 1024 * 1024;
const engine = (over: Partial<EngineInfo>): EngineInfo => ({
  id: 'E',
  name: 'h',
  serverVersion: '29.1.0',
  apiVersion: '1.41',
  dockerRootDir: '/nonexistent',
  swarm: 'inactive',
  isManager: false,
  imageStore: 'containerd',
  ...over,
});

describe('reading every filesystem that holds images (real statfs)', () => {
  let base: string;
  let dockerRoot: string;
  let containerdRoot: string;
  const mounted: string[] = [];
  const fill = (dir: string, name: string, bytes: number) =>
    writeFileSync(join(dir, name), Buffer.alloc(bytes, 1));

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'lw-disks-'));
    for (const name of ['docker', 'containerd']) {
      const dir = join(base, name);
      execFileSync('mkdir', ['-p', dir]);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
      mounted.push(dir);
    }
    [dockerRoot, containerdRoot] = mounted as [string, string];
  });

  after(() => {
    try {
      for (const dir of mounted) execFileSync('umount', [dir]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('reads the Docker root and containerd root, the fullest decides, each reading in prune.decision', async () => {
    fill(dockerRoot, 'layers', 2 * MiB); // 25 %
    fill(containerdRoot, 'content', 6 * MiB); // 75 %
    const e = engine({ dockerRootDir: dockerRoot });
    const readings = await readImageDisks(e, { containerdRoot });
    assert.deepEqual(
      readings.map((r) => [r.path, r.role, r.ok && r.usedPercent, r.ok && r.totalBytes]),
      [
        [dockerRoot, 'docker-root', 25, 8 * MiB],
        [containerdRoot, 'containerd-root', 75, 8 * MiB],
      ],
    );
    assert.equal(decidingReading(readings).path, containerdRoot);

    const model = createModel();
    model.engine = e;
    const ev = evaluate({
      model,
      idle: { idle: true, busy: [] },
      disks: readings,
      minAgeMs: 1,
      diskHighPercent: 50,
      now: Date.parse('2026-01-01T00:00:00Z'),
    });
    assert.equal(ev.decision.gates.disk.pass, true, '75 % ≥ 50 %: the fuller filesystem decides');
    assert.equal(ev.decision.gates.disk.path, containerdRoot);
    const note = decisionNote(ev, { trigger: 'now', mode: 'on' }) as Record<string, unknown>;
    assert.deepEqual(
      (note.disks as Array<{ path: string; usedPercent: number; usedBytes: number }>).map((d) => [
        d.path,
        d.usedPercent,
        d.usedBytes,
      ]),
      [
        [dockerRoot, 25, 2 * MiB],
        [containerdRoot, 75, 6 * MiB],
      ],
    );
    assert.equal((note.disk as { path: string }).path, containerdRoot);
    // The graphdriver store does not look at containerd's root.
    const gd = await readImageDisks(engine({ dockerRootDir: dockerRoot, imageStore: 'graphdriver' }), {
      containerdRoot,
    });
    assert.deepEqual(
      gd.map((r) => r.path),
      [dockerRoot],
    );
  });

  it("the operator's paths stand for the Docker root; containerd's root is still read on that store", async () => {
    fill(dockerRoot, 'more', 5 * MiB); // 2 + 5 = 7 MiB: 87.5 %
    const readings = await readImageDisks(engine({}), { diskPaths: [dockerRoot, base], containerdRoot });
    assert.deepEqual(
      readings.map((r) => [r.path, r.role]),
      [
        [dockerRoot, 'disk-path'],
        [base, 'disk-path'],
        [containerdRoot, 'containerd-root'],
      ],
    );
    assert.ok(readings.every((r) => r.ok));
    const deciding = decidingReading(readings);
    // base's filesystem is the machine's own disk: whatever it holds, the tmpfs at 87.5 % is compared with it.
    const fullest = Math.max(...readings.map((r) => (r.ok ? r.usedPercent : 0)));
    assert.equal(deciding.ok && deciding.usedPercent, fullest);
    assert.equal(
      readings.find((r) => r.path === dockerRoot)?.ok && readings[0]?.ok && readings[0].usedPercent,
      87.5,
    );
  });

  it('an unreadable path is unknown and decides: no prune, as with one path', async () => {
    const readings = await readImageDisks(engine({ dockerRootDir: dockerRoot }), {
      containerdRoot: join(base, 'missing'),
    });
    const deciding = decidingReading(readings);
    assert.equal(deciding.ok, false);
    assert.equal(deciding.path, join(base, 'missing'));
    assert.match(!deciding.ok ? deciding.reason : '', /^statfs failed: ENOENT/);
    const model = createModel();
    model.engine = engine({ dockerRootDir: dockerRoot });
    const ev = evaluate({
      model,
      idle: { idle: true, busy: [] },
      disks: readings,
      minAgeMs: 1,
      diskHighPercent: 1,
      allowContainerdStoreRemoval: true,
      now: 0,
    });
    assert.equal(ev.decision.fire, false);
    assert.match(
      String(ev.decision.gates.disk.reason),
      /^disk usage of .*\/missing unknown: statfs failed: ENOENT/,
    );
  });
});
