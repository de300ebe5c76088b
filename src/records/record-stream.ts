import { type Observable, Subject } from 'rxjs';
import type { LogRecord } from './record-types.js';

/** A record as it travels: the agent's clock when it was made, and a human sentence for `msg` if any. */
export interface StampedRecord {
  at: number;
  record: LogRecord;
  /** The line's `msg` when it is not the event name (agent.start's startup line). */
  msg?: string;
}

/**
 * The one stream of records an operator may read. Every producer (reducer notes on the ticks, the
 * executor, the boundary runner, the idle watch, the lifecycle, the state file) emits here; the logger,
 * the metrics, the live report and the HTTP status subscribe. Synchronous, so every subscriber sees the
 * records in the order they were made; it never completes (the last lifecycle records come after the
 * agent has stopped).
 */
export interface RecordStream {
  records$: Observable<StampedRecord>;
  emit(record: LogRecord, opts?: { at?: number; msg?: string }): void;
}

export function createRecordStream(clock: { now(): number } = Date): RecordStream {
  const subject = new Subject<StampedRecord>();
  return {
    records$: subject.asObservable(),
    emit: (record, opts) =>
      subject.next({
        at: opts?.at ?? clock.now(),
        record,
        ...(opts?.msg !== undefined && { msg: opts.msg }),
      }),
  };
}

/** The record of one event name. */
export type RecordOf<E extends LogRecord['event']> = Extract<LogRecord, { event: E }>;

/** The records of one event name, typed as such. */
export function recordsOf<E extends LogRecord['event']>(
  records: readonly LogRecord[],
  event: E,
): RecordOf<E>[] {
  return records.filter((r): r is RecordOf<E> => r.event === event);
}
