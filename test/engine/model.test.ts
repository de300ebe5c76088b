/**
 * Issue 2 on a real engine: after builds, tags, removals, containers, compose-labelled containers and a
 * swarm stack deployed, scaled, updated and removed, the agent's live model equals what the engine lists;
 * `status --json` is busy naming the stack while it runs and idle once it is gone and the quiet period
 * has passed. (Daemon restarts and the 10,000-event burst are in faults.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestAgent, type TestAgent } from './agent-under-test.js';
import { type Engine, run, startEngine, waitFor } from './harness.js';
import { waitForModelToMatch } from './model-vs-engine.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** What the model showed on the tick of a tag or create event itself, before any list or inspect answered. */
type AtOwnTick =
  | { kind: 'tag'; image: string; ref: string; known: boolean; on: boolean; elsewhere: string[] }
  | {
      kind: 'create';
      id: string;
      image: string;
      container?: { imageId: string; state: string; stack?: string };
    };

function watchOwnTicks(t: TestAgent): { seen: AtOwnTick[]; stop: () => void } {
  const seen: AtOwnTick[] = [];
  const sub = t.agent.ticks$.subscribe(({ input, model }) => {
    if (input.kind !== 'event') return;
    const e = input.event;
    if (e.type === 'image' && e.action === 'tag') {
      const ref = e.attributes.name ?? '';
      seen.push({
        kind: 'tag',
        image: e.actorId,
        ref,
        known: model.images.has(e.actorId),
        on: model.images.get(e.actorId)?.tags.includes(ref) ?? false,
        elsewhere: [...model.images.values()]
          .filter((i) => i.id !== e.actorId && i.tags.includes(ref))
          .map((i) => i.id),
      });
    } else if (e.type === 'container' && e.action === 'create') {
      const c = model.containers.get(e.actorId);
      seen.push({
        kind: 'create',
        id: e.actorId,
        image: e.attributes.image ?? '',
        ...(c && { container: { imageId: c.imageId, state: c.state, ...(c.stack && { stack: c.stack }) } }),
      });
    }
  });
  return { seen, stop: () => sub.unsubscribe() };
}

interface StatusDoc {
  idle: boolean;
  busy: Array<{ reason: string; stack?: string }>;
  sync: { inSync: boolean };
  stacks: Array<{ name: string; live: boolean }>;
}

