import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addToSummary, emptySummary, type PullRow } from '../../src/report/pull-report.js';
import { readRecord } from '../../src/report/read-record.js';
import { createLivePrinter } from '../../src/report/render-line.js';
import { renderSummary } from '../../src/report/render-summary.js';
import { formatBytes, styleFor } from '../../src/report/style.js';

const cold: PullRow = {
  ref: '127.0.0.1:5000/lw/app:1',
  image: 'sha256:0123456789abcdef0123',
  registry: '127.0.0.1:5000',
  class: 'cold',
  layers: { total: 3, new: 3 },
  bytes: { downloaded: 1_990_280, reused: 0, known: true },
  stacks: ['ci-7'],
  at: '2025-06-01T12:00:00.123Z',
};
const warm: PullRow = {
  ...cold,
  class: 'warm',
  upToDate: true,
  layers: { total: 3, new: 0 },
  bytes: { downloaded: 0, reused: 1_990_280, known: true },
  stacks: [],
  at: '2025-06-01T12:00:05.000Z',
};
const plain = { color: false };
const ESC = '\u001b[';

function lines(format: 'text' | 'json' | 'markdown', rows: PullRow[], style = plain): string[] {
  const out: string[] = [];
  const print = createLivePrinter(format, (s) => out.push(s), style);
  for (const r of rows) print(r);
  return out.join('').trimEnd().split('\n');
}

function summaryOf(records: unknown[]) {
  const s = emptySummary();
  for (const r of records) {
    const item = readRecord(r);
    assert.ok(typeof item !== 'string', JSON.stringify(r));
    addToSummary(s, item);
  }
  return s;
}

describe('report rendering', () => {
  it('prints one plain line per pull when not on a terminal', () => {
    const [a, b] = lines('text', [cold, warm]);
    assert.equal(
      a,
      '2025-06-01 12:00:00Z  cold     127.0.0.1:5000/lw/app:1  layers 3/3 new, downloaded 1.99 MB, reused 0 B  (runs: ci-7)',
    );
    assert.match(b!, /warm .*layers 0\/3 new, downloaded 0 B, reused 1.99 MB {2}\(up to date\)$/);
    assert.ok(!a!.includes(ESC));
  });

  it('colours the class on a terminal, and only there', () => {
    assert.ok(lines('text', [cold], { color: true })[0]!.includes(`${ESC}31mcold`));
    assert.deepEqual(styleFor({ isTTY: true }, {}), { color: true });
    assert.deepEqual(styleFor({ isTTY: false }, {}), { color: false });
    assert.deepEqual(styleFor({ isTTY: true }, { NO_COLOR: '1' }), { color: false });
  });

  it('prints NDJSON pull lines and a JSON summary with pulls and totals', () => {
    const out = lines('json', [cold, warm]).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      out.map((o) => [o.type, o.class]),
      [
        ['pull', 'cold'],
        ['pull', 'warm'],
      ],
    );
    const summary = summaryOf([
      { event: 'pull', ...cold },
      { event: 'pull', ...warm },
    ]);
    const doc = JSON.parse(renderSummary(summary, 'json', plain)) as {
      pulls: Array<Record<string, unknown>>;
      totals: Record<string, number>;
    };
    assert.deepEqual(
      doc.pulls.map(({ ref, image, class: c, layers, bytes, at }) => ({
        ref,
        image,
        class: c,
        layers,
        bytes,
        at,
      })),
      [cold, warm].map(({ ref, image, class: c, layers, bytes, at }) => ({
        ref,
        image,
        class: c,
        layers,
        bytes,
        at,
      })),
    );
    assert.deepEqual(
      { cold: doc.totals.cold, partial: doc.totals.partial, warm: doc.totals.warm },
      { cold: 1, partial: 0, warm: 1 },
    );
    assert.equal(doc.totals.bytesDownloaded, 1_990_280);
    assert.equal(doc.totals.bytesReused, 1_990_280);
  });

  it('prints markdown rows under one header', () => {
    const out = lines('markdown', [cold, warm]);
    assert.equal(out.filter((l) => l.startsWith('| time')).length, 1);
    assert.equal(out.length, 4);
    assert.match(
      out[2]!,
      /^\| 2025-06-01 12:00:00Z \| \*\*cold\*\* \| `127.0.0.1:5000\/lw\/app:1` \| `0123456789ab` \| 3\/3 \|/,
    );
  });

  it('summarises per class, per image and per deploy; a redeploy with no pull downloaded nothing', () => {
    const summary = summaryOf([
      { event: 'pull', ...cold },
      { event: 'pull', ...warm },
      {
        event: 'service.converged',
        service: 'ci_web',
        stack: 'ci',
        cause: 'create',
        seconds: 2.5,
        pulls: [{ ref: cold.ref, class: 'cold' }],
        layersDownloaded: 3,
        bytesDownloaded: 1_990_280,
      },
      {
        event: 'service.converged',
        service: 'ci_web',
        stack: 'ci',
        cause: 'create',
        seconds: 0.8,
        pulls: [],
      },
      {
        event: 'pull.budget',
        registry: 'docker.io',
        pulls: 160,
        budget: 200,
        windowHours: 6,
        threshold: 'near',
      },
    ]);
    const text = renderSummary(summary, 'text', plain);
    assert.ok(!text.includes(ESC));
    assert.match(
      text,
      /^Pull summary: 2 pulls: 1 cold, 0 partial, 1 warm\n {2}downloaded 1.99 MB, reused 1.99 MB \(50 % served locally\)/,
    );
    assert.match(
      text,
      /ci_web \(stack ci\) {2}create, stable after 2.5 s {2}1 pull: 1 cold; 3 layers downloaded, 1.99 MB/,
    );
    assert.match(
      text,
      /ci_web \(stack ci\) {2}create, stable after 0.8 s {2}no pull \(image already here\): nothing downloaded/,
    );
    assert.match(text, /docker.io {2}near: 160 pulls in 6 h \(budget 200\)/);
    const md = renderSummary(summary, 'markdown', plain);
    assert.match(md, /^## Pull summary\n/);
    assert.match(md, /### By deploy\n\n\| service \| cause \| stable after \| pulls \|/);
    assert.match(md, /\| `0123456789ab` \| 127.0.0.1:5000\/lw\/app:1 \| 2 \| 1 \| 0 \| 1 \|/);
  });

  it('formats bytes in decimal units', () => {
    assert.deepEqual([0, 999, 1000, 1_990_280, 21_000_000, 123_456_789_000].map(formatBytes), [
      '0 B',
      '999 B',
      '1.00 kB',
      '1.99 MB',
      '21.0 MB',
      '123 GB',
    ]);
  });
});
