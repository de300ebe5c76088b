import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { LayerwardenError } from '../errors.js';
import { auditSection, parseLogLine, renderAudit } from '../report/audit.js';
import type { AuditFormat } from '../report/audit-render.js';
import { action } from './shared.js';

/**
 * `layerwarden audit <file|->`: the eviction audit of a saved log stream. Temporary home of the audit
 * section until `report` takes it in.
 */
export function auditReportCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'eviction audit of a saved log stream: evictions by actor, during runs, re-pulls they caused, prune decisions',
    )
    .argument('<file>', 'NDJSON log file, or - for standard input')
    .option('--json', 'print the audit section as JSON (same as --format json)')
    .addOption(
      new Option('--format <format>', 'text, json or markdown').default('text').argParser((v: string) => {
        if (v !== 'text' && v !== 'json' && v !== 'markdown')
          throw new InvalidArgumentError('expected text, json or markdown');
        return v;
      }),
    )
    .action(
      action(async (file: string, opts: { json?: boolean; format: AuditFormat }) => {
        const { records, skipped } = await readRecords(file);
        const section = auditSection(records);
        const format: AuditFormat = opts.json ? 'json' : opts.format;
        process.stdout.write(renderAudit(section, format));
        if (skipped > 0)
          process.stderr.write(`layerwarden: skipped ${skipped} lines that are not JSON records\n`);
      }),
    );
}

/** Streams the file line by line (a months-long log need not fit in memory as text). */
async function readRecords(file: string): Promise<{ records: Record<string, unknown>[]; skipped: number }> {
  const input = file === '-' ? process.stdin : createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    if (file === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new LayerwardenError('usage', `cannot read ${file}: ${err.code ?? err.message}`, { cause: err }),
      ),
    );
  });
  await opened;
  const records: Record<string, unknown>[] = [];
  let skipped = 0;
  // Only audited records are kept: pino's other lines are dropped as they are read.
  const wanted = new Set(['eviction', 'pull', 'engine.prune', 'prune.decision']);
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    const r = parseLogLine(line);
    if (r === undefined) continue;
    if (r === null) skipped++;
    else if (wanted.has(String(r.event))) records.push(r);
  }
  return { records, skipped };
}
