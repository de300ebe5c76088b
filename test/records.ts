import type { LogRecord } from '../src/records/record-types.js';

/**
 * A record read the way a log reader reads a line: any field by name. Tests check the fields of a record
 * whose event they have just picked; the producers stay typed by the union.
 */
// biome-ignore lint/suspicious/noExplicitAny: a test reads the fields of the records it just picked
export type AnyRecord = LogRecord & Record<string, any>;
