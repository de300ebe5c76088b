import { firstValueFrom, timeout, toArray } from 'rxjs';
import { filter, map, mergeMap } from 'rxjs/operators';
import type { DockerPort } from '../docker/port.js';
import type { EngineEvent } from '../docker/types.js';
import { decodeEvent, nanoToSince } from './decode-event.js';
import { splitLines } from './split-lines.js';

/**
 * The engine's recent events between two instants (ms), from its replay ring (the last 256 events of
 * all types: best effort, and one-shot commands use it only for the quiet period).
 */
export async function replayEvents(
  port: DockerPort,
  sinceMs: number,
  untilMs: number,
  timeoutMs = 10_000,
): Promise<EngineEvent[]> {
  const toNano = (ms: number) => nanoToSince(`${BigInt(Math.floor(ms)) * 1_000_000n}`);
  return firstValueFrom(
    port.events({ since: toNano(sinceMs), until: toNano(untilMs) }).pipe(
      mergeMap((frame) => (frame.kind === 'data' ? [frame.chunk] : [])),
      splitLines(),
      map((line) => (line.kind === 'line' ? decodeEvent(line.text) : undefined)),
      filter((d) => d?.ok === true),
      map((d) => (d as { event: EngineEvent }).event),
      toArray(),
      timeout(timeoutMs),
    ),
  );
}
