import type { Observable } from 'rxjs';
import type { StampedRecord } from '../records/record-stream.js';
import { addToSummary, emptySummary, type PullSummary } from './pull-report.js';
import { readRecord } from './read-record.js';
import { createLivePrinter } from './render-line.js';
import { renderSummary } from './render-summary.js';
import type { ReportFormat, Style } from './style.js';

export interface LiveReportOptions {
  format: ReportFormat;
  style: Style;
  write: (s: string) => void;
}

export interface LiveReport {
  /** Stops listening and returns the summary, rendered. */
  finish(): string;
  summary(): PullSummary;
}

/**
 * `watch --report`: one line per pull as its record comes down the record stream, and the summary at the
 * end, built from the same records a saved log stream holds (so `report FILE` gives the same totals).
 */
export function startLiveReport(records$: Observable<StampedRecord>, opts: LiveReportOptions): LiveReport {
  const summary = emptySummary();
  const print = createLivePrinter(opts.format, opts.write, opts.style);
  const sub = records$.subscribe(({ record }) => {
    // Through JSON, as the log stream carries it: fields set to undefined are gone in both.
    const item = readRecord(JSON.parse(JSON.stringify(record)));
    if (typeof item === 'string') return;
    addToSummary(summary, item);
    if (item.kind === 'pull') print(item.row);
  });
  return {
    summary: () => summary,
    finish: () => {
      sub.unsubscribe();
      return renderSummary(summary, opts.format, opts.style);
    },
  };
}
