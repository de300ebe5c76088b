import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEvent, eventKey, nanoToSince } from '../../src/streams/decode-event.js';
import { createSplitter } from '../../src/streams/split-lines.js';

// A real line from dockerd 20.10.24 (API 1.41), a container start with a compose label merged in.
const REAL =
  '{"status":"start","id":"5f3c","from":"lw-base:latest","Type":"container","Action":"start","Actor":{"ID":"5f3c","Attributes":{"com.docker.compose.project":"demo","image":"lw-base:latest","name":"c1"}},"scope":"local","time":1763847715,"timeNano":1763847715905123456}';

describe('decodeEvent', () => {
  it('reads Type/Action/Actor and keeps timeNano exact beyond 2^53', () => {
    const d = decodeEvent(REAL);
    assert.ok(d.ok);
    assert.equal(d.event.type, 'container');
    assert.equal(d.event.action, 'start');
    assert.equal(d.event.actorId, '5f3c');
    assert.equal(d.event.timeNano, '1763847715905123456');
    assert.equal(d.event.timeMs, 1763847715905);
    assert.deepEqual(d.event.attributes, {
      'com.docker.compose.project': 'demo',
      image: 'lw-base:latest',
      name: 'c1',
    });
    assert.equal(nanoToSince(d.event.timeNano), '1763847715.905123456');
    assert.equal(eventKey(d.event), '1763847715905123456|container|start|5f3c');
  });

  it('decodes an API 1.52 event without the legacy fields', () => {
    const d = decodeEvent(
      '{"Type":"image","Action":"pull","Actor":{"ID":"busybox:latest","Attributes":{"name":"busybox"}},"scope":"local","time":1,"timeNano":1000000001}',
    );
    assert.ok(d.ok);
    assert.equal(d.event.actorId, 'busybox:latest');
  });

  it('says why a line is bad, with a short sample', () => {
    for (const [line, reason] of [
      ['{"Type":"container","Action":"st', 'not JSON'],
      ['[1,2]', 'no Type'],
      ['{"Type":"image","Actor":{}}', 'no Action'],
      ['{"Type":"image","Action":"tag"}', 'no Actor'],
      ['{"Type":"image","Action":"tag","Actor":{}}', 'no time'],
    ] as const) {
      const d = decodeEvent(line);
      assert.equal(d.ok, false, line);
      if (!d.ok) assert.equal(d.reason, reason);
    }
    const long = decodeEvent(`{${'x'.repeat(1000)}`);
    assert.ok(!long.ok && long.sample.length <= 120);
  });
});

describe('createSplitter', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('joins an event split over chunks and splits chunks holding several events', () => {
    const s = createSplitter(1024);
    assert.deepEqual(s.push(enc('{"a":')), []);
    assert.deepEqual(s.push(enc('1}\n{"b":2}\n{"c"')), [
      { kind: 'line', text: '{"a":1}' },
      { kind: 'line', text: '{"b":2}' },
    ]);
    assert.deepEqual(s.push(enc(':3}\n')), [{ kind: 'line', text: '{"c":3}' }]);
  });

  it('reports a line over the ceiling once and carries on after its newline', () => {
    const s = createSplitter(16);
    const out = [
      ...s.push(enc('0123456789')),
      ...s.push(enc('0123456789')),
      ...s.push(enc('abc\n{"ok":1}\n')),
    ];
    assert.equal(out.length, 2);
    assert.equal(out[0]?.kind, 'too-long');
    assert.deepEqual(out[1], { kind: 'line', text: '{"ok":1}' });
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const s = createSplitter();
    const bytes = enc('{"name":"café"}\n');
    const out = [...s.push(bytes.subarray(0, 13)), ...s.push(bytes.subarray(13))];
    assert.deepEqual(out, [{ kind: 'line', text: '{"name":"café"}' }]);
  });
});
