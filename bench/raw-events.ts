/**
 * A bare `/events` reader on the engine's socket, in its own process so that our own event loop cannot
 * delay it: the baseline for latency, how long an event takes to reach any reader at all (the engine's
 * own delivery plus one JSON.parse).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../test/engine/harness.js';

export interface RawReader {
  /** Delivery latency in ms by `timeNano|Type|Action|Actor.ID`. */
  latencies: Map<string, number>;
  opened: Promise<void>;
  close(): void;
}

/** Milliseconds since the epoch, with microseconds, from the engine's exact nanosecond count. */
export function nanoToMsExact(timeNano: string | number): number {
  const s = String(timeNano);
  return Number(s.slice(0, -3)) / 1000;
}

const CHILD = fileURLToPath(new URL('./raw-events-child.ts', import.meta.url));

export function openRawReader(engine: Engine): RawReader {
  const latencies = new Map<string, number>();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, engine.socketPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const opened = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`raw events reader exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'open') return resolve();
      const tab = line.lastIndexOf('\t');
      latencies.set(line.slice(0, tab), Number(line.slice(tab + 1)));
    });
  });
  return { latencies, opened, close: () => child.kill() };
}
