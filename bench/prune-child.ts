/**
 * Benchmark 6 in its own process on the compiled code (bench/prune-speed.ts starts it): the rounds of
 * `measurePrune` on the run's private engine, named by its directory and environment. Prints the rows
 * as one JSON line.
 */
import path from 'node:path';
import { createEnginePort } from '../src/docker/engine-port.js';
import { Engine } from '../test/engine/harness.js';
import { measurePrune } from './prune-speed.js';

const { dir, env, quick } = JSON.parse(process.argv[2] as string) as {
  dir: string;
  env: Record<string, string>;
  quick: boolean;
};
const engine = new Engine(dir, path.join(dir, 'work'), env);
const port = createEnginePort(engine.dockerHost);
const info = await port.info();
const rows = await measurePrune({ engine, port, info, baseImageId: '', startSeconds: 0 }, quick);
console.log(JSON.stringify(rows));
// The agent's model loops have stopped; the events connections they left close with the process.
process.exit(0);
