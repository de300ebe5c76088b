import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createSplitter, type Line } from '../../src/streams/split-lines.js';

/** Cuts `bytes` at the given points (any byte boundary, inside a UTF-8 sequence too). */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function split(chunks: Buffer[], maxBytes: number, flush: boolean): Line[] {
  const s = createSplitter(maxBytes);
  const out = chunks.flatMap((c) => s.push(c));
  if (flush) out.push(...s.flush());
  return out;
}

/** What the splitter must say about one raw line (its bytes, newline excluded). */
function expected(raw: Buffer, maxBytes: number): Line[] {
  if (raw.length > maxBytes) return [{ kind: 'too-long', bytes: raw.length, sample: '' }];
  const text = new TextDecoder().decode(raw).trim();
  return text ? [{ kind: 'line', text }] : [];
}

const withoutSample = (lines: Line[]) =>
  lines.map((l) => (l.kind === 'too-long' ? { kind: l.kind, bytes: l.bytes, sample: '' } : l));

/** Lines of text (any Unicode) or of raw bytes (garbage, invalid UTF-8 included), never a newline. */
const rawLine = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Buffer.from(s.replaceAll('\n', ' '))),
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b.map((x) => (x === 10 ? 32 : x)))),
  fc.json().map((j) => Buffer.from(j.replaceAll('\n', ' '))),
);

describe('split-lines (property)', () => {
  it('any chunking of newline-terminated lines gives the same lines, too-long ones reported with their size', () => {
    fc.assert(
      fc.property(
        fc.array(rawLine, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 80 }),
        (lines, cuts, maxBytes) => {
          const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
          const got = split(chunk(bytes, cuts), maxBytes, false);
          assert.deepEqual(
            withoutSample(got),
            lines.flatMap((l) => expected(l, maxBytes)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('one-byte chunks give the same as one chunk', () => {
    fc.assert(
      fc.property(fc.array(rawLine, { maxLength: 10 }), (lines) => {
        const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
        const ones = [...bytes].map((b) => Buffer.of(b));
        assert.deepEqual(split(ones, 1024, true), split([bytes], 1024, true));
      }),
      { numRuns: 200 },
    );
  });

  it('an unterminated last line comes out on flush, and only then', () => {
    fc.assert(
      fc.property(
        fc.array(rawLine, { maxLength: 10 }),
        rawLine,
        fc.array(fc.nat(), { maxLength: 20 }),
        (lines, tail, cuts) => {
          const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
          const bytes = Buffer.concat([body, tail]);
          const all = lines.flatMap((l) => expected(l, 64));
          assert.deepEqual(withoutSample(split(chunk(bytes, cuts), 64, false)), all);
          assert.deepEqual(withoutSample(split(chunk(bytes, cuts), 64, true)), [
            ...all,
            ...expected(tail, 64),
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('chunks of many lines, decoded a chunk at a time, give each line as decoding it alone gives it', () => {
    // Few cuts: most chunks hold many whole lines (the path that decodes them together), some lines
    // straddle two chunks; blank lines, \r\n endings, invalid UTF-8 and multi-byte characters among them.
    const anyLine = fc.oneof(
      rawLine,
      fc.constantFrom(Buffer.from(''), Buffer.from('  \r'), Buffer.from('{"a":"\u00e9\u{1f600}"}\r')),
    );
    fc.assert(
      fc.property(
        fc.array(anyLine, { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1000, max: 1_000_000 })),
        (lines, cuts, maxBytes) => {
          const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
          assert.deepEqual(
            withoutSample(split(chunk(bytes, cuts), maxBytes, true)),
            lines.flatMap((l) => expected(l, maxBytes)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never holds more than the ceiling of one line in memory (a 10 MB line in 64 KB chunks)', () => {
    const s = createSplitter(1024);
    const piece = Buffer.alloc(65_536, 0x61);
    let out: Line[] = [];
    for (let i = 0; i < 160; i++) out = out.concat(s.push(piece));
    out = out.concat(s.push(Buffer.from('\n{"ok":1}\n')));
    assert.deepEqual(withoutSample(out), [
      { kind: 'too-long', bytes: 160 * 65_536, sample: '' },
      { kind: 'line', text: '{"ok":1}' },
    ]);
  });
});
