import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeRecord } from '../../src/records/log-records.js';
import { formatBytes } from '../../src/report/style.js';
import { auditSection, parseLogLines, renderAudit } from '../../src/report/audit.js';
import { captureLogger } from '../log/capture.js';
import { IMAGE_A, IMAGE_B, IMAGE_C, replayFixture } from '../model/eviction-fixture.js';

/** The recorded run/rmi/prune stream as the agent would have logged it, plus records of other kinds. */
function savedLog(): string[] {
  const { logger, lines } = captureLogger();
  for (const note of replayFixture().notes) writeRecord(logger, note);
  // The agent's own removal and two prune decisions, in the shapes the prune work logs (`fire`, as decisionNote writes it).
  writeRecord(logger, {
    event: 'eviction',
    at: '2026-11-23T00:00:05.000Z',
    image: 'sha256:own',
    refs: [],
    size: 500,
    freedBytes: 400,
    by: 'layerwarden',
    duringRun: false,
    stacks: [],
    cause: 'delete-event',
    activity: 'delete',
  });
  logger.info(
    {
      event: 'prune.decision',
      fire: false,
      gates: {
        idle: { pass: false, busy: [{ reason: 'run-stack-live', stack: 'ci-run' }] },
        disk: { pass: true, usedPercent: 85.5, high: 80 },
        candidates: { pass: true, count: 3, bytes: 1200 },
      },
      reasons: ['busy: run stack ci-run (compose) live since 2026-11-22T21:47:18.874Z'],
    },
    'prune.decision',
  );
  logger.info(
    {
      event: 'prune.decision',
      fire: true,
      gates: { idle: { pass: true, busy: [] }, disk: { pass: true, usedPercent: 90, high: 80 } },
    },
    'prune.decision',
  );
  return lines;
}

describe('audit section', () => {
  const { records, skipped } = parseLogLines([...savedLog(), 'not json', '[1,2]', ''].join('\n'));
  const section = auditSection(records);

  it('counts lines that are not records without failing', () => assert.equal(skipped, 2));

  it('counts evictions by actor with the bytes they freed', () => {
    assert.equal(section.evictions.total, 4);
    assert.deepEqual(section.evictions.byActor, [
      { by: 'external', evictions: 3, duringRun: 2, freedBytes: 8192 + 12288 + 4096, unknownBytes: 0 },
      { by: 'layerwarden', evictions: 1, duringRun: 0, freedBytes: 400, unknownBytes: 0 },
    ]);
    assert.equal(section.evictions.freedBytes, 8192 + 12288 + 4096 + 400);
    assert.deepEqual(section.evictions.byActivity, { delete: 3, 'engine-prune': 1 });
  });

  it('lists the evictions during runs with time, image and stacks', () => {
    assert.deepEqual(
      section.duringRun.map((e) => [e.image, e.activity, e.stacks]),
      [
        [IMAGE_B.id, 'delete', ['ci-run']],
        [IMAGE_C.id, 'engine-prune', ['ci-run']],
      ],
    );
    assert.ok(section.duringRun.every((e) => /^\d{4}-\d\d-\d\dT/.test(e.at) && e.refs.length === 2));
    assert.ok(!section.duringRun.some((e) => e.image === IMAGE_A.id));
  });

  it('groups the re-pulls by the activity that caused them, with bytes', () => {
    assert.equal(section.rePulls.total, 1);
    assert.equal(section.rePulls.bytes, 12288);
    const prune = section.enginePrunes[0];
    assert.deepEqual(section.rePulls.byCause, [
      {
        by: 'external',
        activity: 'engine-prune',
        at: prune?.at,
        evictions: 1,
        rePulls: 1,
        cold: 0,
        partial: 1,
        bytes: 12288,
      },
    ]);
    assert.deepEqual(section.enginePrunes, [
      { at: prune?.at, what: 'image', reclaimed: 12288, evictions: 1, claimedBy: 'reclaimed-bytes' },
    ]);
  });

  it('takes the settled activity from the eviction record when the link was made before it settled', () => {
    const early = records.map((r) =>
      r.event === 'pull'
        ? { ...r, afterEviction: { ...(r.afterEviction as object), activity: 'delete' } }
        : r,
    );
    assert.equal(auditSection(early).rePulls.byCause[0]?.activity, 'engine-prune');
  });

  it('lists the prune decisions with their gates as logged', () => {
    assert.equal(section.pruneDecisions.length, 2);
    assert.equal(section.pruneDecisions[0]?.fired, false);
    assert.deepEqual(section.pruneDecisions[0]?.gates.disk, { pass: true, usedPercent: 85.5, high: 80 });
    assert.equal(section.pruneDecisions[1]?.fired, true);
  });

  it('renders text, markdown and JSON', () => {
    const text = renderAudit(section, 'text');
    assert.match(text, /evictions: 4 \(external 3, layerwarden 1\)/);
    assert.match(text, /evictions during runs: 2/);
    assert.match(text, /cache-b:1 \(cad2348705be\)\s+stacks: ci-run/);
    assert.match(
      text,
      /external engine prune at \S+: 1 eviction caused 1 re-pull \(0 cold, 1 partial\), 12\.3 kB/,
    );
    assert.match(text, /held\s+idle: fail \(busy .*\); disk: pass \(usedPercent 85\.5, high 80\)/);
    assert.match(text, /- busy: run stack ci-run/);
    const md = renderAudit(section, 'markdown');
    assert.match(md, /^## Eviction audit/);
    assert.match(md, /\| external \| 3 \| 2 \| 24\.6 kB \|/);
    assert.deepEqual(JSON.parse(renderAudit(section, 'json')), JSON.parse(JSON.stringify(section)));
  });

  it('an empty log gives an empty section', () => {
    const empty = auditSection([]);
    assert.equal(empty.evictions.total, 0);
    assert.match(renderAudit(empty, 'text'), /evictions: 0, freed 0 B/);
    assert.match(renderAudit(empty, 'markdown'), /\(none\)/);
  });

  it('formats bytes like the docker CLI', () => {
    assert.deepEqual([0, 999, 12288, 1_200_000_000].map(formatBytes), ['0 B', '999 B', '12.3 kB', '1.20 GB']);
  });
});
