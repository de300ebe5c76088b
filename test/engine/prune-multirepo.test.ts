/**
 * An untagged image whose digest refs span two repositories (one image pulled by digest under two
 * names, as swarm leaves it): dockerd refuses to delete it by id without force, so the prune removes it
 * by its refs. Through the fault proxy, which records every request: none may carry `force`. Figures
 * are printed as diagnostics (`# figures {...}`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { pruneNow } from '../../src/agent/prune-now.js';
import { pruneSettings } from '../../src/cli/prune-config.js';
import { idlePolicy } from '../../src/cli/shared.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createEnginePort } from '../../src/docker/engine-port.js';
import type { DockerPort } from '../../src/docker/port.js';
import { loadState } from '../../src/state/state-file.js';
import { FaultProxy } from './fault-proxy.js';
import { type Engine, startEngine } from './harness.js';
import { cli, exists, H, imageId, writeAgedState } from './prune-kit.js';

type Rec = Record<string, unknown>;
const QUIET = '1s';
/** Past the quiet period of the last pull the test made. */
const quiet = () => sleep(1_100);
/** A request that asks the engine to force anything, or to take volumes along. */
const FORCING = /[?&](force|v|noprune)=/i;
/** The image DELETEs among the requests, as the id or ref they named. */
const imageDeletes = (wire: string[]) =>
  wire
    .filter((w) => w.startsWith('DELETE ') && w.includes('/images/'))
    .map((w) => decodeURIComponent(w.replace(/^DELETE \/v[\d.]+\/images\//, '').split('?')[0] ?? ''));

describe('prune of an image referenced from two repositories (real engine)', { timeout: 300_000 }, () => {
  let engine: Engine;
  let tmp: string;
  let proxy: FaultProxy;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-prune-multirepo-'));
    engine = await startEngine();
    proxy = await FaultProxy.start(path.join(tmp, 'proxy.sock'), engine.socketPath);
  });

  after(async () => {
    try {
      await proxy?.close();
    } finally {
      await engine?.stop();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  });

  /**
   * A tiny image pushed under two repository names, removed, then pulled back by digest under both:
   * no tag, two digest refs (sorted, as the executor sends them).
   */
  async function twoRepos(name: string): Promise<{ id: string; refs: [string, string] }> {
    const [a, b] = [`${engine.registry}/lw/${name}-a`, `${engine.registry}/lw/${name}-b`];
    await engine.buildImage(`${a}:1`, [{ file: `${name}.bin`, bytes: 4096, seed: name }]);
    await engine.dockerOk(['tag', `${a}:1`, `${b}:1`]);
    const [da, db] = [await engine.push(`${a}:1`), await engine.push(`${b}:1`)];
    assert.equal(da, db, 'one manifest under both names');
    await engine.dockerOk(['rmi', `${a}:1`, `${b}:1`]);
    const refs: [string, string] = [`${a}@${da}`, `${b}@${db}`];
    for (const ref of refs) await engine.dockerOk(['pull', ref]);
    const id = await imageId(engine, refs[0]);
    const [inspect] = JSON.parse(await engine.dockerOk(['image', 'inspect', id])) as Array<Rec>;
    assert.deepEqual(inspect?.RepoTags, [], 'no tag');
    assert.deepEqual([...(inspect?.RepoDigests as string[])].sort(), refs);
    return { id, refs };
  }

  it('is removed by its refs: the image is gone, one eviction by layerwarden, none for the untag, nothing forced', async (tc) => {
    const img = await twoRepos('mr');
    // The limit this closes: by id, without force, the engine refuses it.
    const byId = await engine.api(`/v1.41/images/${img.id}`, { method: 'DELETE' });
    assert.equal(byId.status, 409);
    assert.match(byId.body, /\(must be forced\) - image is referenced in multiple repositories/);
    const state = path.join(tmp, 'state-1.json');
    await writeAgedState(engine, state, { [img.id]: 25 * H });
    await quiet();

    const wire0 = proxy.requests.length;
    const started = performance.now();
    const r = await cli(engine, [
      'prune',
      '--now',
      '--json',
      '--disk-high',
      '1',
      '--docker-host',
      proxy.dockerHost,
      '--state-file',
      state,
      '--quiet-period',
      QUIET,
    ]);
    const ms = performance.now() - started;
    const doc = r.json();
    const wire = proxy.requests.slice(wire0);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (doc.removed as Rec[]).map((x) => x.id),
      [img.id],
    );
    assert.equal(await exists(engine, 'image', img.id), false, 'the image is gone');
    assert.deepEqual(imageDeletes(wire), img.refs, 'one DELETE per ref, in turn; none by id');
    assert.deepEqual(
      wire.filter((w) => FORCING.test(w)),
      [],
      'no request carries force',
    );
    const removed = r.records.filter((x) => x.event === 'prune.removed' && x.id === img.id);
    assert.equal(removed.length, 1);
    assert.deepEqual(removed[0]?.byRefs, img.refs);
    assert.ok((removed[0]?.bytes as number) >= 4096, `freed ${removed[0]?.bytes}`);
    const evictions = r.records.filter((x) => x.event === 'eviction' && x.image === img.id);
    assert.equal(evictions.length, 1, 'one eviction: none for the untag of the first ref');
    assert.equal(evictions[0]?.by, 'layerwarden');
    assert.deepEqual([...(evictions[0]?.refs as string[])].sort(), img.refs);
    tc.diagnostic(
      `figures ${JSON.stringify({ byIdAnswer: byId.status, deletes: imageDeletes(wire).length, requests: wire.length, bytes: removed[0]?.bytes, pruneNowMs: Math.round(ms) })}`,
    );
  });

  it('the last ref refused while a container holds the image (409): it stays with that ref, logged, nothing forced', async () => {
    const img = await twoRepos('mr2');
    const state = path.join(tmp, 'state-2.json');
    await writeAgedState(engine, state, { [img.id]: 25 * H });
    await quiet();
    const { config } = resolveConfig(
      { dockerHost: proxy.dockerHost, stateFile: state, diskHigh: '1', quietPeriod: QUIET, logLevel: 'info' },
      {},
    );
    const records: Rec[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => records.push(JSON.parse(line) as Rec) },
    );
    const real = createEnginePort(proxy.dockerHost);
    let holder: string | undefined;
    const port: DockerPort = {
      ...real,
      removeImage: async (idOrRef) => {
        // Between the executor's re-check and its last DELETE (the model's view is already taken).
        if (idOrRef === img.refs[1])
          holder = await engine.dockerOk(['create', '--network', 'none', img.id, 'true']);
        return real.removeImage(idOrRef);
      },
    };
    const wire0 = proxy.requests.length;
    const { state: loaded } = await loadState(state, Date.now());
    const { result } = await pruneNow({
      config,
      settings: pruneSettings(config),
      port,
      logger,
      state: loaded,
      policy: idlePolicy(config),
      dryRun: false,
    });
    const wire = proxy.requests.slice(wire0);
    assert.equal(result?.outcome, 'done');
    assert.deepEqual(result?.removed, []);
    assert.match(
      String(result?.skipped[0]?.reason),
      /^in use: conflict: unable to remove repository reference .* \(must force\) - container \w+ is using its referenced image/,
    );
    const [inspect] = JSON.parse(await engine.dockerOk(['image', 'inspect', img.id])) as Array<Rec>;
    assert.deepEqual(inspect?.RepoDigests, [img.refs[1]], 'it keeps the ref not removed');
    const skipped = records.find((x) => x.event === 'prune.skipped' && x.id === img.id);
    assert.deepEqual([skipped?.reason, skipped?.untagged], ['in use', [img.refs[0]]]);
    assert.equal(records.filter((x) => x.event === 'eviction' && x.image === img.id).length, 0);
    assert.deepEqual(imageDeletes(wire), img.refs);
    assert.deepEqual(
      wire.filter((w) => FORCING.test(w)),
      [],
      'no request carries force',
    );
    if (holder) await engine.dockerOk(['rm', holder]);
  });
});
