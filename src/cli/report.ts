import { open } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { LayerwardenError } from '../errors.js';
import { auditSection, renderAudit } from '../report/audit.js';
import { boundedLines } from '../report/read-lines.js';
import { readLog } from '../report/read-log.js';
import { renderSummary } from '../report/render-summary.js';
import { REPORT_FORMATS, type ReportFormat, styleFor } from '../report/style.js';
import { action } from './shared.js';

/** Opens the saved log, or stdin for `-`; a file that cannot be read is a usage error (exit 2). */
async function openLog(file: string): Promise<{ input: NodeJS.ReadableStream; close: () => Promise<void> }> {
  if (file === '-') return { input: process.stdin, close: async () => {} };
  try {
    const handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return { input: handle.createReadStream(), close: () => handle.close() };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message;
    throw new LayerwardenError('usage', `cannot read ${file}: ${why}`, { cause: err });
  }
}

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'pull evidence and the eviction audit, rebuilt from a saved log stream (NDJSON file, or - for stdin)',
    )
    .argument('<file>', 'the saved log stream, or - for stdin')
    .option(
      '--report-format <format>',
      `output format: ${REPORT_FORMATS.join(', ')} (default text)`,
      (v: string) => {
        if (!REPORT_FORMATS.includes(v as ReportFormat))
          throw new InvalidArgumentError(`expected ${REPORT_FORMATS.join('|')}`);
        return v;
      },
    )
    .option('--json', 'same as --report-format json')
    .action(
      action(async (file: string, opts: { reportFormat?: ReportFormat; json?: boolean }) => {
        if (opts.json && opts.reportFormat && opts.reportFormat !== 'json')
          throw new LayerwardenError(
            'usage',
            `--json and --report-format ${opts.reportFormat} ask for two formats: give one`,
          );
        const format: ReportFormat = opts.json ? 'json' : (opts.reportFormat ?? 'text');
        const { input, close } = await openLog(file);
        const name = file === '-' ? 'stdin' : file;
        let reading: Awaited<ReturnType<typeof readLog>>;
        try {
          reading = await readLog(boundedLines(input as AsyncIterable<Uint8Array>, name));
        } catch (err) {
          if (err instanceof LayerwardenError) throw err;
          throw new LayerwardenError('internal', `reading ${name}: ${(err as Error).message}`, {
            cause: err,
          });
        } finally {
          await close();
        }
        if (reading.records === 0)
          throw new LayerwardenError(
            'usage',
            `${name} is not a layerwarden log stream (${reading.lines === 0 ? 'it is empty' : 'no line is a log record'})`,
          );
        const audit = auditSection(reading.audited);
        process.stdout.write(
          format === 'json'
            ? `${JSON.stringify({ type: 'report', ...reading.summary, audit })}\n`
            : `${renderSummary(reading.summary, format, styleFor(process.stdout))}\n${renderAudit(audit, format)}`,
        );
        if (reading.bad > 0)
          process.stderr.write(
            `layerwarden: skipped ${reading.bad} unreadable line${reading.bad === 1 ? '' : 's'} of ${name} (first: line ${reading.firstBad})\n`,
          );
      }),
    );
}
