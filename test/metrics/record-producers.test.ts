/**
 * Every counter of docs/metrics.md that the model's records feed, moved by its real producer: the
 * resident agent (startAgent) over a scripted engine, its metrics subscribed as `watch` subscribes them
 * (serveAgent), and the engine doing what makes each record — a list, events, a pull, a line that does
 * not parse, a failed inspect, an engine prune, a dropped stream. No tick nor record is made by hand.
 * The prune's counters are moved by the boundary runner and its executor in test/agent/boundary-runner.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningAgent, startAgent } from '../../src/agent/agent.js';
import { type Served, serveAgent } from '../../src/agent/serve.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { emptyState } from '../../src/state/state-file.js';
import { captureLogger } from '../log/capture.js';
import { FakePort, image } from '../streams/fake-port.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

describe('the agent’s records move the counters of /metrics', { timeout: 60_000 }, () => {
  let dir: string;
  let port: FakePort;
  let agent: RunningAgent;
  let served: Served;
  const { logger, records } = captureLogger();
  const counter = async (name: string, labels?: Record<string, string>) =>
    sampleValue(parsePrometheusText(await served.metrics.render()), name, labels) ?? 0;
  /** Waits until a counter reaches `value` (the records come from async lists and inspects). */
  const reaches = async (name: string, labels: Record<string, string> | undefined, value: number) => {
    for (let i = 0; i < 300; i++) {
      if ((await counter(name, labels)) >= value) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(
      `${name}${JSON.stringify(labels ?? {})} never reached ${value}: ${records.map((r) => r.event)}`,
    );
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-producers-'));
    const { config } = resolveConfig(
      { stateFile: path.join(dir, 'state.json'), pullBudget: '1', reconnectMax: '50ms', quietPeriod: '1s' },
      {},
    );
    port = new FakePort(() => Date.now());
    // A connection opens on a later turn, as a socket does (the scripted default opens synchronously).
    port.onConnect = (c) => setImmediate(() => c.sub.next({ kind: 'open' }));
    port.images.set(image(1).id, image(1));
    const policy = { runStack: config.runStack, quietPeriodMs: config.quietPeriodMs };
    agent = startAgent({ config, port, logger, state: emptyState(), policy });
    served = await serveAgent({ agent, config, logger, policy, prune: 'off' });
  });

  after(async () => {
    await served?.close();
    await agent?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the first list: layerwarden_resyncs_total{reason="start"}', async () => {
    await reaches('layerwarden_resyncs_total', { reason: 'start' }, 1);
  });

  it('engine events applied: layerwarden_events_total{type}', async () => {
    port.emit(port.event('network', 'create', 'n1'), port.event('volume', 'create', 'v1'));
    await reaches('layerwarden_events_total', { type: 'network' }, 1);
    await reaches('layerwarden_events_total', { type: 'volume' }, 1);
  });

  it('a pull: layerwarden_pulls_total{class}, layerwarden_pull_bytes_total, and the budget warning', async () => {
    const pulled = { ...image(2, ['127.0.0.1:5000/app:2']), layerSizes: [4096] };
    port.images.set(pulled.id, pulled);
    port.emit(port.event('image', 'pull', '127.0.0.1:5000/app:2'));
    await reaches('layerwarden_pulls_total', { class: 'cold' }, 1);
    assert.equal(await counter('layerwarden_pull_bytes_total', { kind: 'downloaded' }), 4096);
    // --pull-budget 1: the first pull of the registry reaches it.
    await reaches('layerwarden_registry_budget_warnings_total', { registry: '127.0.0.1:5000' }, 1);
    assert.equal(await counter('layerwarden_registry_pulls_in_window', { registry: '127.0.0.1:5000' }), 1);
  });

  it('a line that does not parse: layerwarden_stream_malformed_total, and the re-list finds the drift', async () => {
    // The engine holds an image the events never said: only the re-list after the bad line sees it.
    port.images.set(image(3).id, image(3));
    port.send('{"Type":"container",\n');
    await reaches('layerwarden_stream_malformed_total', undefined, 1);
    await reaches('layerwarden_resyncs_total', { reason: 'malformed event' }, 1);
    await reaches('layerwarden_resync_drift_total', { kind: 'images' }, 1);
  });

  it('an inspect that fails: layerwarden_refresh_failures_total{what}', async () => {
    port.inspectContainer = async () => {
      throw new Error('engine said 500');
    };
    port.emit(port.event('container', 'create', 'c-failing'));
    await reaches('layerwarden_refresh_failures_total', { what: 'container inspect' }, 1);
  });

  it('an engine prune: layerwarden_engine_prunes_total and layerwarden_evictions_total{by="external"}', async () => {
    port.images.delete(image(1).id);
    port.emit(
      port.event('image', 'delete', image(1).id),
      port.event('image', 'prune', '', { reclaimed: '100' }),
    );
    await reaches('layerwarden_engine_prunes_total', { what: 'image' }, 1);
    await reaches('layerwarden_evictions_total', { by: 'external', during_run: 'false' }, 1);
  });

  it('the stream drops and comes back: layerwarden_stream_disconnects_total, _reconnects_total', async () => {
    assert.equal(await counter('layerwarden_stream_reconnects_total'), 0, 'the first connect is not one');
    port.last.sub.error(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await reaches('layerwarden_stream_disconnects_total', undefined, 1);
    await reaches('layerwarden_stream_reconnects_total', undefined, 1);
    await reaches('layerwarden_resyncs_total', { reason: 'reconnect' }, 1);
  });
});
