import assert from 'node:assert/strict';
import { BURST_QUIET_MS } from '../../src/model/evictions/evictions.js';
import { describe, it } from 'node:test';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import { createModelLoop, type Tick } from '../../src/streams/model-loop.js';
import { container, FakePort, image } from './fake-port.js';
import { VirtualClock } from './virtual-time.js';

function start(opts: { bufferLimit?: number; resyncMs?: number; setup?: (port: FakePort) => void } = {}) {
  const clock = new VirtualClock();
  const port = new FakePort(() => clock.now());
  opts.setup?.(port);
  const ticks: Tick[] = [];
  // Ticks share the live model: keep what the sync state was at each tick.
  const inSync: boolean[] = [];
  const loop = createModelLoop({
    port,
    policy: ALL_STACKS_ARE_RUNS,
    scheduler: clock.scheduler,
    resyncMs: opts.resyncMs ?? 300_000,
    ...(opts.bufferLimit && { bufferLimit: opts.bufferLimit }),
    stream: { random: () => 0.5 },
  });
  const sub = loop.ticks$.subscribe((t) => {
    ticks.push(t);
    inSync.push(t.model.sync.inSync);
  });
  const kinds = () =>
    ticks.map((t) => (t.input.kind === 'event' ? `event:${t.input.event.action}` : t.input.kind));
  const model = () => ticks.at(-1)?.model;
  const syncAfter = (kind: string) => ticks.flatMap((x, i) => (x.input.kind === kind ? [inSync[i]] : []));
  return { clock, port, ticks, kinds, model, syncAfter, stop: () => sub.unsubscribe() };
}

