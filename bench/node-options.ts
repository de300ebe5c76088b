/**
 * The Node options the product ships (deploy/layerwarden.service, the Dockerfile's ENTRYPOINT and the npm
 * bin's `#!` line carry exactly these; test/deploy/node-options.test.ts holds them to it). The memory and
 * weeks benchmarks run the agent with them, so their figures are the shipped agent's.
 */
export const SHIPPED_NODE_OPTIONS: readonly string[] = [];
