import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_STACKS_ARE_RUNS } from '../../src/model/services/stacks.js';
import { LIST_RETRY_MS, ListThenWatch, type Tick } from '../../src/streams/list-then-watch.js';
import { FakePort, image } from './fake-port.js';
import { VirtualClock } from './virtual-time.js';

/** One run over a scripted port whose connection opens when the test says. */
function run(bufferLimit = 10) {
  const clock = new VirtualClock();
  const port = new FakePort(() => clock.now());
  let open: (() => void) | undefined;
  port.onConnect = (c) => {
    open = () => c.sub.next({ kind: 'open' });
  };
  const ticks: Tick[] = [];
  const lw = new ListThenWatch(
    {
      port,
      policy: ALL_STACKS_ARE_RUNS,
      scheduler: clock.scheduler,
      resyncMs: 300_000,
      bufferLimit,
      stream: { random: () => 0.5 },
    },
    { next: (t) => ticks.push(t) },
  );
  lw.start();
  const kinds = () => ticks.map((t) => t.input.kind);
  return { clock, port, lw, kinds, open: () => open?.() };
}

describe('list-then-watch, by its named states', () => {
  it('connecting → listing (events held) → watching; overflowed past the limit, then listed again', async () => {
    const t = run(1);
    await t.clock.advanceTo(5);
    assert.equal(t.lw.state(), 'connecting');
    const release = t.port.hold();
    t.open();
    await t.clock.advanceTo(10);
    assert.equal(t.lw.state(), 'listing');
    t.port.emit(t.port.event('network', 'create', 'n1'));
    assert.equal(t.lw.depth(), 2, 'the list in flight and the event it holds');
    t.port.emit(t.port.event('network', 'create', 'n2'));
    assert.equal(t.lw.state(), 'overflowed');
    assert.deepEqual(t.kinds(), ['stream.up', 'overflow']);
    release();
    await t.clock.advanceTo(20);
    assert.deepEqual(t.kinds().slice(0, 4), ['stream.up', 'overflow', 'snapshot', 'event']);
    await t.clock.advanceTo(30);
    assert.equal(t.kinds().filter((k) => k === 'snapshot').length, 2, 'the overflow asked for a second list');
    assert.equal(t.lw.state(), 'watching');
    t.lw.close();
  });

  it('a failed full list: retry-wait, events applied meanwhile, then refresh.failed and a list again', async () => {
    const t = run();
    t.open();
    await t.clock.advanceTo(10);
    assert.equal(t.lw.state(), 'watching');
    const listImages = t.port.listImages.bind(t.port);
    t.port.listImages = async () => {
      throw new Error('engine said 500');
    };
    t.port.send('not json\n'); // a malformed line asks for a full list
    await t.clock.advanceTo(20);
    assert.equal(t.lw.state(), 'retry-wait');
    t.port.emit(t.port.event('network', 'create', 'n1'));
    assert.equal(t.kinds().at(-1), 'event', 'applied at once while waiting');
    t.port.listImages = listImages;
    t.port.images.set(image(1).id, image(1));
    await t.clock.advanceTo(10 + LIST_RETRY_MS - 1); // it failed at 10
    assert.equal(t.kinds().includes('refresh.failed'), false, `spaced out: ${t.kinds()}`);
    await t.clock.advanceTo(40 + LIST_RETRY_MS);
    assert.deepEqual(t.kinds().slice(-2), ['refresh.failed', 'snapshot']);
    assert.equal(t.lw.model.images.has(image(1).id), true);
    assert.equal(t.lw.state(), 'watching');
    t.lw.close();
  });
});