describe('model loop (scripted port, virtual time)', () => {
  it('lists on connect, holds the events that arrive during the list, applies them after it', async () => {
    const t = start();
    const img = image(1);
    t.port.images.set(img.id, img);
    const release = t.port.hold();
    await t.clock.advanceTo(10);
    const c = container(1, img.id);
    t.port.containers.set(c.id, c);
    t.port.emit(t.port.event('container', 'create', c.id), t.port.event('container', 'start', c.id));
    await t.clock.advanceTo(20);
    assert.deepEqual(t.kinds(), ['stream.up'], 'nothing applied while the list runs');
    release();
    await t.clock.advanceTo(30);
    t.stop();
    assert.deepEqual(t.kinds().slice(0, 4), ['stream.up', 'snapshot', 'event:create', 'event:start']);
    const m = t.model();
    assert.equal(m?.sync.inSync, true);
    assert.equal(m?.containers.get(c.id)?.state, 'running');
  });

  it('applies an event replayed after a reconnect (since is inclusive) only once', async () => {
    const t = start();
    await t.clock.advanceTo(10);
    const e1 = t.port.event('container', 'die', 'c1');
    t.port.emit(e1);
    await t.clock.advanceTo(20);
    t.port.last.sub.error(Object.assign(new Error('closed'), { code: 'ECONNRESET' }));
    await t.clock.advanceTo(2000); // reconnected after 1 s, listed
    const e2 = t.port.event('container', 'die', 'c2');
    t.port.emit(e1, e2); // the engine replays from `since`, the last one seen included
    await t.clock.advanceTo(2100);
    t.stop();
    const dies = t.ticks
      .filter((x) => x.input.kind === 'event')
      .map((x) => x.input.kind === 'event' && x.input.event.actorId);
    assert.deepEqual(dies, ['c1', 'c2']);
  });

  it('a buffer overflow during a full list marks the model out of sync and lists again', async () => {
    const t = start({ bufferLimit: 2 });
    const release = t.port.hold();
    await t.clock.advanceTo(10);
    for (let i = 0; i < 5; i++) t.port.emit(t.port.event('container', 'create', `c${i}`));
    await t.clock.advanceTo(20);
    assert.ok(t.kinds().includes('overflow'));
    release();
    await t.clock.advanceTo(100);
    t.stop();
    const snaps = t.ticks.filter((x) => x.input.kind === 'snapshot');
    assert.equal(snaps.length, 2, 'listed again after the overflow');
    assert.equal(t.port.callsOf('info'), 2);
    const overflowNote = t.ticks.flatMap((x) => x.step.notes).find((n) => n.event === 'stream.overflow');
    assert.ok(overflowNote);
    assert.equal(t.model()?.sync.inSync, true);
  });

  it('the first list after an overflow does not claim to be in sync', async () => {
    const t = start({ bufferLimit: 1 });
    const release = t.port.hold();
    await t.clock.advanceTo(10);
    t.port.emit(t.port.event('container', 'create', 'a'), t.port.event('container', 'create', 'b'));
    await t.clock.advanceTo(20);
    release();
    await t.clock.advanceTo(100);
    t.stop();
    assert.deepEqual(t.syncAfter('snapshot'), [false, true]);
  });

  it('an inspect that started before a destroy does not bring the container back (tombstone)', async () => {
    const t = start();
    const img = image(1);
    const c = container(1, img.id);
    t.port.images.set(img.id, img);
    t.port.containers.set(c.id, c);
    await t.clock.advanceTo(10);
    assert.ok(t.model()?.containers.has(c.id));
    const release = t.port.hold();
    t.port.containers.set(c.id, { ...c, state: 'exited' });
    t.port.emit(t.port.event('container', 'die', c.id)); // wants an inspect: it answers "exited"…
    await t.clock.advanceTo(20);
    t.port.containers.delete(c.id);
    t.port.emit(t.port.event('container', 'destroy', c.id)); // …but the container is gone before it lands
    await t.clock.advanceTo(30);
    release();
    await t.clock.advanceTo(40);
    t.stop();
    assert.equal(t.model()?.containers.has(c.id), false);
    assert.ok(t.port.callsOf('inspectContainer') >= 1);
  });

  it('an image list that started before a delete does not bring the image back', async () => {
    const t = start();
    const a = image(1);
    const b = image(2);
    t.port.images.set(a.id, a);
    t.port.images.set(b.id, b);
    await t.clock.advanceTo(10);
    const release = t.port.hold();
    t.port.emit(t.port.event('image', 'tag', a.id, { name: 'app:new' })); // wants an image list
    await t.clock.advanceTo(20);
    t.port.images.delete(b.id);
    t.port.emit(t.port.event('image', 'delete', b.id));
    await t.clock.advanceTo(30);
    release();
    // External evictions are held for BURST_QUIET_MS to be matched with an engine prune event.
    await t.clock.advanceTo(40 + BURST_QUIET_MS);
    t.stop();
    assert.equal(t.model()?.images.has(b.id), false);
    const evictions = t.ticks.flatMap((x) => x.step.notes).filter((n) => n.event === 'eviction');
    assert.equal(evictions.length, 1, 'one eviction record, from the delete event');
  });

  it('a list that completes after the stream dropped does not mark the model in sync', async () => {
    const t = start();
    const release = t.port.hold();
    await t.clock.advanceTo(10);
    t.port.last.sub.error(Object.assign(new Error('closed'), { code: 'ECONNRESET' }));
    t.port.onConnect = () => {}; // the reconnect hangs
    release();
    await t.clock.advanceTo(500);
    assert.deepEqual(t.syncAfter('snapshot'), [false], 'blind while the stream is down');
    assert.equal(t.model()?.sync.connected, false);
    t.stop();
  });

  it('periodic resync repairs drift the events did not show', async () => {
    const t = start({ resyncMs: 60_000 });
    await t.clock.advanceTo(10);
    const img = image(7);
    t.port.images.set(img.id, img); // appeared without an event (as if the event had been dropped)
    await t.clock.advanceTo(61_000);
    t.stop();
    assert.ok(t.model()?.images.has(img.id));
    const resync = t.ticks
      .flatMap((x) => x.step.notes)
      .filter((n) => n.event === 'model.resync')
      .at(-1);
    assert.equal(resync?.reason, 'periodic');
    assert.equal(resync?.driftTotal, 1);
  });

  it('after teardown, a list in flight is not applied and starts no more work', async () => {
    const t = start();
    const release = t.port.hold();
    await t.clock.advanceTo(10);
    t.stop();
    const before = t.ticks.length;
    release();
    await t.clock.advanceTo(400_000);
    assert.equal(t.ticks.length, before);
    assert.equal(t.port.callsOf('info'), 1);
    assert.equal(t.port.conns.length, 1);
  });

  it('after teardown, the spaced-out retry of a failed full list does not fire', async () => {
    let infos = 0;
    const t = start({
      setup: (port) => {
        port.info = () => {
          infos++;
          return Promise.reject(new Error('engine busy'));
        };
      },
    });
    await t.clock.advanceTo(1000);
    assert.equal(infos, 1);
    t.stop();
    await t.clock.advanceTo(60_000);
    assert.equal(infos, 1, 'no list after the loop was torn down');
  });

  it('polls a converging service until it has converged, with no event to say so', async () => {
    const t = start();
    await t.clock.advanceTo(10);
    const svc = {
      id: 'svc1',
      name: 'run1_web',
      image: 'app:1',
      stack: 'run1',
      mode: 'replicated' as const,
      desired: 1,
      running: 0,
    };
    t.port.services = [svc];
    t.port.emit(t.port.event('service', 'create', 'svc1', { name: 'run1_web' }));
    await t.clock.advanceTo(3000);
    assert.equal(t.model()?.services.get('svc1')?.state, 'converging');
    t.port.services = [{ ...svc, running: 1 }]; // the task runs: swarm emits no event for it
    await t.clock.advanceTo(6000);
    t.stop();
    assert.equal(t.model()?.services.get('svc1')?.state, 'converged');
    const converged = t.ticks.flatMap((x) => x.step.notes).filter((n) => n.event === 'service.converged');
    assert.equal(converged.length, 1);
  });

  it('an image push (which adds a repo digest) asks for an image list', async () => {
    const t = start();
    const img = image(3);
    t.port.images.set(img.id, img);
    await t.clock.advanceTo(10);
    t.port.images.set(img.id, { ...img, digests: ['app@sha256:abc'] });
    t.port.emit(t.port.event('image', 'push', 'app:3', { name: 'app' }));
    await t.clock.advanceTo(20);
    t.stop();
    assert.deepEqual(t.model()?.images.get(img.id)?.digests, ['app@sha256:abc']);
  });

  it('a tag and a create show before their calls answer; a list that read the engine earlier is overtaken', async () => {
    const t = start();
    const a = image(1, ['app:1', 'x:1']);
    const b = image(2, []);
    t.port.images.set(a.id, a);
    t.port.images.set(b.id, b);
    await t.clock.advanceTo(10);
    const release = t.port.hold();
    t.port.images.set(a.id, { ...a, tags: ['app:1'] });
    t.port.emit(t.port.event('image', 'untag', a.id, { name: a.id })); // a list starts, reading this
    await t.clock.advanceTo(15);
    t.port.images.set(a.id, { ...a, tags: [] });
    t.port.images.set(b.id, { ...b, tags: ['app:1'] });
    t.port.emit(t.port.event('image', 'tag', b.id, { name: 'app:1' }));
    const c = { ...container(1, b.id, 'running'), labels: { composeProject: 'ci' } };
    t.port.containers.set(c.id, c);
    const attrs = { image: 'app:1', name: 'c1', 'com.docker.compose.project': 'ci' };
    t.port.emit(
      t.port.event('container', 'create', c.id, attrs),
      t.port.event('container', 'start', c.id, attrs),
    );
    await t.clock.advanceTo(20);
    const m = t.model();
    assert.deepEqual(m?.images.get(b.id)?.tags, ['app:1'], 'the tag, with every call held');
    assert.deepEqual(m?.images.get(a.id)?.tags, ['x:1'], 'app:1 taken from a; x:1 waits for the list');
    assert.equal(m?.containers.get(c.id)?.state, 'running');
    assert.equal(m?.containers.get(c.id)?.imageId, b.id);
    assert.ok(m?.liveStacks.has('ci'), 'its stack is live before the inspect answers');
    release();
    await t.clock.advanceTo(100);
    t.stop();
    assert.deepEqual(t.model()?.images.get(b.id)?.tags, ['app:1']);
    assert.deepEqual(t.model()?.images.get(a.id)?.tags, []);
    assert.ok(t.port.callsOf('listImages') >= 2, 'listed again after the tag');
  });

  it('an image create event (API >= 1.46) brings a built, untagged image in with one inspect, no list', async () => {
    const t = start();
    await t.clock.advanceTo(10);
    const lists = t.port.callsOf('listImages');
    const built = { ...image(7), tags: [] };
    t.port.images.set(built.id, built);
    t.port.emit(t.port.event('image', 'create', built.id));
    await t.clock.advanceTo(20);
    t.stop();
    assert.ok(t.model()?.images.has(built.id), 'in the model before any list');
    assert.equal(t.port.callsOf('listImages'), lists, 'no list asked for');
    assert.equal(t.port.callsOf('inspectImage'), 1);
  });
});
