import { addToSummary, emptySummary, type PullSummary } from './pull-report.js';
import { readRecord } from './read-record.js';

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
}

/**
 * Rebuilds the pull summary from a saved NDJSON log stream: the `pull`, `service.converged` and
 * `pull.budget` records carry everything the live report used. Other records are passed over; a bad
 * line is counted and skipped, never fatal.
 */
export async function readLog(lines: AsyncIterable<string>): Promise<LogReading> {
  const reading: LogReading = { summary: emptySummary(), lines: 0, bad: 0, records: 0 };
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
    if (item === 'bad') {
      reading.bad++;
      reading.firstBad ??= n;
      continue;
    }
    reading.records++;
    if (item !== 'other') addToSummary(reading.summary, item);
  }
  return reading;
}
