import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamOptions } from '../../src/agent/agent.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { LayerwardenError } from '../../src/errors.js';

describe('--watchdog and --reconnect-max', () => {
  it('defaults: 30 s silence, 5 s ping timeout, backoff 1 s → 30 s', () => {
    const o = streamOptions(resolveConfig({}, {}).config);
    assert.equal(o.silenceMs, 30_000);
    assert.equal(o.pingTimeoutMs, 5_000);
    assert.equal(o.backoff?.initialMs, 1000);
    assert.equal(o.backoff?.maxMs, 30_000);
  });

  it('short values for a busy CI host; the ping timeout is half the watchdog', () => {
    const o = streamOptions(resolveConfig({ watchdog: '4s', reconnectMax: '500ms' }, {}).config);
    assert.equal(o.silenceMs, 4000);
    assert.equal(o.pingTimeoutMs, 2000);
    assert.equal(o.backoff?.maxMs, 500);
    assert.equal(o.backoff?.initialMs, 500, 'never above the ceiling');
  });

  it('from the environment, and a bad value is a one-line config error', () => {
    const o = streamOptions(resolveConfig({}, { LAYERWARDEN_WATCHDOG: '10s' }).config);
    assert.equal(o.silenceMs, 10_000);
    assert.throws(
      () => resolveConfig({ watchdog: 'soon' }, {}),
      (e: unknown) => {
        assert.ok(e instanceof LayerwardenError);
        assert.equal(e.code, 'config');
        assert.match(e.message, /--watchdog: "soon" is not a duration from 1s to 10m/);
        return true;
      },
    );
  });
});