describe('live model against a real engine (issue 2)', { timeout: 300_000 }, () => {
  let engine: Engine;
  let t: TestAgent;
  let tmp: string;

  const status = async (): Promise<StatusDoc> => {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/bin.ts', 'status', '--json', '--quiet-period', '2s'],
      {
        cwd: REPO_ROOT,
        env: engine.childEnv({ LAYERWARDEN_STATE_FILE: path.join(tmp, 'cli-state.json') }) as Record<
          string,
          string
        >,
        timeoutMs: 60_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusDoc;
  };
  const matches = (timeoutMs = 30_000) => waitForModelToMatch(engine, () => t.agent.model(), timeoutMs);

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lw-model-'));
    engine = await startEngine();
    await engine.baseImage();
    await engine.swarmInit();
    // No periodic resync (1 h): agreement must come from the events and the work they ask for.
    t = startTestAgent({ dockerHost: engine.dockerHost, stateFile: path.join(tmp, 'state.json') });
    await t.waitForRecord((r) => r.event === 'model.resync', 30_000, 'first list');
  });

  after(async () => {
    try {
      await t?.stop();
    } finally {
      await engine?.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('images: build, tag, push, untag, rmi — tags, digests and layers as the engine lists them', async () => {
    const reg = engine.registry;
    const a = await engine.buildImage(`${reg}/lw/a:1`, [
      { file: 'shared.bin', bytes: 2048 },
      { file: 'a.bin', bytes: 1024 },
    ]);
    await engine.dockerOk(['tag', `${reg}/lw/a:1`, `${reg}/lw/a:2`]);
    await engine.push(`${reg}/lw/a:1`); // adds a repo digest to the image
    const b = await engine.buildImage('lw/b:1', [
      { file: 'shared.bin', bytes: 2048 },
      { file: 'b.bin', bytes: 512 },
    ]);
    await engine.dockerOk(['rmi', `${reg}/lw/a:2`]); // untag only: another ref remains
    await t.sentinel(engine);
    await matches();
    const m = t.agent.model()!;
    assert.deepEqual(m.images.get(a)?.tags, [`${reg}/lw/a:1`]);
    assert.equal(m.images.get(a)?.digests.length, 1, 'the digest recorded by the push');
    const shared = m.images.get(a)?.layers[1] as string;
    assert.equal(m.layers.get(shared), 2, 'layer shared by a and b counted twice');
    await engine.dockerOk(['rmi', 'lw/b:1']);
    await t.sentinel(engine);
    await matches();
    assert.equal(t.agent.model()?.images.has(b), false);
    assert.equal(t.agent.model()?.layers.get(shared), 1);
    // An external eviction is logged once its burst is quiet (BURST_QUIET_MS), to tell a plain delete
    // from an engine prune: wait for it, then make sure there is exactly one.
    await waitFor(() => t.recordsOf('eviction').some((r) => r.image === b), 10_000, {
      message: 'eviction of b',
    });
    const evictions = t.recordsOf('eviction').filter((r) => r.image === b);
    assert.equal(evictions.length, 1, 'one eviction record for the removed image');
    assert.equal(evictions[0]?.by, 'external');
  });

  it('containers run, stopped, removed, and compose-labelled ones as a stack', async () => {
    await engine.dockerOk(['run', '-d', '--network', 'none', '--name', 'lw-long', 'lw-base']);
    await engine.dockerOk(['run', '--network', 'none', '--name', 'lw-done', 'lw-base', 'true']);
    await engine.dockerOk(['create', '--network', 'none', '--name', 'lw-created', 'lw-base']);
    const label = ['--label', 'com.docker.compose.project=proj1'];
    await engine.dockerOk(['run', '-d', '--network', 'none', ...label, '--name', 'proj1-web-1', 'lw-base']);
    await engine.dockerOk(['run', '-d', '--network', 'none', ...label, '--name', 'proj1-db-1', 'lw-base']);
    await t.sentinel(engine);
    await matches();
    assert.deepEqual(t.agent.model()?.liveStacks.get('proj1')?.kind, 'compose');
    assert.equal(
      t.agent.idle()?.busy.some((b) => b.reason === 'run-stack-live' && 'stack' in b && b.stack === 'proj1'),
      true,
    );

    await engine.dockerOk(['stop', '-t', '1', 'proj1-web-1', 'proj1-db-1', 'lw-long']);
    await engine.dockerOk(['rm', 'proj1-web-1', 'lw-done', 'lw-created']);
    await t.sentinel(engine);
    await matches();
    assert.equal(t.agent.model()?.liveStacks.has('proj1'), false, 'no live container left in proj1');
    await engine.dockerOk(['rm', 'proj1-db-1', 'lw-long']);
    await t.sentinel(engine);
    await matches();
  });

  it('a tag and a create show on the event’s own tick, before their list or inspect answers', async () => {
    const watch = watchOwnTicks(t);
    try {
      const base = await engine.baseImage();
      await engine.dockerOk(['tag', 'lw-base', 'lw/moving:1']);
      // A build ends with a tag on an image the model has not listed yet.
      const other = await engine.buildImage('lw/other:1', [{ file: 'other.bin', bytes: 256 }]);
      await t.sentinel(engine);
      await matches();
      await engine.dockerOk(['tag', 'lw/other:1', 'lw/moving:1']); // moves: no untag for lw-base
      const label = ['--label', 'com.docker.compose.project=proj9'];
      const none = ['create', '--network', 'none'];
      const ids = {
        repo: await engine.dockerOk([...none, ...label, '--name', 'lw-by-repo', 'lw-base']),
        id: await engine.dockerOk([...none, '--name', 'lw-by-id', base]),
        prefix: await engine.dockerOk([...none, '--name', 'lw-by-prefix', base.slice(7, 19)]),
        ref: await engine.dockerOk([...none, '--name', 'lw-by-ref', 'lw/moving:1']),
      };
      await t.sentinel(engine);
      await matches();

      const tags = watch.seen.filter((x) => x.kind === 'tag');
      assert.deepEqual(
        tags.map((x) => [x.ref, x.image === other ? 'other' : x.image === base ? 'base' : x.image]),
        [
          ['lw/moving:1', 'base'],
          ['lw/other:1', 'other'],
          ['lw/moving:1', 'other'],
        ],
      );
      for (const x of tags) {
        assert.deepEqual(x.elsewhere, [], `${x.ref} on no other image at its tag's tick`);
        if (x.known) assert.ok(x.on, `${x.ref} on its image at its tag's tick`);
      }
      assert.equal(tags[2]?.known, true);
      const creates = new Map(watch.seen.flatMap((x) => (x.kind === 'create' ? [[x.id, x]] : [])));
      const expect = { repo: base, id: base, prefix: base, ref: other };
      for (const [how, id] of Object.entries(ids)) {
        const c = creates.get(id);
        assert.equal(c?.container?.state, 'created', `${how}: there at its create's tick`);
        assert.equal(
          c?.container?.imageId,
          expect[how as keyof typeof expect],
          `${how}: ${c?.image} resolved`,
        );
      }
      assert.equal(creates.get(ids.repo)?.container?.stack, 'proj9');
      await engine.dockerOk(['rm', ...Object.values(ids)]);
      await engine.dockerOk(['rmi', 'lw/moving:1', 'lw/other:1']);
      await t.sentinel(engine);
      await matches();
    } finally {
      watch.stop();
    }
  });

  it('a swarm stack deployed, scaled, updated and removed; status busy naming it, then idle', async () => {
    const ref1 = `${engine.registry}/lw/svc:1`;
    const ref2 = `${engine.registry}/lw/svc:2`;
    await engine.buildImage(ref1, [{ file: 'svc.bin', bytes: 1024, seed: 'v1' }]);
    await engine.buildImage(ref2, [{ file: 'svc.bin', bytes: 1024, seed: 'v2' }]);
    await engine.push(ref1);
    await engine.push(ref2);
    const compose = (ref: string) =>
      `version: "3.8"\nservices:\n  web:\n    image: ${ref}\n    deploy:\n      replicas: 1\n      update_config:\n        monitor: 1s\n`;
    await engine.deployStack('run1', compose(ref1));
    await engine.waitForStack('run1');
    await matches(60_000);
    assert.equal(t.agent.model()?.liveStacks.get('run1')?.kind, 'swarm');

    const busy = await status();
    assert.equal(busy.idle, false);
    assert.ok(
      busy.busy.some((b) => b.reason === 'run-stack-live' && b.stack === 'run1'),
      `busy naming run1: ${JSON.stringify(busy.busy)}`,
    );

    await engine.dockerOk(['service', 'scale', '--detach=false', 'run1_web=2']);
    await engine.waitForStack('run1');
    await matches(60_000);
    assert.equal([...t.agent.model()!.services.values()][0]?.desired, 2);

    await engine.dockerOk(['service', 'update', '--detach=false', '--image', ref2, 'run1_web']);
    await engine.waitForStack('run1');
    await matches(60_000);
    const converged = t.recordsOf('service.converged').filter((r) => r.service === 'run1_web');
    assert.ok(converged.length >= 2, 'converged after the deploy and again after the scale or update');

    await engine.removeStack('run1');
    await t.sentinel(engine);
    await matches(60_000);
    assert.equal(t.agent.model()?.liveStacks.has('run1'), false);
    assert.equal(t.agent.model()?.services.size, 0);

    // The one-shot status: idle once the quiet period (2 s) after the last start has passed.
    const t0 = Date.now();
    const idle = await waitFor(
      async () => {
        const doc = await status();
        return doc.idle ? doc : undefined;
      },
      60_000,
      { intervalMs: 500, message: 'status idle after stack rm' },
    );
    assert.equal(idle.sync.inSync, true);
    assert.ok(Date.now() - t0 < 30_000);
    // The agent says the same, on its own (its quiet-period timer, no event needed).
    await waitFor(() => t.agent.idle()?.idle, 30_000, { message: 'agent idle' }).catch((e: Error) => {
      throw new Error(`${e.message}; busy: ${JSON.stringify(t.agent.idle()?.busy)}`);
    });
    assert.ok(t.recordsOf('host.idle').length > 0);
  });
});
