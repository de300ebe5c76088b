import { addToSummary, emptySummary, type PullSummary } from './pull-report.js';
import { readRecord } from './read-record.js';

/** Records the audit section reads; other records are dropped as they are read. */
const AUDITED = new Set(['eviction', 'pull', 'engine.prune', 'prune.decision']);

export interface LogReading {
  summary: PullSummary;
  /** Non-empty lines read. */
  lines: number;
  /** Lines that are not JSON objects, or report records missing what the report needs. */
  bad: number;
  /** 1-based number of the first bad line. */
  firstBad?: number;
  /** Lines that are records of the log stream (any event). */
  records: number;
  /** The records the eviction audit needs (src/report/audit.ts). */
  audited: Record<string, unknown>[];
}

/**
 * Rebuilds the pull summary from a saved NDJSON log stream (the `pull`, `service.converged` and
 * `pull.budget` records carry everything the live report used), and keeps the records of the audit. Other records are passed over; a bad
 * line is counted and skipped, never fatal.
 */
export async function readLog(lines: AsyncIterable<string>): Promise<LogReading> {
  const reading: LogReading = { summary: emptySummary(), lines: 0, bad: 0, records: 0, audited: [] };
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    reading.lines++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const item = readRecord(parsed);
    // A log record names its event; any other JSON (a config file, an array) is not one.
    if (item === 'bad' || typeof (parsed as { event?: unknown }).event !== 'string') {
      reading.bad++;
      reading.firstBad ??= n;
      continue;
    }
    reading.records++;
    if (item !== 'other') addToSummary(reading.summary, item);
    const event = (parsed as { event?: unknown }).event;
    if (typeof event === 'string' && AUDITED.has(event))
      reading.audited.push(parsed as Record<string, unknown>);
  }
  return reading;
}
