import type { Logger } from 'pino';
import type { Observable, Subscription } from 'rxjs';
import type { StampedRecord } from './record-stream.js';
import type { LogRecord } from './record-types.js';

/** Writes one record as a log line at its level (info when it names none); `msg` is the event name unless given. */
export function writeRecord(logger: Logger, record: LogRecord, msg?: string): void {
  const { level = 'info', event, ...fields } = record;
  logger[level]({ event, ...fields }, msg ?? event);
}

/** The logger as a subscriber of the record stream. */
export function logRecords(records$: Observable<StampedRecord>, logger: Logger): Subscription {
  return records$.subscribe(({ record, msg }) => writeRecord(logger, record, msg));
}
