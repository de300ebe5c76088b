import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Subscription } from 'rxjs';
import { nanoToSince } from '../../src/streams/decode-event.js';
import { engineEvents$, type StreamSignal } from '../../src/streams/engine-events.js';
import { FakePort, refused, wireLine } from './fake-port.js';
import { VirtualClock } from './virtual-time.js';

const NO_JITTER = () => 0.5;

function start(opts: { silenceMs?: number; pingTimeoutMs?: number; maxLineBytes?: number } = {}) {
  const clock = new VirtualClock();
  const port = new FakePort(() => clock.now());
  const signals: Array<StreamSignal & { at: number }> = [];
  let sub: Subscription | undefined;
  const run = () => {
    sub = engineEvents$({
      port,
      scheduler: clock.scheduler,
      random: NO_JITTER,
      silenceMs: opts.silenceMs ?? 30_000,
      pingTimeoutMs: opts.pingTimeoutMs ?? 5_000,
      ...(opts.maxLineBytes && { maxLineBytes: opts.maxLineBytes }),
    }).subscribe((s) => signals.push({ ...s, at: clock.now() }));
  };
  const downs = () => signals.filter((s) => s.kind === 'down');
  return { clock, port, signals, downs, run, stop: () => sub?.unsubscribe() };
}

describe('engineEvents$ (scripted port, virtual time)', () => {
  it('backs off 1 s, 2 s, 4 s … up to 30 s while the engine refuses connections', async () => {
    const t = start();
    t.port.onConnect = (c) => c.sub.error(refused());
    t.run();
    await t.clock.advanceTo(200_000);
    t.stop();
    const delays = t.downs().map((d) => (d.kind === 'down' ? d.retryInMs : -1));
    assert.deepEqual(delays.slice(0, 8), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    assert.deepEqual(
      t.port.conns.slice(0, 8).map((c) => c.at),
      [0, 1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000],
    );
    assert.ok(t.downs().every((d) => d.kind === 'down' && d.code === 'ECONNREFUSED'));
  });

  it('jitters each delay within ±20 % of its base', async () => {
    const clock = new VirtualClock();
    const port = new FakePort(() => clock.now());
    port.onConnect = (c) => c.sub.error(refused());
    const seen: number[] = [];
    let r = 0;
    const randoms = [0, 0.999, 0.25, 0.75];
    const sub = engineEvents$({
      port,
      scheduler: clock.scheduler,
      random: () => randoms[r++ % 4] as number,
    }).subscribe((s) => s.kind === 'down' && seen.push(s.retryInMs));
    await clock.advanceTo(20_000);
    sub.unsubscribe();
    const bases = [1000, 2000, 4000, 8000];
    seen.slice(0, 4).forEach((d, i) => {
      const base = bases[i] as number;
      assert.ok(d >= base * 0.8 && d <= base * 1.2, `${d} within ±20 % of ${base}`);
    });
    assert.equal(seen[0], 800);
  });

  it('resets the backoff after a connection stayed up for the healthy period, not before', async () => {
    const t = start();
    let n = 0;
    // Three refusals, then a connection that lives 10 s, then one that lives 61 s, each ended by a reset.
    t.port.onConnect = (c) => {
      n++;
      if (n <= 3) return c.sub.error(refused());
      c.sub.next({ kind: 'open' });
      const life = n === 4 ? 10_000 : 61_000;
      t.clock.scheduler.schedule(
        () => c.sub.error(Object.assign(new Error('reset'), { code: 'ECONNRESET' })),
        life,
      );
    };
    t.run();
    await t.clock.advanceTo(120_000);
    t.stop();
    const delays = t.downs().map((d) => (d.kind === 'down' ? d.retryInMs : -1));
    // 1, 2, 4 s for the refusals; 8 s after the short-lived connection; back to 1 s after the healthy one.
    assert.deepEqual(delays.slice(0, 5), [1000, 2000, 4000, 8000, 1000]);
    assert.equal(t.signals.filter((s) => s.kind === 'up').length >= 2, true);
  });

  it('pings after silence and keeps a quiet stream whose engine answers', async () => {
    const t = start({ silenceMs: 30_000, pingTimeoutMs: 5_000 });
    t.run();
    await t.clock.advanceTo(100_000);
    t.stop();
    assert.equal(t.downs().length, 0);
    assert.equal(t.port.conns.length, 1);
    assert.equal(t.port.callsOf('ping'), 3, 'pinged at 30, 60 and 90 s');
  });

  it('bytes on the stream hold the watchdog off', async () => {
    const t = start({ silenceMs: 30_000 });
    t.run();
    for (let s = 10_000; s <= 100_000; s += 10_000) {
      await t.clock.advanceTo(s);
      t.port.emit(t.port.event('network', 'create', `n${s}`));
    }
    t.stop();
    assert.equal(t.port.callsOf('ping'), 0);
  });

  it('recycles a silent stream when the ping hangs: within silence + ping timeout', async () => {
    const t = start({ silenceMs: 30_000, pingTimeoutMs: 5_000 });
    t.port.ping$ = 'hang';
    t.run();
    await t.clock.advanceTo(40_000);
    t.stop();
    const [down] = t.downs();
    assert.ok(down && down.kind === 'down');
    assert.equal(down.at, 35_000);
    assert.match(down.reason, /silent for 30000 ms and ping timed out/);
    assert.equal(t.port.conns.length, 2, 'reconnected after the backoff');
    assert.equal(t.port.conns[0]?.closed, true, 'the dead connection was closed');
  });

  it('recycles a connection whose request is never answered (a frozen daemon accepts, then says nothing)', async () => {
    const t = start({ silenceMs: 30_000, pingTimeoutMs: 5_000 });
    t.port.ping$ = 'hang';
    t.port.onConnect = () => {}; // no `open`, ever
    t.run();
    await t.clock.advanceTo(36_000);
    t.stop();
    const [down] = t.downs();
    assert.ok(down && down.kind === 'down');
    assert.equal(down.at, 35_000);
    assert.match(down.reason, /no answer to the events request/);
  });

  it("a late answer to an old connection's ping does not disarm the new connection's watchdog", async () => {
    const t = start({ silenceMs: 30_000, pingTimeoutMs: 5_000 });
    t.port.ping$ = 'hang';
    t.run();
    await t.clock.advanceTo(35_000); // first connection recycled; the second opens at 36 s
    await t.clock.advanceTo(66_000); // the second one's ping (at 66 s) hangs too
    assert.equal(t.port.pings.length, 2);
    t.port.pings[0]?.resolve(); // the first ping finally answers
    await t.clock.advanceTo(80_000);
    t.stop();
    const downs = t.downs();
    assert.equal(downs.length, 2, 'the second connection was recycled as well');
    assert.equal(downs[1]?.at, 71_000);
  });

  it('a failing ping after silence recycles at once, with its code', async () => {
    const t = start({ silenceMs: 30_000 });
    t.port.ping$ = 'fail';
    t.run();
    await t.clock.advanceTo(31_000);
    t.stop();
    const [down] = t.downs();
    assert.ok(down && down.kind === 'down');
    assert.equal(down.at, 30_000);
    assert.equal(down.code, 'ECONNREFUSED');
  });

  it('resumes with since = the last event seen, after a reconnect', async () => {
    const t = start();
    t.run();
    await t.clock.advanceTo(1000);
    const e1 = t.port.event('container', 'start', 'c1');
    const e2 = t.port.event('container', 'die', 'c1');
    t.port.emit(e1, e2);
    t.port.last.sub.error(Object.assign(new Error('events connection closed'), { code: 'ECONNRESET' }));
    await t.clock.advanceTo(5000);
    t.stop();
    assert.equal(t.port.conns[0]?.query.since, undefined);
    assert.equal(t.port.conns[1]?.query.since, nanoToSince(e2.timeNano));
    const ups = t.signals.filter((s) => s.kind === 'up');
    assert.equal(ups.length, 2, 'every connect is announced (the caller re-lists)');
  });

  it('retries at the slowest pace on EACCES, from the first failure on', async () => {
    const t = start();
    t.port.onConnect = (c) =>
      c.sub.error(Object.assign(new Error('connect EACCES /var/run/docker.sock'), { code: 'EACCES' }));
    t.run();
    await t.clock.advanceTo(100_000);
    t.stop();
    const downs = t.downs();
    assert.equal(downs.length, 4, 'at 0, 30, 60, 90 s: no flood');
    assert.ok(downs.every((d) => d.kind === 'down' && d.retryInMs === 30_000 && d.code === 'EACCES'));
  });

  it('recovers from EACCES once the socket lets it in', async () => {
    const t = start();
    let allowed = false;
    t.port.onConnect = (c) =>
      allowed
        ? c.sub.next({ kind: 'open' })
        : c.sub.error(Object.assign(new Error('connect EACCES'), { code: 'EACCES' }));
    t.run();
    await t.clock.advanceTo(45_000);
    allowed = true;
    await t.clock.advanceTo(70_000);
    t.stop();
    assert.deepEqual(
      t.signals.map((s) => `${s.kind}@${s.at}`),
      ['down@0', 'down@30000', 'up@60000'],
    );
  });

  it('decodes events split into 1-byte chunks and several in one chunk; reports a malformed line and goes on', async () => {
    const t = start({ maxLineBytes: 256 });
    t.run();
    await t.clock.advanceTo(1);
    const e1 = wireLine(t.port.event('image', 'tag', 'sha256:a', { name: 'x:1' }));
    for (const ch of Buffer.from(`${e1}\n`)) t.port.last.sub.next({ kind: 'data', chunk: Uint8Array.of(ch) });
    const e2 = wireLine(t.port.event('image', 'untag', 'sha256:a'));
    const e3 = wireLine(t.port.event('image', 'delete', 'sha256:a'));
    t.port.send(`${e2}\n{"Type":"container","Act\n${'x'.repeat(1000)}\n${e3}\n`);
    await t.clock.advanceTo(2);
    t.stop();
    assert.deepEqual(
      t.signals.map((s) =>
        s.kind === 'event' ? s.event.action : s.kind === 'malformed' ? `bad:${s.reason}` : s.kind,
      ),
      ['up', 'tag', 'untag', 'bad:not JSON', 'bad:line over 256 bytes (1000)', 'delete'],
    );
    assert.equal(t.downs().length, 0, 'bad lines do not drop the connection');
  });

  it('a planned recycle (until) reconnects at once without counting as a failure', async () => {
    const clock = new VirtualClock();
    const port = new FakePort(() => clock.now());
    port.onConnect = (c) => {
      c.sub.next({ kind: 'open' });
      clock.scheduler.schedule(() => c.sub.complete(), 60_000);
    };
    const signals: StreamSignal[] = [];
    const sub = engineEvents$({ port, scheduler: clock.scheduler, recycleMs: 60_000 }).subscribe((s) =>
      signals.push(s),
    );
    await clock.advanceTo(130_000);
    sub.unsubscribe();
    const downs = signals.filter((s) => s.kind === 'down');
    assert.ok(downs.length >= 2);
    assert.ok(downs.every((d) => d.kind === 'down' && d.reason === 'recycled' && d.retryInMs === 0));
    assert.match(port.conns[0]?.query.until ?? '', /^\d+\.\d{9}$/);
  });
});
