import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { runUntilStopped } from '../../src/cli/lifecycle.js';
import { writeRecord } from '../../src/records/log-records.js';
import type { LogRecord } from '../../src/records/record-types.js';

function harness(stopMs: number) {
  const records: Array<{ event: string; reason?: string }> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) records.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'info' }, dest);
  const signals = new EventEmitter();
  const calls: string[] = [];
  const exits: number[] = [];
  let release: () => void = () => {};
  const stop = (reason: string) =>
    new Promise<void>((resolve) => {
      calls.push(`stop:${reason}`);
      release = resolve;
      if (stopMs >= 0) setTimeout(resolve, stopMs);
    });
  return {
    records,
    signals,
    calls,
    exits,
    release: () => release(),
    opts: {
      records: { emit: (r: LogRecord) => writeRecord(logger, r) },
      stop,
      flush: () => calls.push('flush'),
      reopen: () => calls.push('reopen'),
      signals,
      exit: (code: number) => exits.push(code),
    },
  };
}

const events = (h: ReturnType<typeof harness>) => h.records.map((r) => r.event);
const tick = () => new Promise((r) => setImmediate(r));

describe('runUntilStopped', () => {
  it('stops once on SIGTERM: stop record, stop, stopped record, flush; then no listener is left', async () => {
    const h = harness(5);
    const done = runUntilStopped(h.opts);
    assert.equal(h.signals.listenerCount('SIGTERM'), 1);
    h.signals.emit('SIGTERM');
    assert.deepEqual(await done, { reason: 'SIGTERM' });
    assert.deepEqual(h.calls, ['stop:SIGTERM', 'flush']);
    assert.deepEqual(events(h), ['agent.stop', 'agent.stopped']);
    assert.deepEqual(h.exits, [], 'exits by itself, with code 0');
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) assert.equal(h.signals.listenerCount(s), 0);
  });

  it('exits at once on a second signal during the stop, with 128 + the signal number', async () => {
    const h = harness(-1); // a stop that does not end by itself
    const done = runUntilStopped(h.opts);
    h.signals.emit('SIGINT');
    await tick();
    h.signals.emit('SIGTERM');
    assert.deepEqual(h.exits, [143]);
    assert.deepEqual(events(h), ['agent.stop', 'agent.stop-now']);
    assert.ok(h.calls.includes('flush'), 'the log is flushed before the exit');
    h.release();
    await done;
  });

  it('gives up a stop that outlives the hard limit with exit 1', async () => {
    const h = harness(-1);
    const done = runUntilStopped({ ...h.opts, hardStopMs: 20 });
    h.signals.emit('SIGTERM');
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(h.exits, [1]);
    assert.ok(events(h).includes('agent.stop-timeout'));
    h.release();
    await done;
  });

  it('stops by itself after --for, and reopens the log on SIGHUP without stopping', async () => {
    const h = harness(0);
    const done = runUntilStopped({ ...h.opts, forMs: 30 });
    h.signals.emit('SIGHUP');
    assert.deepEqual(await done, { reason: '--for elapsed' });
    assert.deepEqual(h.calls, ['reopen', 'stop:--for elapsed', 'flush']);
  });

  it('logs a failed stop and leaves exit code 1', async () => {
    const h = harness(0);
    const saved = process.exitCode;
    try {
      const done = runUntilStopped({ ...h.opts, stop: async () => Promise.reject(new Error('disk full')) });
      h.signals.emit('SIGTERM');
      await done;
      assert.equal(process.exitCode, 1);
      assert.ok(events(h).includes('agent.stop-failed'));
    } finally {
      process.exitCode = saved;
    }
  });
});
