/**
 * prom-client, as the agent loads it. Its process metrics (`collectDefaultMetrics`) require
 * `@opentelemetry/api` at load for exemplars, which the agent never enables: that alone held ~6 MB of
 * resident memory at rest (docs/benchmarks.md, issue 15). It is deferred until first used, so it never
 * loads; everything else is prom-client as published. Every module of the agent takes prom-client from
 * here, so the deferral is in place before prom-client itself loads.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as PromClient from 'prom-client';
import { deferRequire } from './deferred-require.js';

const requireHere = createRequire(import.meta.url);
const promIndex = requireHere.resolve('prom-client');
deferRequire(join(dirname(promIndex), 'lib', 'metrics', 'processCpuTotal.js'), '@opentelemetry/api');
const prom = requireHere(promIndex) as typeof PromClient;

export const { Counter, Gauge, Registry, collectDefaultMetrics } = prom;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Registry = PromClient.Registry;
