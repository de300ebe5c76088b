import { Observable, type OperatorFunction } from 'rxjs';

export type Line = { kind: 'line'; text: string } | { kind: 'too-long'; bytes: number; sample: string };

/** The default ceiling of one event line; the engine's largest events (big label sets) are far below. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * A newline splitter over byte chunks: one event can span many chunks, one chunk can hold many events.
 * A line longer than `maxBytes` is reported (with a short sample) and skipped up to its newline; its bytes
 * are never held in memory past the ceiling.
 */
export function createSplitter(maxBytes = MAX_LINE_BYTES) {
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let held = 0;
  let overflow: { bytes: number; sample: string } | undefined;

  function take(chunk: Uint8Array) {
    if (overflow) {
      overflow.bytes += chunk.length;
      return;
    }
    if (held + chunk.length > maxBytes) {
      const sample = decoder.decode(Buffer.concat([...parts, chunk]).subarray(0, 80));
      overflow = { bytes: held + chunk.length, sample };
      parts = [];
      held = 0;
      return;
    }
    parts.push(chunk);
    held += chunk.length;
  }

  function end(out: Line[]) {
    if (overflow) {
      out.push({ kind: 'too-long', ...overflow });
      overflow = undefined;
      return;
    }
    const text = decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts)).trim();
    parts = [];
    held = 0;
    if (text) out.push({ kind: 'line', text });
  }

  /**
   * The whole lines between `from` and the chunk's last newline (`to`), decoded at once: one decode
   * per chunk, not one per line. UTF-8 resynchronises at every ASCII byte, so decoding them together
   * and cutting at '\n' gives what decoding each line alone gives, invalid bytes included; and no line
   * of a stretch no longer than `maxBytes` can be too long.
   */
  function whole(chunk: Uint8Array, from: number, to: number, out: Line[]) {
    const text = decoder.decode(chunk.subarray(from, to));
    let start = 0;
    for (let i = text.indexOf('\n'); ; i = text.indexOf('\n', start)) {
      const line = (i < 0 ? text.slice(start) : text.slice(start, i)).trim();
      if (line) out.push({ kind: 'line', text: line });
      if (i < 0) return;
      start = i + 1;
    }
  }

  return {
    push(chunk: Uint8Array): Line[] {
      const out: Line[] = [];
      let start = 0;
      let i = chunk.indexOf(10);
      // The line held from earlier chunks (or skipped as too long) ends at the first newline.
      if (i >= 0 && (held > 0 || overflow)) {
        take(chunk.subarray(0, i));
        end(out);
        start = i + 1;
        i = chunk.indexOf(10, start);
      }
      const last = i < 0 ? -1 : chunk.lastIndexOf(10);
      if (i >= 0 && last - start <= maxBytes) {
        whole(chunk, start, last, out);
        start = last + 1;
      } else {
        for (; i >= 0; i = chunk.indexOf(10, start)) {
          take(chunk.subarray(start, i));
          end(out);
          start = i + 1;
        }
      }
      if (start < chunk.length) take(chunk.subarray(start));
      return out;
    },
    /** What is left when the stream closes: a partial line, reported as too long would be misleading, so as a line. */
    flush(): Line[] {
      const out: Line[] = [];
      if (held > 0 || overflow) end(out);
      return out;
    },
  };
}

/** RxJS operator form of the splitter. */
export function splitLines(maxBytes = MAX_LINE_BYTES): OperatorFunction<Uint8Array, Line> {
  return (source) =>
    new Observable<Line>((subscriber) => {
      const splitter = createSplitter(maxBytes);
      return source.subscribe({
        next: (chunk) => {
          for (const line of splitter.push(chunk)) subscriber.next(line);
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          for (const line of splitter.flush()) subscriber.next(line);
          subscriber.complete();
        },
      });
    });
}
