import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createRecordStream } from '../../src/records/record-stream.js';
import { writeRecord } from '../../src/records/log-records.js';
import type { Note } from '../../src/model/types.js';
import { startLiveReport } from '../../src/report/live-report.js';
import { addToSummary, emptySummary, MAX_LISTED_PULLS } from '../../src/report/pull-report.js';
import { readRecord } from '../../src/report/read-record.js';
import { readLog } from '../../src/report/read-log.js';
import { event, image, service, T0, World } from '../model/world.js';

const REF = 'reg.example/ci/app:1';

/** Notes from a small real history: a cold pull, a partial one, swarm repeats, a deploy, a budget warning. */
function history(): Note[] {
  const w = new World();
  w.ctx = { pullBudget: { limit: 2, windowMs: 6 * 3_600_000 } };
  w.snapshot(T0 - 60_000, [image('base-img', [['base', 5000]])]);
  w.apply(T0 + 1000, { kind: 'event', event: event('service', 'create', 's1', T0 + 1000) });
  w.apply(T0 + 1010, { kind: 'services', services: [service('s1', REF, 2, 0)], tasks: [] });
  w.pull(T0 + 1500, REF);
  w.pull(T0 + 1501, REF);
  w.resolve(
    T0 + 1510,
    REF,
    image(
      'app',
      [
        ['base', 5000],
        ['a', 300],
      ],
      { tags: [REF] },
    ),
  );
  w.pull(T0 + 1600, 'other:1');
  w.resolve(T0 + 1610, 'other:1', image('other', [['o', 70]], { tags: ['other:1'] }));
  w.pull(T0 + 1700, 'gone:1');
  w.resolve(T0 + 1710, 'gone:1', null);
  w.apply(T0 + 3000, { kind: 'services', services: [service('s1', REF, 2, 2)], tasks: [] });
  return w.notes;
}

async function* linesOf(text: string) {
  yield* text.split('\n');
}

describe('pull report', () => {
  it('accumulates classes, bytes, images, deploys and budget warnings', () => {
    const summary = emptySummary();
    for (const note of history()) {
      const item = readRecord(JSON.parse(JSON.stringify(note)));
      if (typeof item !== 'string') addToSummary(summary, item);
    }
    assert.deepEqual(summary.totals, {
      pulls: 4,
      cold: 1,
      partial: 1,
      warm: 1,
      unknown: 1,
      repeats: 1,
      bytesDownloaded: 300 + 70,
      bytesReused: 5000 + 5300,
      bytesUnknown: 1,
    });
    assert.deepEqual(
      summary.pulls.map((p) => [p.ref, p.class]),
      [
        [REF, 'partial'],
        [REF, 'warm'],
        ['other:1', 'cold'],
        ['gone:1', 'unknown'],
      ],
    );
    assert.deepEqual(
      summary.images.map((i) => [i.image, i.pulls, i.partial, i.warm, i.bytesDownloaded]),
      [
        ['sha256:app', 2, 1, 1, 300],
        ['sha256:other', 1, 0, 0, 70],
      ],
    );
    assert.equal(summary.deploys.length, 1);
    assert.deepEqual(
      summary.deploys[0]!.pulls.map((p) => [p.class, p.repeat ?? false]),
      [
        ['partial', false],
        ['warm', true],
      ],
    );
    assert.deepEqual(
      summary.budget.map((b) => [b.registry, b.threshold, b.pulls]),
      [
        ['reg.example', 'near', 2],
        ['docker.io', 'near', 2],
      ],
    );
  });

  it('rebuilds the same summary from the saved log stream as the live report made', async () => {
    const notes = history();
    const records = createRecordStream();
    const live = startLiveReport(records.records$, {
      format: 'json',
      style: { color: false },
      write: () => {},
    });
    for (const note of notes) records.emit(note, { at: T0 });

    let saved = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        saved += chunk.toString();
        done();
      },
    });
    const logger = pino({ base: { name: 'layerwarden' }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
    for (const note of notes) writeRecord(logger, note);
    const reading = await readLog(linesOf(saved));
    assert.equal(reading.bad, 0);
    assert.deepEqual(reading.summary, live.summary());
    assert.equal(live.finish(), `${JSON.stringify({ type: 'summary', ...reading.summary })}\n`);
  });

  it('counts and skips bad lines, passes over other records', async () => {
    const reading = await readLog(
      linesOf(
        [
          '{"event":"stream.up","attempt":0}',
          'not json',
          '{"event":"pull","ref":"a:1"}',
          '',
          '[1,2]',
          '{"event":"pull","ref":"a:1","class":"cold","at":"2025-06-01T12:00:00.000Z","layers":{"total":1,"new":1},"bytes":{"downloaded":9,"reused":0,"known":true}}',
        ].join('\n'),
      ),
    );
    assert.deepEqual([reading.lines, reading.records, reading.bad, reading.firstBad], [5, 2, 3, 2]);
    assert.equal(reading.summary.totals.cold, 1);
  });

  it('keeps counting past the listed pulls', () => {
    const summary = emptySummary();
    const row = readRecord({ event: 'pull', ref: 'a:1', class: 'warm', at: 'x', image: 'sha256:a' });
    assert.ok(typeof row !== 'string');
    for (let i = 0; i < MAX_LISTED_PULLS + 5; i++) addToSummary(summary, row);
    assert.equal(summary.pulls.length, MAX_LISTED_PULLS);
    assert.equal(summary.pullsNotListed, 5);
    assert.equal(summary.totals.warm, MAX_LISTED_PULLS + 5);
  });
});
