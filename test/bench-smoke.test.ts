import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decision } from '../bench/decision.js';
import { ingest } from '../bench/ingest.js';
import type { BenchContext, BenchResult } from '../bench/types.js';

/** The benchmarks' smoke mode, in process and without an engine: they run and produce figures. No timing is asserted. */
const ctx: BenchContext = { quick: true, useEngine: false, scale: 100, log: () => {} };

function assertFigures(rows: BenchResult[], name: RegExp) {
  assert.ok(rows.length > 0);
  for (const r of rows) {
    assert.match(r.name, name);
    assert.ok(Number.isFinite(r.figure) && r.figure > 0, `${r.name}: figure ${r.figure}`);
    assert.ok(
      r.baseline !== null && Number.isFinite(r.baseline) && r.baseline > 0,
      `${r.name}: baseline ${r.baseline}`,
    );
    assert.ok(r.unit && r.baselineUnit && r.target && r.note, `${r.name}: every field filled`);
    assert.equal(typeof r.met, 'boolean');
  }
}

describe('bench smoke (quick, no engine)', { timeout: 120_000 }, () => {
  it('ingest replays a synthesized stream and reports events/s beside JSON.parse', async () => {
    const rows = await ingest.run(ctx);
    assertFigures(rows, /^ingest( overhead: synthesized churn)?$/);
    assert.equal(rows[0]?.unit, 'events/s');
    assert.match(rows[0]?.note ?? '', /synthesized events/);
    // The churn's cost beside JSON.parse of the same lines, taken in turn.
    assert.equal(rows[1]?.unit, 'x JSON.parse');
    assert.match(rows[1]?.note ?? '', /ratios( \d+\.\d+,?)+/);
  });

  it('decision answers from a synthesized model and times df beside it', async () => {
    const rows = await decision.run(ctx);
    assertFigures(rows, /^decision latency$/);
    assert.match(rows[0]?.note ?? '', /candidates/);
  });
});
