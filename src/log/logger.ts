import pino, { type DestinationStream, type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface LogTarget {
  /** `-` or undefined: stdout; `stderr`: standard error; otherwise a file path (appended, reopened on SIGHUP). */
  file?: string;
  level: LogLevel;
  /** Write here instead (tests read the records from memory); `reopen` and `flush` do nothing then. */
  stream?: DestinationStream;
}

/** The record format: level as a label, ISO time, `name`; no pid or hostname. Shared by every destination. */
const OPTIONS = (level: LogLevel): pino.LoggerOptions => ({
  level,
  base: { name: 'layerwarden' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

/** A pino logger writing NDJSON records; every audited record carries a stable `event` name. */
export function createLogger(target: LogTarget): { logger: Logger; reopen: () => void; flush: () => void } {
  if (target.stream)
    return { logger: pino(OPTIONS(target.level), target.stream), reopen: () => {}, flush: () => {} };
  // Synchronous writes: an audit log must keep its order and its last line before an exit. With async
  // writes, flushSync during a pending write let later lines land first (seen in a test). The agent
  // writes a few records a second, so the cost is nothing.
  const dest =
    target.file === undefined || target.file === '-'
      ? pino.destination({ dest: 1, sync: true })
      : target.file === 'stderr'
        ? pino.destination({ dest: 2, sync: true })
        : pino.destination({ dest: target.file, sync: true, mkdir: true, append: true });
  const logger = pino(OPTIONS(target.level), dest);
  return { logger, reopen: () => dest.reopen(), flush: () => dest.flushSync() };
}

const boundNode = new WeakSet<Logger>();

/**
 * From the first engine info on, every record names the engine that wrote it, `node: { name, id }`, so
 * the logs of a cluster's nodes stay apart when merged (every node may report the same `name`: the
 * engine id tells them apart). Binds once per logger; true once bound.
 */
export function bindNode(logger: Logger, engine: { name: string; id: string } | undefined): boolean {
  if (boundNode.has(logger)) return true;
  if (!engine?.id) return false;
  boundNode.add(logger);
  logger.setBindings({ node: { name: engine.name, id: engine.id } });
  return true;
}
