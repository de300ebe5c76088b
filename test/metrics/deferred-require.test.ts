import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createAgentMetrics } from '../../src/metrics/metrics.js';
import { deferRequire } from '../../src/metrics/deferred-require.js';
import { createModel } from '../../src/model/create.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

// This file runs in its own process (node --test): nothing else here loads @opentelemetry/api.
const here = createRequire(import.meta.url);
const promDir = path.dirname(here.resolve('prom-client'));
const fromCpuMetric = createRequire(path.join(promDir, 'lib', 'metrics', 'processCpuTotal.js'));
/** Files the real @opentelemetry/api requires from its entry: present only once it has really loaded. */
const otelLoaded = () =>
  Object.keys(here.cache).some(
    (k) => k.includes('/@opentelemetry/api/') && /\/(diag|context|trace)\//.test(k),
  );

describe("prom-client's process metrics without @opentelemetry/api", () => {
  it('are served, and their exemplar dependency is never loaded', async () => {
    const model = createModel();
    const metrics = createAgentMetrics(
      {
        model: () => model,
        idle: () => undefined,
        queueDepth: () => 0,
        disks: async () => [],
        prune: () => ({}),
        pullBudget: 200,
        now: () => Date.now(),
      },
      { processMetrics: true },
    );
    // The event loop's lag is NaN until its monitor has taken a sample (every 10 ms).
    await new Promise((r) => setTimeout(r, 100));
    const samples = parsePrometheusText(await metrics.render());
    assert.ok((sampleValue(samples, 'layerwarden_process_cpu_seconds_total') ?? -1) >= 0);
    assert.ok((sampleValue(samples, 'layerwarden_process_resident_memory_bytes') ?? 0) > 10e6);
    assert.ok(sampleValue(samples, 'layerwarden_nodejs_heap_size_used_bytes') !== undefined);
    assert.equal(otelLoaded(), false, 'the real @opentelemetry/api is not loaded');
  });

  it('a deferred module loads as itself when used: its exports are the real ones', () => {
    const otel = fromCpuMetric('@opentelemetry/api') as { trace: { getSpan: unknown }; context: object };
    assert.equal(otelLoaded(), false, 'requiring the stand-in loads nothing');
    assert.equal(typeof otel.trace.getSpan, 'function');
    assert.ok(otelLoaded(), 'reading a property loaded it');
    const real = fromCpuMetric(fromCpuMetric.resolve('@opentelemetry/api')) as { trace: unknown };
    assert.equal(otel.trace, real.trace, 'the stand-in hands out the real exports');
  });

  it('leaves a module that is already loaded, or that does not resolve, alone', () => {
    assert.equal(deferRequire(path.join(promDir, 'index.js'), './lib/registry'), false, 'loaded by now');
    assert.equal(deferRequire(path.join(promDir, 'index.js'), 'no-such-module-layerwarden'), false);
  });
});
