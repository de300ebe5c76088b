import type { PullRow } from './pull-report.js';
import { cell, formatBytes, paintClass, type ReportFormat, type Style, shortId, shortTime } from './style.js';

const MD_HEADER = [
  '| time | class | ref | image | new/total layers | downloaded | reused | note |',
  '|---|---|---|---|---|---|---|---|',
];

/** What a pull line adds after the figures: a repeat, up to date, a moved tag, the live runs. */
function remarks(row: PullRow): string[] {
  const out: string[] = [];
  if (row.repeatOf) out.push(`repeat of ${shortTime(row.repeatOf)}`);
  else if (row.upToDate) out.push('up to date');
  if (row.previous) out.push(`tag moved from ${shortId(row.previous)}`);
  if (!row.bytes.known && row.class !== 'unknown') out.push('bytes unknown');
  if (row.stacks.length > 0) out.push(`runs: ${row.stacks.join(', ')}`);
  return out;
}

/** One line of text for a pull, as it happens. */
export function pullLineText(row: PullRow, style: Style): string {
  const head = `${shortTime(row.at)}  ${paintClass(row.class, style)}  ${row.ref}`;
  if (row.class === 'unknown') return `${head}  (image gone before it could be inspected)`;
  const figures = `layers ${row.layers.new}/${row.layers.total} new, downloaded ${formatBytes(row.bytes.downloaded)}, reused ${formatBytes(row.bytes.reused)}`;
  const notes = remarks(row);
  return `${head}  ${figures}${notes.length ? `  (${notes.join('; ')})` : ''}`;
}

/** One markdown table row for a pull. */
export function pullRowMarkdown(row: PullRow): string {
  const unknown = row.class === 'unknown';
  return `| ${[
    shortTime(row.at),
    `**${row.class}**`,
    `\`${cell(row.ref)}\``,
    row.image ? `\`${shortId(row.image)}\`` : '',
    unknown ? '' : `${row.layers.new}/${row.layers.total}`,
    unknown ? '' : formatBytes(row.bytes.downloaded),
    unknown ? '' : formatBytes(row.bytes.reused),
    cell((unknown ? ['image gone before it could be inspected'] : remarks(row)).join('; ')),
  ].join(' | ')} |`;
}

/**
 * Prints pulls as they happen, one line each: text, NDJSON (`{"type":"pull",…}`) or markdown table
 * rows (the header before the first).
 */
export function createLivePrinter(format: ReportFormat, write: (s: string) => void, style: Style) {
  let rows = 0;
  return (row: PullRow) => {
    if (format === 'json') return write(`${JSON.stringify({ type: 'pull', ...row })}\n`);
    if (format === 'text') return write(`${pullLineText(row, style)}\n`);
    if (rows++ === 0) write(`${MD_HEADER.join('\n')}\n`);
    write(`${pullRowMarkdown(row)}\n`);
  };
}
