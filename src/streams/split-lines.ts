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

  return {
    push(chunk: Uint8Array): Line[] {
      const out: Line[] = [];
      let start = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
        take(chunk.subarray(start, i));
        end(out);
        start = i + 1;
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
