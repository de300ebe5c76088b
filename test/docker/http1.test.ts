import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { answerReader } from '../../src/docker/http1.js';

const MAX = 1024 * 1024;

/** Feeds `bytes` in the pieces `cuts` makes; the answer once whole, else what the close gives. */
function readIn(bytes: Buffer, cuts: number[], maxBytes = MAX, close = false) {
  const reader = answerReader(maxBytes);
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length)]
    .sort((a, b) => a - b)
    .concat(bytes.length)) {
    if (cut <= at) continue;
    const answer = reader.feed(bytes.subarray(at, cut));
    at = cut;
    if (answer) return { answer, rest: bytes.length - at };
  }
  return { answer: close ? reader.end() : undefined, rest: 0 };
}

/** A chunked answer of `body`'s UTF-8 bytes, in chunks of the given sizes (a chunk may split a character). */
const chunked = (body: string, sizes: number[], trailer = ''): Buffer => {
  const bytes = Buffer.from(body);
  const parts: Buffer[] = [
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'),
  ];
  let at = 0;
  for (const size of [...sizes, bytes.length]) {
    if (at >= bytes.length) break;
    const part = bytes.subarray(at, at + Math.max(1, size));
    at += part.length;
    parts.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailer}\r\n`));
  return Buffer.concat(parts);
};

describe('http1: an answer read as it arrives', () => {
  it('any split of a chunked or a sized answer reads the same body, and the connection stays usable', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 12 }),
        fc.boolean(),
        (body, sizes, cuts, sized) => {
          const bytes = sized
            ? Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
            : chunked(body, sizes);
          const { answer } = readIn(bytes, cuts);
          assert.ok(answer);
          assert.equal(answer.status, 200);
          assert.equal(answer.body.toString(), body);
          assert.equal(answer.reusable, true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads past chunk extensions and trailers; a 204 has no body; an interim 100 is passed over', () => {
    const ext = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n';
    assert.equal(readIn(Buffer.from(ext), [7, 60]).answer?.body.toString(), 'abc');
    const none = readIn(Buffer.from('HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n'), []);
    assert.deepEqual([none.answer?.status, none.answer?.body.length], [204, 0]);
    const interim = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}';
    const after = readIn(Buffer.from(interim), [10]).answer;
    assert.deepEqual([after?.status, after?.reason, after?.body.toString()], [404, 'Not Found', '{}']);
  });

  it('an answer without a length runs until the close; cut short, it is none', () => {
    const open = Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[1,2]');
    assert.equal(readIn(open, [3]).answer, undefined);
    const closed = readIn(open, [3], MAX, true).answer;
    assert.deepEqual([closed?.body.toString(), closed?.reusable], ['[1,2]', false]);
    const short = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1,2');
    assert.equal(readIn(short, [], MAX, true).answer, undefined);
  });

  it('does not keep a connection the engine closes, an HTTP/1.0 one, or one with bytes past the answer', () => {
    const closing = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}';
    assert.equal(readIn(Buffer.from(closing), []).answer?.reusable, false);
    assert.equal(
      readIn(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}'), []).answer?.reusable,
      false,
    );
    const extra = readIn(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1'), []).answer;
    assert.equal(extra?.reusable, false);
  });

  it('refuses what is not HTTP/1.1 and a body over the bound, sized or chunked', () => {
    for (const bad of [
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX',
    ]) {
      assert.throws(() => readIn(Buffer.from(bad), []), /not HTTP\/1\.1/, JSON.stringify(bad));
    }
    assert.throws(
      () => readIn(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n'), [], 1000),
      /larger than 1000/,
    );
    assert.throws(() => readIn(chunked('x'.repeat(1500), [100]), [], 1000), /larger than 1000/);
    assert.throws(
      () => readIn(Buffer.from(`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(20000)}`), []),
      /head larger/,
    );
  });
});
