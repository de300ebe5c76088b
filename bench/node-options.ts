/**
 * The Node settings the product ships: deploy/layerwarden.service, the Dockerfile and the npm bin's `#!`
 * line carry exactly these (test/deploy/node-options.test.ts holds them to it), and the memory and weeks
 * benchmarks run the agent with them, so their figures are the shipped agent's. docs/benchmarks.md gives
 * each one's effect on memory and its cost in events per second.
 */

/**
 * V8 options: a young generation of 1 MB semi-spaces (V8 grows them to 16 MB under churn and keeps
 * them), and an old generation bounded at 96 MB, which also makes V8 grow it in smaller steps (it held
 * 45-75 MB for 13 MB live). The model of 10,000 images and 10,000 containers is 16 MB.
 */
export const SHIPPED_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=96'];

/** Environment. Two malloc arenas instead of one per thread (V8's GC and compiler threads each got one). */
export const SHIPPED_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** What the bin's first line must be: `env -S` passes the variables and the options to node. */
export const SHIPPED_SHEBANG = `#!/usr/bin/env -S ${Object.entries(SHIPPED_ENV)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ')} node ${SHIPPED_NODE_OPTIONS.join(' ')}`;
