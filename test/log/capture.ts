import type { Logger } from 'pino';
import { createLogger } from '../../src/log/logger.js';

/** A logger in the agent's own format whose records are kept in memory, parsed. */
export function captureLogger(): {
  logger: Logger;
  records: Array<Record<string, unknown>>;
  lines: string[];
} {
  const lines: string[] = [];
  const records: Array<Record<string, unknown>> = [];
  const stream = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        lines.push(line);
        records.push(JSON.parse(line) as Record<string, unknown>);
      }
    },
  };
  const { logger } = createLogger({ level: 'trace', stream });
  return { logger, records, lines };
}
