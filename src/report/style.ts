import type { PullClass } from '../model/types.js';

export type ReportFormat = 'text' | 'json' | 'markdown';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'markdown'];

/** How text is dressed: colours only for a terminal (and never with NO_COLOR). */
export interface Style {
  color: boolean;
}

/** Colours for a terminal, plain text otherwise (a pipe, a file, `NO_COLOR`). */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  return { color: stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb' };
}

const CLASS_COLOR: Record<PullClass, number> = { cold: 31, partial: 33, warm: 32, unknown: 90 };

/** The class, padded, in its colour on a terminal. */
export function paintClass(cls: PullClass, style: Style, width = 7): string {
  const padded = cls.padEnd(width);
  return style.color ? `\u001b[${CLASS_COLOR[cls]}m${padded}\u001b[0m` : padded;
}

export function bold(s: string, style: Style): string {
  return style.color ? `\u001b[1m${s}\u001b[0m` : s;
}

/** `0 B`, `950 B`, `1.99 MB`: decimal units, as docker prints sizes. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

export { shortId } from '../docker/short-id.js';

/** `2025-06-01T12:01:00.123Z` → `2025-06-01 12:01:00Z`. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Escapes a value for a markdown table cell. */
export function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
