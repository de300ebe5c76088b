import { LayerwardenError } from '../errors.js';

/** The longest line `report` reads: the agent's records are a few kB; anything past this is not a log. */
export const MAX_REPORT_LINE_BYTES = 1024 * 1024;

/**
 * The lines of a byte stream (empty ones too, so line numbers are the file's), each held in memory up to
 * `maxBytes` at most. A longer line (a file that is no log stream, or `/dev/zero`, which never ends
 * one) stops the reading at once with a one-line usage error naming the input and the line: exit 2,
 * never an unbounded buffer and never a read to the end of an endless file.
 */
export async function* boundedLines(
  input: AsyncIterable<Uint8Array | string>,
  name: string,
  maxBytes = MAX_REPORT_LINE_BYTES,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let held = 0;
  let n = 0;
  const tooLong = () =>
    new LayerwardenError(
      'usage',
      `${name}: line ${n + 1} is longer than ${maxBytes / 1024 / 1024} MiB: not a layerwarden log stream`,
    );
  const take = (bytes: Uint8Array) => {
    if (held + bytes.length > maxBytes) throw tooLong();
    parts.push(bytes);
    held += bytes.length;
  };
  const line = () => {
    const text = decoder.decode(Buffer.concat(parts)).replace(/\r$/, '');
    parts = [];
    held = 0;
    n++;
    return text;
  };
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
      take(bytes.subarray(start, i));
      yield line();
      start = i + 1;
    }
    take(bytes.subarray(start));
  }
  if (held > 0) yield line();
}
