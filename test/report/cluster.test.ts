import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { bindNode } from '../../src/log/logger.js';
import { writeRecord } from '../../src/records/log-records.js';
import { clusterSection } from '../../src/report/cluster.js';
import { readLogs } from '../../src/report/read-log.js';
import { event, image, T0, World } from '../model/world.js';

const REF = 'reg.example/ci/app:1';
const APP = () => image('app', [['a', 4000]], { tags: [REF] });

/** One node: the reducer's records through a pino logger bound to the node, as `watch` writes them. */
class Node {
  readonly world = new World();
  private text = '';
  private readonly logger = pino(
    { base: { name: 'layerwarden' }, timestamp: pino.stdTimeFunctions.isoTime },
    new Writable({
      write: (chunk: Buffer, _e, done) => {
        this.text += chunk.toString();
        done();
      },
    }),
  );
  private logged = 0;
  constructor(readonly id: string) {
    this.logger.info({ event: 'agent.start' }, 'agent.start'); // before the engine answered: no node
    this.world.apply(T0, { kind: 'stream.up', attempt: 0 });
    this.world.snapshot(T0, []);
    bindNode(this.logger, { name: 'ci-host', id });
  }
  pull(at: number) {
    this.world.pull(at, REF);
    this.world.resolve(at + 10, REF, APP());
  }
  evict(at: number) {
    this.world.apply(at, { kind: 'event', event: event('image', 'delete', 'sha256:app', at) });
    this.world.apply(at + 2000, { kind: 'evictions.settle', final: true }); // as the agent's timer does
  }
  lines(): string {
    for (const note of this.world.notes.slice(this.logged)) writeRecord(this.logger, note);
    this.logged = this.world.notes.length;
    return this.text;
  }
}

async function* linesOf(text: string) {
  yield* text.split('\n');
}

describe('the cluster view of several nodes', () => {
  it('counts the downloads of an image another node held at the time, and no other', async () => {
    const [a, b] = [new Node('AAAA:1111'), new Node('BBBB:2222')];
    a.pull(T0 + 1000); // first in the cluster: a cache would have had to fetch it too
    b.pull(T0 + 2000); // a holds it: served
    a.evict(T0 + 3000);
    b.evict(T0 + 3500);
    a.pull(T0 + 4000); // nobody holds it any more
    b.pull(T0 + 86_400_000 + 5000); // a holds it again, the next day
    const read = await readLogs([
      { name: 'a.ndjson', lines: linesOf(a.lines()) },
      { name: 'b.ndjson', lines: linesOf(b.lines()) },
    ]);
    assert.deepEqual(
      read.nodes.map((n) => [n.node.id, n.reading.summary.totals.pulls, n.reading.summary.totals.cold]),
      [
        ['AAAA:1111', 2, 2],
        ['BBBB:2222', 2, 2],
      ],
    );
    assert.equal(read.all.summary.totals.pulls, 4);
    const c = clusterSection(
      read.nodes.map((n) => ({ node: n.node, totals: n.reading.summary.totals, records: n.reading.audited })),
    );
    assert.deepEqual(
      c.nodes.map((n) => [n.id, n.name, n.pulls, n.evictions]),
      [
        ['AAAA:1111', 'ci-host', 2, 1],
        ['BBBB:2222', 'ci-host', 2, 1],
      ],
    );
    assert.deepEqual(c.sharedCache, {
      pulls: 2,
      bytes: 8000,
      byDay: [
        { day: '2025-06-01', registry: 'reg.example', pulls: 1, bytes: 4000 },
        { day: '2025-06-02', registry: 'reg.example', pulls: 1, bytes: 4000 },
      ],
    });
  });

  // An engine that answered at start: what the report counts names its node; only the records written
  // before (agent.start here, a state file's) may land on another node of a merged stream.
  it('reads one merged stream (as `docker service logs` gives it) the same as one file per node', async () => {
    const [a, b] = [new Node('AAAA:1111'), new Node('BBBB:2222')];
    a.pull(T0 + 1000);
    b.pull(T0 + 2000);
    const [la, lb] = [a.lines().trim().split('\n'), b.lines().trim().split('\n')];
    const merged: string[] = [];
    for (let i = 0; i < Math.max(la.length, lb.length); i++)
      merged.push(...[la[i], lb[i]].filter((l) => l !== undefined));
    const one = await readLogs([{ name: 'merged', lines: linesOf(merged.join('\n')) }]);
    const two = await readLogs([
      { name: 'a', lines: linesOf(la.join('\n')) },
      { name: 'b', lines: linesOf(lb.join('\n')) },
    ]);
    const view = (r: typeof one) =>
      r.nodes.map((n) => [n.node.id, n.reading.summary.totals, n.reading.audited.length]).sort();
    assert.deepEqual(view(one), view(two));
    assert.equal(one.nodes.length, 2);
  });

  it('gives a record without a node to the next record of its file that names one, else to the file', async () => {
    const a = new Node('AAAA:1111');
    a.pull(T0 + 1000);
    const read = await readLogs([
      { name: 'a.ndjson', lines: linesOf(a.lines()) },
      { name: 'old.ndjson', lines: linesOf('{"level":30,"event":"agent.start","msg":"agent.start"}\n') },
    ]);
    assert.deepEqual(
      read.nodes.map((n) => [n.node.id, n.reading.records]),
      [
        ['AAAA:1111', a.lines().trim().split('\n').length],
        ['old.ndjson', 1],
      ],
    );
  });
});
