import { open } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { LayerwardenError } from '../errors.js';
import { auditSection, renderAudit } from '../report/audit.js';
import { clusterSection } from '../report/cluster.js';
import { nodeLabel, renderCluster } from '../report/cluster-render.js';
import { boundedLines } from '../report/read-lines.js';
import { type LogReading, type NodeReading, readLogs } from '../report/read-log.js';
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
      'pull evidence and the eviction audit, rebuilt from saved log streams (NDJSON files, or - for stdin); several nodes: per node and for the cluster',
    )
    .argument('<files...>', 'the saved log streams (one per node, or merged), or - for stdin')
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
      action(async (files: string[], opts: { reportFormat?: ReportFormat; json?: boolean }) => {
        if (opts.json && opts.reportFormat && opts.reportFormat !== 'json')
          throw new LayerwardenError(
            'usage',
            `--json and --report-format ${opts.reportFormat} ask for two formats: give one`,
          );
        const format: ReportFormat = opts.json ? 'json' : (opts.reportFormat ?? 'text');
        const sources: Array<{ name: string; input: NodeJS.ReadableStream; close: () => Promise<void> }> = [];
        try {
          for (const file of files)
            sources.push({ name: file === '-' ? 'stdin' : file, ...(await openLog(file)) });
        } catch (err) {
          for (const s of sources) await s.close();
          throw err;
        }
        const name = sources.map((s) => s.name).join(', ');
        let read: { all: LogReading; nodes: NodeReading[] };
        try {
          read = await readLogs(
            // One at a time (a generator reads nothing before its turn), each line bounded in memory.
            sources.map((s) => ({
              name: s.name,
              lines: boundedLines(s.input as AsyncIterable<Uint8Array>, s.name),
            })),
          );
        } catch (err) {
          if (err instanceof LayerwardenError) throw err;
          throw new LayerwardenError('internal', `reading ${name}: ${(err as Error).message}`, {
            cause: err,
          });
        } finally {
          for (const s of sources) await s.close();
        }
        const reading = read.all;
        if (reading.records === 0)
          throw new LayerwardenError(
            'usage',
            `${name} is not a layerwarden log stream (${reading.lines === 0 ? 'it is empty' : 'no line is a log record'})`,
          );
        const audit = auditSection(reading.audited);
        const style = styleFor(process.stdout);
        const single = () =>
          format === 'json'
            ? `${JSON.stringify({ type: 'report', ...reading.summary, audit })}\n`
            : `${renderSummary(reading.summary, format, style)}\n${renderAudit(audit, format)}`;
        process.stdout.write(read.nodes.length > 1 ? clusterReport(read, format, style) : single());
        if (reading.bad > 0)
          process.stderr.write(
            `layerwarden: skipped ${reading.bad} unreadable line${reading.bad === 1 ? '' : 's'} of ${name} (first: line ${reading.firstBad})\n`,
          );
      }),
    );
}

/** Several nodes: each node's summary and audit, then the cluster's (all records) and the cluster table. */
function clusterReport(
  read: { all: LogReading; nodes: NodeReading[] },
  format: ReportFormat,
  style: ReturnType<typeof styleFor>,
): string {
  const cluster = clusterSection(
    read.nodes.map((n) => ({ node: n.node, totals: n.reading.summary.totals, records: n.reading.audited })),
  );
  const audit = auditSection(read.all.audited);
  if (format === 'json')
    return `${JSON.stringify({
      type: 'report',
      ...read.all.summary,
      audit,
      nodes: read.nodes.map((n) => ({
        node: n.node,
        ...n.reading.summary,
        audit: auditSection(n.reading.audited),
      })),
      cluster,
    })}\n`;
  const title = (t: string) => (format === 'markdown' ? `# ${t}\n\n` : `${t}\n`);
  const parts = read.nodes.map(
    (n) =>
      `${title(`Node ${nodeLabel(n.node)}`)}${renderSummary(n.reading.summary, format, style)}\n${renderAudit(auditSection(n.reading.audited), format)}`,
  );
  parts.push(
    `${title(`Cluster (${read.nodes.length} nodes)`)}${renderSummary(read.all.summary, format, style)}\n${renderAudit(audit, format)}\n${renderCluster(cluster, format, style)}`,
  );
  return parts.join('\n');
}
