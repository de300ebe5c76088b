/**
 * Benchmark 6's floor: the lowest a remover that issues one removal at a time can reach on this engine.
 * No agent code at all: one connection to the engine's socket, a bare `DELETE /images/{id}` written as
 * soon as the previous answer has fully arrived, nothing checked, parsed or recorded but the status. What
 * the executor takes over this is the agent's; what this takes over the engine's own prune is the engine's
 * cost of one request per image.
 */
import net from 'node:net';
import type { PruneExecutor } from './prune-standin.js';

const HEAD_END = '\r\n\r\n';
const LAST_CHUNK = '\r\n0\r\n\r\n';

/** The length of the first whole answer in `buf` and its status, or undefined while it is arriving. */
function wholeAnswer(buf: string): { length: number; status: number } | undefined {
  const head = buf.indexOf(HEAD_END);
  if (head < 0) return undefined;
  const status = Number(buf.slice(9, 12));
  const lines = buf.slice(0, head).toLowerCase();
  const length = /\r\ncontent-length: *(\d+)/.exec(lines);
  if (length) {
    const end = head + HEAD_END.length + Number(length[1]);
    return buf.length >= end ? { length: end, status } : undefined;
  }
  if (!lines.includes('\r\ntransfer-encoding: chunked'))
    throw new Error('floor: an answer of unknown length');
  const last = buf.indexOf(LAST_CHUNK, head);
  return last < 0 ? undefined : { length: last + LAST_CHUNK.length, status };
}

export function bareDeletes(socketPath: string): PruneExecutor {
  return async (candidates) => {
    const socket = net.connect(socketPath);
    socket.setEncoding('latin1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let buf = '';
    let answered: ((status: number) => void) | undefined;
    let failed: ((err: Error) => void) | undefined;
    socket.on('data', (chunk: string) => {
      buf += chunk;
      try {
        const whole = wholeAnswer(buf);
        if (!whole) return;
        buf = buf.slice(whole.length);
        answered?.(whole.status);
      } catch (err) {
        failed?.(err as Error);
      }
    });
    socket.on('error', (err) => failed?.(err));
    const out = { removed: 0, gone: 0, skipped: 0, failed: 0 };
    try {
      for (const c of candidates) {
        const status = await new Promise<number>((resolve, reject) => {
          answered = resolve;
          failed = reject;
          socket.write(`DELETE /images/${c.id} HTTP/1.1\r\nHost: docker\r\n\r\n`);
        });
        if (status === 200) out.removed++;
        else if (status === 404) out.gone++;
        else if (status === 409) out.skipped++;
        else out.failed++;
      }
    } finally {
      socket.end();
    }
    return out;
  };
}
