/**
 * The containerd image store's gate on a real engine. The private engine is dockerd 20.10 on its
 * graphdriver store; the proxy in front of it changes only what `/info` says (`DriverStatus` as the
 * containerd store reports it), nothing else. What this proves is the agent's own behaviour on an
 * engine that says it uses that store: it observes and plans as usual and removes nothing unless the
 * operator opts in. The store's own semantics are read from moby's source (docs/containerd-store.md).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tinyTar } from './event-load.js';
import { FaultProxy } from './fault-proxy.js';
import { type Engine, startEngine } from './harness.js';
import { cli, exists, H, WATCH_FAST_BOUNDARIES, writeAgedState } from './prune-kit.js';

type Rec = Record<string, unknown>;
const QUIET = '1s';
const STORE_REASON =
  /^image store containerd: removal off until the suite has run on a real engine with this store \(--allow-containerd-store-removal opts in/;
const byEvent = (records: Rec[], event: string) => records.filter((r) => r.event === event);

describe('the containerd image store: removal off unless opted in', { timeout: 300_000 }, () => {
  let engine: Engine;
  let tmp: string;
  let tar: string;
  let proxy: FaultProxy;
  let containerdRoot: string;
  let n = 0;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-ctrd-'));
    containerdRoot = path.join(tmp, 'containerd-root');
    await mkdir(containerdRoot);
    engine = await startEngine();
    tar = await tinyTar(tmp);
    proxy = await FaultProxy.start(path.join(tmp, 'proxy.sock'), engine.socketPath);
    proxy.reportImageStore = 'containerd';
  });

  after(async () => {
    try {
      await proxy?.close();
    } finally {
      await engine?.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  });

  /** An untagged image (a `docker import` with no ref) that the state file says is 30 h untouched. */
  const agedCandidate = async (label: string) => {
    const id = await engine.dockerOk(['import', '--change', `LABEL lw.case=${label}`, tar]);
    const state = path.join(tmp, `state-${++n}.json`);
    await writeAgedState(engine, state, { [id]: 30 * H });
    await sleep(1_100); // past the quiet period of the import
    return { id, state };
  };
  /** The case's settings, on the engine's own (graphdriver) face. */
  const settings = (state: string) => ['--state-file', state, '--quiet-period', QUIET, '--disk-high', '1'];
  /** The same settings through the proxy that says containerd, with that store's root. */
  const through = (state: string) => [
    '--docker-host',
    proxy.dockerHost,
    '--containerd-root',
    containerdRoot,
    ...settings(state),
  ];

  it('status and plan say which store and why nothing would be removed; prune --now keeps the candidate, then removes it with the opt-in', async () => {
    const { id, state } = await agedCandidate('now');

    // The same engine, its graphdriver face: this candidate would go.
    const bare = await cli(engine, ['plan', '--json', ...settings(state)]);
    assert.equal(bare.code, 0, bare.stderr);
    const barePlan = bare.json();
    assert.equal(barePlan.wouldFire, true, JSON.stringify(barePlan.reasons));
    assert.ok((barePlan.candidates as Rec[]).some((c) => c.id === id));

    const status = await cli(engine, ['status', '--json', ...through(state)]);
    assert.equal(status.code, 0, status.stderr);
    const doc = status.json();
    assert.equal((doc.engine as Rec).imageStore, 'containerd');
    assert.equal((doc.removal as Rec).allowed, false);
    assert.match(String((doc.removal as Rec).reason), STORE_REASON);
    const roles = (doc.disks as Rec[]).map((d) => [d.role, d.path, d.ok]);
    assert.deepEqual(roles, [
      ['docker-root', (doc.engine as Rec).rootDir, true],
      ['containerd-root', containerdRoot, true],
    ]);
    const text = await cli(engine, ['status', ...through(state)]);
    assert.match(text.stdout, /containerd image store/);
    assert.match(text.stdout, /^prune: nothing will be removed: image store containerd: removal off/m);

    const plan = await cli(engine, ['plan', '--json', ...through(state)]);
    const p = plan.json();
    assert.equal(p.wouldFire, false);
    assert.ok(
      (p.candidates as Rec[]).some((c) => c.id === id),
      'planned as usual',
    );
    assert.equal((p.reasons as string[]).length, 1);
    assert.match(String((p.reasons as string[])[0]), STORE_REASON);

    const kept = await cli(engine, ['prune', '--now', '--json', ...through(state)]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.json().fired, false);
    const [decision] = byEvent(kept.records, 'prune.decision');
    const gates = decision?.gates as Record<string, Rec>;
    assert.deepEqual(
      [gates.idle?.pass, gates.disk?.pass, gates.candidates?.pass, gates.store?.pass],
      [true, true, true, false],
      'every gate but the store passed',
    );
    assert.equal(gates.store?.imageStore, 'containerd');
    assert.equal(gates.store?.allowContainerdStoreRemoval, false);
    assert.deepEqual(decision?.reasons, [gates.store?.reason]);
    assert.deepEqual(
      (decision?.disks as Rec[]).map((d) => d.role),
      ['docker-root', 'containerd-root'],
      'each filesystem read, logged',
    );
    assert.equal(byEvent(kept.records, 'prune.removed').length, 0);
    assert.ok(await exists(engine, 'image', id), 'kept');

    const removed = await cli(engine, [
      'prune',
      '--now',
      '--json',
      '--allow-containerd-store-removal',
      ...through(state),
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    const r = removed.json();
    assert.equal(r.fired, true, JSON.stringify(r.reasons));
    assert.equal((r.gates as Record<string, Rec>).store?.pass, true);
    assert.ok((r.removed as Rec[]).some((x) => x.id === id));
    assert.equal(await exists(engine, 'image', id), false, 'removed with the opt-in');
  });

  it("watch's boundary prune keeps it too; agent.start names the store", async () => {
    const { id, state } = await agedCandidate('watch');
    const r = await cli(engine, [...WATCH_FAST_BOUNDARIES, ...through(state)]);
    assert.equal(r.code, 0, r.stderr);
    const [start] = byEvent(r.records, 'agent.start');
    assert.equal(start?.imageStore, 'containerd');
    assert.equal(start?.storeRemoval, false);
    assert.match(
      String(start?.msg),
      /containerd image store, removal off \(--allow-containerd-store-removal opts in\)/,
    );
    const decisions = byEvent(r.records, 'prune.decision');
    assert.ok(decisions.length >= 1, 'a boundary evaluated');
    for (const d of decisions) {
      assert.equal(d.fire, false);
      assert.ok(
        (d.candidates as Rec[]).some((c) => c.id === id),
        'the candidate is planned',
      );
      assert.match(String((d.reasons as string[])[0]), STORE_REASON);
    }
    assert.equal(byEvent(r.records, 'prune.removed').length, 0);
    assert.ok(await exists(engine, 'image', id), 'kept through every boundary');
  });
});
