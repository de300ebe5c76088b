import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lw-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function layerwarden(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', BIN, ...args], {
    input: input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const pull = (cls: string, downloaded: number, reused: number) =>
  JSON.stringify({
    level: 'info',
    time: '2025-06-01T12:00:00.000Z',
    name: 'layerwarden',
    event: 'pull',
    ref: 'reg.example/app:1',
    registry: 'reg.example',
    image: 'sha256:abc',
    class: cls,
    layers: { total: 2, new: cls === 'cold' ? 2 : 0 },
    bytes: { downloaded, reused, known: true },
    stacks: [],
    at: '2025-06-01T12:00:00.000Z',
    msg: 'pull',
  });

describe('layerwarden report', () => {
  it('rebuilds the summary from a saved log, skipping bad lines with one warning', () => {
    const file = join(dir, 'log.ndjson');
    writeFileSync(
      file,
      [pull('cold', 900, 0), '{"event":"stream.up"}', 'garbage {', pull('warm', 0, 900), ''].join('\n'),
    );
    const r = layerwarden(['report', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { totals: Record<string, number> };
    assert.deepEqual(
      [doc.totals.cold, doc.totals.warm, doc.totals.bytesDownloaded, doc.totals.bytesReused],
      [1, 1, 900, 900],
    );
    assert.equal(r.stderr, `layerwarden: skipped 1 unreadable line of ${file} (first: line 3)\n`);
  });

  it('reads stdin for -, in text by default', () => {
    const r = layerwarden(['report', '-'], `${pull('cold', 900, 0)}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Pull summary: 1 pull: 1 cold, 0 partial, 0 warm\n/);
    assert.equal(r.stderr, '');
  });

  it('exits 2 with one line for a missing file, a directory, or a file that is no log stream', () => {
    for (const [arg, why] of [
      [join(dir, 'nope.ndjson'), 'no such file'],
      [dir, 'is a directory'],
    ] as const) {
      const r = layerwarden(['report', arg]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', `layerwarden: cannot read ${arg}: ${why}\n`]);
    }
    const r = layerwarden(['report', '-'], 'hello\nworld\n');
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  });

  it('exits 2 with one line for an endless line, JSON that is no log, or an empty input', () => {
    // /dev/zero never ends its first line: the reader stops at 1 MiB instead of buffering forever.
    const zero = layerwarden(['report', '/dev/zero']);
    assert.deepEqual(
      [zero.code, zero.stdout, zero.stderr],
      [2, '', 'layerwarden: /dev/zero: line 1 is longer than 1 MiB: not a layerwarden log stream\n'],
    );
    const long = layerwarden(['report', '-'], `${pull('cold', 1, 0)}\n${'x'.repeat(2 * 1024 * 1024)}\n`);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /^layerwarden: stdin: line 2 is longer than 1 MiB/);
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ diskHigh: 80, tz: 'UTC' }, null, 2));
    for (const [arg, input] of [
      [config, ''],
      ['-', '{"diskHigh": 80}\n'],
      ['-', ''],
    ] as const) {
      const r = layerwarden(['report', arg], input);
      assert.equal(r.code, 2, `${arg}: ${r.stderr}`);
      assert.match(r.stderr, /is not a layerwarden log stream/);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
    }
  });

  it('exits 2 when --json and --report-format ask for different formats', () => {
    const r = layerwarden(
      ['report', '-', '--json', '--report-format', 'markdown'],
      `${pull('cold', 1, 0)}\n`,
    );
    assert.deepEqual([r.code, r.stdout], [2, '']);
    assert.match(r.stderr, /--json and --report-format markdown/);
    const same = layerwarden(['report', '-', '--json', '--report-format', 'json'], `${pull('cold', 1, 0)}\n`);
    assert.equal(same.code, 0, same.stderr);
  });

  it('exits 2 for an unknown format', () => {
    const r = layerwarden(['report', '-', '--report-format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected text\|json\|markdown/);
  });
});
