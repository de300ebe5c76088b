import type { MetricsSources } from '../../src/metrics/metrics.js';
import type { Model } from '../../src/model/types.js';

/** What the gauges read on a host with nothing going on: no idle answer yet, no disks, no prune. */
export const quietSources = (
  model: () => Model | undefined,
  over: Partial<MetricsSources> = {},
): MetricsSources => ({
  model,
  idle: () => undefined,
  queueDepth: () => 0,
  disks: async () => [],
  prune: () => ({}),
  pullBudget: 200,
  now: () => Date.now(),
  ...over,
});
