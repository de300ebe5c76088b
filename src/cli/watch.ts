import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startAgent } from '../agent/agent.js';
import { startBoundaryRunner } from '../agent/boundary-runner.js';
import { parseDuration } from '../config/duration.js';
import { createDockerodePort } from '../docker/dockerode-port.js';
import { createLogger, logNote } from '../log/logger.js';
import { loadState } from '../state/state-file.js';
import { pruneSettings, scheduleOf } from './prune-config.js';
import { action, configFrom, idlePolicy, withSharedOptions } from './shared.js';

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
      .option('--no-prune', 'observe only (needs no write access to the engine)')
      .option('--dry-run', 'decide, but remove nothing'),
  ).action(
    action(async (opts: Record<string, unknown>) => {
      const { config } = configFrom(opts);
      const schedule = scheduleOf(config);
      const { logger, reopen, flush } = createLogger({
        level: config.logLevel,
        ...(config.logFile && { file: config.logFile }),
      });
      const now = Date.now();
      const { state, warning, movedTo } = await loadState(config.stateFile, now);
      if (warning) logger.warn({ event: 'state.moved', reason: warning, to: movedTo }, 'state.moved');
      const port = createDockerodePort(config.dockerHost);
      const agent = startAgent({ config, port, logger, state, policy: idlePolicy(config) });
      const pruneMode = opts.prune === false ? 'off' : opts.dryRun ? 'dry-run' : 'on';
      const runner = startBoundaryRunner({
        agent,
        port,
        schedule,
        policy: idlePolicy(config),
        settings: pruneSettings(config),
        mode: pruneMode,
        log: (note) => logNote(logger, note),
      });
      // The prune first: one under way stops before its next removal, then the agent saves its state.
      const stopAll = () => runner.stop().then(() => agent.stop());
      logger.info(
        {
          event: 'agent.start',
          dockerHost: config.dockerHost,
          stateFile: config.stateFile,
          log: config.logFile ?? 'stdout',
          prune: pruneMode,
          schedule: { cron: schedule.cron, tz: schedule.tz, windowMs: schedule.windowMs },
          nextBoundary: new Date(runner.nextBoundary()).toISOString(),
        },
        `layerwarden watching ${config.dockerHost}; log to ${config.logFile ?? 'stdout'}; state in ${config.stateFile}`,
      );

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (why: string) => {
          if (stopping) {
            // A second signal: the operator means it.
            process.exitCode = 130;
            flush();
            process.exit();
          }
          stopping = true;
          logger.info({ event: 'agent.stop', reason: why }, 'agent.stop');
          const hard = setTimeout(() => {
            logger.error({ event: 'agent.stop-timeout' }, 'agent.stop-timeout');
            flush();
            process.exit(1);
          }, 10_000);
          hard.unref();
          stopAll().finally(() => {
            flush();
            process.off('SIGINT', onInt);
            process.off('SIGTERM', onTerm);
            process.off('SIGHUP', onHup);
            if (timer) clearTimeout(timer);
            clearTimeout(hard);
            resolve();
          });
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        const onHup = () => reopen();
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
        process.on('SIGHUP', onHup);
        const timer =
          typeof opts.for === 'number' ? setTimeout(() => stop('--for elapsed'), opts.for) : undefined;
      });
    }),
  );
}
