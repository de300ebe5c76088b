import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startAgent } from '../agent/agent.js';
import { startBoundaryRunner } from '../agent/boundary-runner.js';
import { engineAtStart, serveAgent } from '../agent/serve.js';
import { parseDuration } from '../config/duration.js';
import { logRecords } from '../records/log-records.js';
import { createRecordStream } from '../records/record-stream.js';
import { startLiveReport } from '../report/live-report.js';
import { REPORT_FORMATS, type ReportFormat, styleFor } from '../report/style.js';
import { enginePort, withAddress } from './engine.js';
import { runUntilStopped } from './lifecycle.js';
import { openLog } from './log-target.js';
import { pruneSettings, scheduleOf } from './prune-config.js';
import { action, configFrom, idlePolicy, withSharedOptions } from './shared.js';
import { openState } from './state-owner.js';

export function watchCommand(program: Command): void {
  withSharedOptions(
    program
      .command('watch')
      .description('the resident agent: live model, schedule, prune, log stream on stdout')
      .option('--for <duration>', 'stop after this long (e.g. 30s, 10m)', (v: string) => {
        const ms = parseDuration(v);
        if (ms === undefined || ms <= 0)
          throw new InvalidArgumentError('expected a duration like 30s or 10m');
        return ms;
      })
      .option(
        '--report',
        'print pulls (cold/partial/warm) as they happen and a summary at the end; the log goes to stderr or --log-file',
      )
      .option(
        '--report-format <format>',
        `report format: ${REPORT_FORMATS.join(', ')} (implies --report)`,
        (v: string) => {
          if (!REPORT_FORMATS.includes(v as ReportFormat))
            throw new InvalidArgumentError(`expected ${REPORT_FORMATS.join('|')}`);
          return v;
        },
      )
      .option('--no-prune', 'observe only (needs no write access to the engine)')
      .option('--dry-run', 'decide, but remove nothing'),
    'watch',
  ).action(
    action(async (opts: Record<string, unknown>) => {
      const { config: resolved, origins } = configFrom(opts);
      const reportFormat =
        (opts.reportFormat as ReportFormat | undefined) ?? (opts.report ? 'text' : undefined);
      // With a report on stdout, the log stream moves out of its way (to stderr unless --log-file).
      const config = reportFormat && !resolved.logFile ? { ...resolved, logFile: 'stderr' } : resolved;
      const schedule = scheduleOf(config);
      const port = enginePort(config, origins, false);
      const { logger, reopen, flush } = openLog(config, config.logFile, origins.logFile);
      // One stream of records for the whole run; the logger is its first subscriber.
      const records = createRecordStream();
      logRecords(records.records$, logger);
      const prune = opts.prune === false ? 'off' : opts.dryRun ? 'dry-run' : 'on';
      const { state, readOnly, release } = await openState(
        config,
        `watch${prune === 'on' ? '' : ` (${prune})`}`,
        {
          owner: prune === 'off' ? 'never' : 'always',
          records,
          now: Date.now(),
          origin: origins.stateFile,
        },
      ).catch((err: unknown) => {
        flush();
        throw err;
      });
      // An engine that answers but serves no version the agent speaks: one line and exit 3, not a
      // resident agent that can never list. One not answering yet is waited for as always. After the
      // state file: a path the host refuses is the operator's to fix whatever the engine does.
      const engine = await engineAtStart(port).catch(async (err: unknown) => {
        await release();
        flush();
        throw withAddress(err, config, origins);
      });
      const policy = idlePolicy(config);
      const agent = startAgent({ config, port, logger, records, state, policy, readOnly });
      const report =
        reportFormat &&
        startLiveReport(records.records$, {
          format: reportFormat,
          style: styleFor(process.stdout),
          write: (s) => process.stdout.write(s),
        });
      const runner = startBoundaryRunner({
        agent,
        port,
        schedule,
        policy,
        settings: pruneSettings(config),
        mode: prune,
      });
      // The prune first: one under way stops before its next removal, then the agent saves its state.
      const stopAll = () =>
        runner
          .stop()
          .then(() => agent.stop())
          .finally(release);
      const served = await serveAgent({
        agent,
        config,
        logger,
        policy,
        prune,
        schedule,
        processMetrics: true,
        ...(engine && { engine }),
      }).catch(async (err: unknown) => {
        await stopAll();
        flush();
        throw err;
      });
      // The log stream may be a file: say where on the terminal too.
      if (config.logFile && config.logFile !== 'stderr') process.stderr.write(`${served.startLine}\n`);

      await runUntilStopped({
        records,
        flush,
        reopen,
        ...(typeof opts.for === 'number' && { forMs: opts.for }),
        stop: async () => {
          await served.close();
          await stopAll();
          // The summary once the agent has stopped: every pull it classified is in.
          if (report) process.stdout.write(report.finish());
        },
      });
    }),
  );
}
